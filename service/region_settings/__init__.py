"""Per-region settings with inheritance from the parent region (county → city → province → defaults)."""

from service.region_settings.services import (
    FIELDS,
    EffectiveSettings,
    effective_settings,
    effective_settings_many,
    read_settings,
    resolve_settings,
    update_settings,
)

__all__ = [
    "effective_settings",
    "effective_settings_many",
    "EffectiveSettings",
    "FIELDS",
    "read_settings",
    "resolve_settings",
    "update_settings",
]
