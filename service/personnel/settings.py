"""Which checks are mandatory and how long a result stays valid, per region.

Both are region settings (`mandatory_checks`, `check_validity_days` in
service/region_settings), inherited county → city → province → default. Clearance takes
the settings as an argument, so it stays a pure function.

Defaults: all five check types are mandatory, and a result without a printed expiry is
valid for 365 days from its query date. The notice and the 2020 entry-query rules name
one year for the sexual-offence entry query (re-run yearly) and the health certificate;
a criminal-record query, a conduct reference and a mental-health assessment speak for
the time they were made, so the same yearly recheck is the sensible default for them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from types import MappingProxyType

from sqlmodel.ext.asyncio.session import AsyncSession

from service.personnel.models import CHECK_TYPES
from service.personnel.models import DEFAULT_VALIDITY_DAYS as MODEL_DEFAULT_VALIDITY_DAYS
from service.region_settings import EffectiveSettings, effective_settings, effective_settings_many

DEFAULT_VALIDITY_DAYS = MappingProxyType(dict(MODEL_DEFAULT_VALIDITY_DAYS))


@dataclass(frozen=True)
class PersonnelSettings:
    mandatory_checks: frozenset[str]
    validity_days: Mapping[str, int]

    @cached_property
    def mandatory_validity(self) -> tuple[tuple[str, timedelta], ...]:
        """(type, validity) of each mandatory check type, made once per settings object:
        a timedelta per check record was a quarter of a batch's clearance work."""
        return tuple((t, timedelta(days=self.validity_days[t])) for t in sorted(self.mandatory_checks))


DEFAULTS = PersonnelSettings(mandatory_checks=frozenset(CHECK_TYPES), validity_days=DEFAULT_VALIDITY_DAYS)


async def personnel_settings(session: AsyncSession, region_code: str | None) -> PersonnelSettings:
    """The settings in force in one region (`None`: no region applies, the defaults)."""
    if region_code is None:
        return DEFAULTS
    return from_effective(await effective_settings(session, region_code))


def from_effective(effective: EffectiveSettings) -> PersonnelSettings:
    return PersonnelSettings(
        mandatory_checks=effective.mandatory_checks, validity_days=MappingProxyType(dict(effective.check_validity_days))
    )


def strictest(settings: Iterable[PersonnelSettings]) -> PersonnelSettings:
    """A person working in several regions meets all of them: the union of mandatory
    checks and, per type, the shortest validity. No settings at all: the defaults."""
    settings = list(settings)
    if not settings:
        return DEFAULTS
    mandatory = frozenset().union(*(s.mandatory_checks for s in settings))
    validity = {t: min(s.validity_days.get(t, DEFAULT_VALIDITY_DAYS[t]) for s in settings) for t in CHECK_TYPES}
    return PersonnelSettings(mandatory_checks=mandatory, validity_days=MappingProxyType(validity))


async def settings_for_regions(session: AsyncSession, region_codes: Iterable[str]) -> PersonnelSettings:
    """The strictest settings of the given regions (the regions of a person's current vendors)."""
    codes = sorted(set(region_codes))
    if not codes:
        return await personnel_settings(session, None)
    return strictest([await personnel_settings(session, code) for code in codes])


async def settings_for_region_sets(
    session: AsyncSession, region_sets: Iterable[frozenset[str]]
) -> dict[frozenset[str], PersonnelSettings]:
    """`settings_for_regions` of each set, from one read of every region's settings."""
    sets = set(region_sets)
    effective = await effective_settings_many(session, {code for codes in sets for code in codes})
    return {
        codes: strictest([from_effective(effective[code]) for code in sorted(codes)]) if codes else DEFAULTS
        for codes in sets
    }
