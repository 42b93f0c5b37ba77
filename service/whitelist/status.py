"""What an entry's status is at an instant, from stored facts alone (pure, no I/O).

The stored interval says `active`, `suspended`, `revoked` or `superseded`. Read at an
instant `at`, an entry is:

- `revoked` while a revocation interval holds;
- `suspended` while a suspension holds and its optional end (`suspended_until`) has not
  come — a suspension with an end date lifts itself at that instant, no job needed;
- `expired` when otherwise active but `at` is at or past the entry's validity end, or
  any mandatory qualification document type of the entry's region has no document of
  the vendor valid on the China date of `at` (uploaded by then, `valid_from` reached:
  `state.document_counts`);
- `active` otherwise. A superseded entry (replaced by a later admission of the same
  item) does not count at all: the new entry speaks for the item.

For a vendor judged in a school's region (every entry whose region is the school's or
contains it), the answer is `active` when any entry is active; otherwise the strongest
reason it is not usable: `revoked` > `suspended` > `expired`; and `not_listed` when no
entry covered the region at that instant.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from service.timeutil import today_in_china

ACTIVE, SUSPENDED, REVOKED, EXPIRED, SUPERSEDED, NOT_LISTED = (
    "active",
    "suspended",
    "revoked",
    "expired",
    "superseded",
    "not_listed",
)
LOOKUP_STATUSES = (ACTIVE, SUSPENDED, REVOKED, EXPIRED, NOT_LISTED)
_STRENGTH = {REVOKED: 3, SUSPENDED: 2, EXPIRED: 1}


@dataclass(slots=True)  # not frozen: built per entry on the lookup path (never mutated)
class Interval:
    status: str
    entry_valid_until: datetime
    suspended_until: datetime | None = None


def documents_ok(mandatory_types: Iterable[str], latest_valid_until: Mapping[str, date], at: datetime) -> bool:
    """Every mandatory type has a document valid on the China date of `at`.

    `latest_valid_until` maps a document type to the latest `valid_until` among the
    vendor's documents of that type counting at `at` — uploaded by then and valid from
    that China date or earlier (`state.document_counts`): the last valid day, China time.
    """
    today = today_in_china(at)
    for doc_type in mandatory_types:
        last_day = latest_valid_until.get(doc_type)
        if last_day is None or last_day < today:
            return False
    return True


def entry_status(interval: Interval | None, at: datetime, documents_valid: bool) -> str:
    """The status of one entry at `at`; `interval` is the one containing `at` (None =
    the entry did not exist yet)."""
    if interval is None or interval.status == SUPERSEDED:
        return NOT_LISTED
    if interval.status == REVOKED:
        return REVOKED
    if interval.status == SUSPENDED and (interval.suspended_until is None or at < interval.suspended_until):
        return SUSPENDED
    if at >= interval.entry_valid_until or not documents_valid:
        return EXPIRED
    return ACTIVE


def vendor_status(entry_statuses: Iterable[str]) -> str:
    """The vendor's answer from the statuses of the entries covering the region."""
    statuses = [s for s in entry_statuses if s != NOT_LISTED]
    if not statuses:
        return NOT_LISTED
    if ACTIVE in statuses:
        return ACTIVE
    return max(statuses, key=lambda s: _STRENGTH.get(s, 0))
