"""Masking of personal data for display, audit and anything else a person may read.

Resident ID numbers are masked by `service.identifiers.id_number.mask_id_number`."""

from __future__ import annotations

from typing import overload


@overload
def mask_name(name: str) -> str: ...
@overload
def mask_name(name: str | None) -> str | None: ...


def mask_name(name: str | None) -> str | None:
    """Keep the family name (first character): enough to recognise, not to identify."""
    if not name:
        return name
    return name[0] + "*" * max(1, len(name) - 1)


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    if len(phone) <= 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
