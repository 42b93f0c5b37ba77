"""Per-process lookup caches that can never answer stale.

What a vendor lookup answers (the vendor's whitelist state for a region) and what a
person lookup needs besides the person (region settings) change rarely, and reading
them costs a round trip per lookup. Each worker keeps them here, tagged with the
**lookup state version** they were read at (`lookup_state_version`, bumped at commit
by every transaction that changes vendors, documents, service items, whitelist entries
or their status history, or region settings — migration 0010):

- a cached vendor state is used only while its version is this cache's version and the
  lookup instant is before its *horizon* (the next instant at which a stored status
  interval or document would start or end counting — e.g. midnight China time of a
  stored document's later `valid_from` — so the cache is equivalent to a fresh read at
  any instant);
- every receipt made from cached state is stored by `lookup_store_receipts` only if the
  version (and the audit checkpoint size put in the receipt) is still current, in the
  same statement that stores the receipt; otherwise the lookup reads afresh and signs
  again. So an answer from the cache is exactly the answer a fresh read would have
  given at the moment the receipt was stored: a revocation committed in any worker is
  seen by the next lookup in every worker;
- any statement that returns a newer version empties the cache.

The time-dependent part (entry validity, document expiry, clearance) is evaluated on
every lookup from the cached rows and the lookup's own instant.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import msgspec

from service.db import Database
from service.personnel import PersonnelSettings, from_effective, strictest
from service.region_settings import resolve_settings
from service.whitelist import VendorState

MAX_VENDORS = 50_000


class LookupCache:
    def __init__(self) -> None:
        self.version: int | None = None
        self.checkpoint_size: int | None = None
        self._vendors: dict[str, tuple[int, VendorState, datetime | None]] = {}
        # The version at which every vendor was read into `_vendors` (by the warmer):
        # while it is the current one, a vendor missing here does not exist.
        self.complete_version: int | None = None
        # (credit code, region) -> (version, valid until, the answer as canonical JSON)
        self._answers: dict[tuple[str, str], tuple[int, datetime | None, msgspec.Raw]] = {}
        self.settings_version: int | None = None
        self._settings_rows: dict[str, SimpleNamespace] = {}
        self._personnel: dict[frozenset[str], PersonnelSettings] = {}

    def observe(self, version: int | None, checkpoint_size: int | None = None) -> None:
        """A statement saw `version` (and the checkpoint size): a newer version empties
        the cache."""
        if version is not None and (self.version is None or version > self.version):
            self.version = version
            self._vendors.clear()
            self._answers.clear()
        if checkpoint_size is not None and (self.checkpoint_size is None or checkpoint_size > self.checkpoint_size):
            self.checkpoint_size = checkpoint_size

    # -- vendor state -------------------------------------------------------------------

    def vendor(self, credit_code: str, at: datetime) -> tuple[int, VendorState] | None:
        """The vendor's state in every region (narrow it with `state.for_region`)."""
        found = self._vendors.get(credit_code)
        if found is None:
            return None
        version, state, horizon = found
        if version != self.version or (horizon is not None and at >= horizon):
            return None
        return version, state

    def put_vendor(self, credit_code: str, version: int, state: VendorState, horizon: datetime | None) -> None:
        self.observe(version)
        if version != self.version:
            return  # read before a change another lookup has already seen
        if len(self._vendors) >= MAX_VENDORS:
            self._vendors.clear()
            self.complete_version = None
        self._vendors[credit_code] = (version, state, horizon)

    def mark_complete(self, version: int) -> None:
        """Every vendor has been put at `version` (the warmer's full pass)."""
        if version == self.version and len(self._vendors) < MAX_VENDORS:
            self.complete_version = version

    # -- vendor answers (the vendor state evaluated for a region) -----------------------

    def answer(self, credit_code: str, region_code: str, at: datetime) -> tuple[int, msgspec.Raw] | None:
        """The answer computed from the cached state for this region, while `at` is
        before the first instant it could change (see `put_answer`)."""
        found = self._answers.get((credit_code, region_code))
        if found is None:
            return None
        version, until, raw = found
        if version != self.version or (until is not None and at >= until):
            return None
        return version, raw

    def put_answer(
        self, credit_code: str, region_code: str, version: int, raw: msgspec.Raw, until: datetime | None
    ) -> None:
        """`until`: the next instant the answer's time-dependent parts can change (an
        entry's validity end, a suspension's end, a document's expiry); bounded here by
        the cached state's horizon."""
        state = self._vendors.get(credit_code)
        if state is None or state[0] != version or version != self.version:
            return
        horizon = state[2]
        if horizon is not None and (until is None or horizon < until):
            until = horizon
        if len(self._answers) >= MAX_VENDORS:
            self._answers.clear()
        self._answers[(credit_code, region_code)] = (version, until, raw)

    # -- region settings (person lookups) ----------------------------------------------

    def load_settings(self, version: int, rows: Iterable[Mapping[str, Any]]) -> None:
        """Every region_settings row, as read at `version`."""
        if self.settings_version is not None and version < self.settings_version:
            return
        self.settings_version = version
        self._settings_rows = {row["region_code"]: SimpleNamespace(**row) for row in rows}
        self._personnel.clear()

    def personnel_settings(self, region_codes: frozenset[str]) -> PersonnelSettings:
        """As `personnel.settings.settings_for_regions`, from the cached rows."""
        found = self._personnel.get(region_codes)
        if found is None:
            found = strictest(
                [from_effective(resolve_settings(code, self._settings_rows)) for code in sorted(region_codes)]
            )
            self._personnel[region_codes] = found
        return found


def lookup_cache(db: Database) -> LookupCache:
    found = db.local.get("lookup.cache")
    if found is None:
        found = db.local["lookup.cache"] = LookupCache()
    return found
