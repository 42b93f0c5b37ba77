"""Clearance, derived at read time from check records, settings and the clock.

Pure functions: no database, no I/O. The expiry of a result is the first instant of
the day after its last valid day, China time (a certificate's dates are civil dates
there), so clearance changes exactly then, with no batch job.

Per check type, the record that counts is the latest decided one (clear or adverse,
by query date, then by when it was recorded; an adverse result whose bar lift has been
confirmed no longer counts at all):
  clear and unexpired → `clear`; clear and expired → `expired`, unless a newer pending
  query exists (`pending`); adverse → `adverse`; no decided record but a pending one →
  `pending`; nothing → `missing`.

What vendors see of a check (`public_status`, last valid day, expiring) comes from the
counting record's dates alone, the same for a clear and an adverse one: `present`
until its last valid day has passed, then `expired` (`pending` if a newer query is
pending).

Overall, in this order:
  `barred`  — any adverse criminal-record or sexual-offence result without a confirmed
              lift, whatever the mandatory set and whichever vendor employs the person;
  `expired` — a mandatory check's counting result (clear or adverse) has expired
              (recheck required);
  `pending` — a mandatory check is missing, pending, or adverse (non-barring types:
              a new clear result is needed);
  `cleared` — every mandatory check clear and unexpired; `cleared_until` is the
              earliest last valid day among them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from uuid import UUID

from service.personnel.models import BARRING_CHECK_TYPES, CHECK_TYPES
from service.personnel.settings import PersonnelSettings
from service.timeutil import CHINA_TZ, EXPIRING_WITHIN, today_in_china


@dataclass(frozen=True)
class CheckFact:
    """What clearance needs to know of one check record."""

    id: UUID
    check_type: str
    result: str
    query_date: date
    valid_until: date | None
    recorded_at: datetime
    lifted: bool = False  # an adverse result whose bar lift has been confirmed


@dataclass(frozen=True)
class CheckState:
    check_type: str
    status: str  # missing | clear | adverse | pending | expired
    mandatory: bool
    valid_until: date | None  # last valid day of the counting record, clear or adverse (None: none)
    expiring: bool  # the counting record's last valid day is within 30 days
    # What vendors and schools may see: missing | present | pending | expired. Derived
    # from dates alone, the same for a clear and an adverse record, so that nothing a
    # vendor sees (status, last valid day, expiring) tells one from the other.
    public_status: str


@dataclass(frozen=True)
class Clearance:
    status: str  # cleared | pending | expired | barred
    cleared_until: date | None
    checks: tuple[CheckState, ...]

    def missing(self) -> list[str]:
        return [c.check_type for c in self.checks if c.mandatory and c.status == "missing"]

    def expiring(self) -> list[str]:
        return [c.check_type for c in self.checks if c.mandatory and c.expiring]

    def expired(self) -> list[str]:
        return [c.check_type for c in self.checks if c.mandatory and c.public_status == "expired"]


def last_valid_day(fact: CheckFact, settings: PersonnelSettings) -> date:
    """The printed expiry, or the query date plus the type's validity in days."""
    if fact.valid_until is not None:
        return fact.valid_until
    return fact.query_date + timedelta(days=settings.validity_days[fact.check_type])


def expiry_instant(valid_until: date) -> datetime:
    """Midnight China time after the last valid day."""
    return datetime.combine(valid_until + timedelta(days=1), time(0), tzinfo=CHINA_TZ)


def _order(fact: CheckFact) -> tuple:
    return (fact.query_date, fact.recorded_at)


def check_state(check_type: str, facts: list[CheckFact], settings: PersonnelSettings, now: datetime) -> CheckState:
    mandatory = check_type in settings.mandatory_checks
    decided = [f for f in facts if f.result == "clear" or (f.result == "adverse" and not f.lifted)]
    latest = max(decided, key=_order, default=None)
    newer_pending = any(f.result == "pending" and (latest is None or _order(f) > _order(latest)) for f in facts)
    if latest is None:
        status = "pending" if newer_pending else "missing"
        return CheckState(check_type, status, mandatory, None, False, status)
    until = last_valid_day(latest, settings)
    if now >= expiry_instant(until):
        lapsed = "pending" if newer_pending else "expired"
        return CheckState(
            check_type, "adverse" if latest.result == "adverse" else lapsed, mandatory, until, False, lapsed
        )
    expiring = until - today_in_china(now) <= EXPIRING_WITHIN  # as for documents
    return CheckState(check_type, latest.result, mandatory, until, expiring, "present")


def is_barred(facts: Iterable[CheckFact]) -> bool:
    return any(f.result == "adverse" and f.check_type in BARRING_CHECK_TYPES and not f.lifted for f in facts)


def clearance(facts: Iterable[CheckFact], settings: PersonnelSettings, now: datetime) -> Clearance:
    facts = list(facts)
    by_type: dict[str, list[CheckFact]] = {t: [] for t in CHECK_TYPES}
    for fact in facts:
        by_type.setdefault(fact.check_type, []).append(fact)
    states = tuple(check_state(t, by_type[t], settings, now) for t in CHECK_TYPES)
    if is_barred(facts):
        return Clearance("barred", None, states)
    required = [s for s in states if s.mandatory]
    if any(s.public_status == "expired" for s in required):
        return Clearance("expired", None, states)
    if any(s.status != "clear" for s in required):
        return Clearance("pending", None, states)
    # Every required state is clear here, so each has its last valid day.
    until = min((s.valid_until for s in required if s.valid_until is not None), default=None)
    return Clearance("cleared", until, states)


#: What `cleared_until` needs of a check record, as a plain tuple (the lookup hot path
#: builds thousands per batch): (check_type, result, query_date, valid_until,
#: recorded_at, lifted).
FactTuple = tuple[str, str, date, "date | None", datetime, bool]


def cleared_until(
    facts: Iterable[FactTuple], settings: PersonnelSettings, now: datetime, today: date | None = None
) -> tuple[bool, date | None]:
    """`(clearance(...).status == "cleared", clearance(...).cleared_until)` — the only
    part of the clearance a lookup answers with — without building the per-check
    states: ~10× cheaper, for the person lookups. Same rules (a test compares it with
    `clearance` on random records): barred by any unlifted adverse barring result;
    otherwise every mandatory type's latest decided record (by query date, then
    recording) must be clear and unexpired. A newer pending query never changes a clear
    unexpired result, so pending records play no part here. `today`: the China date of
    `now`, if the caller has it (a batch computes it once)."""
    latest: dict[str, FactTuple] = {}
    for fact in facts:
        result = fact[1]
        if result == "adverse":
            if fact[5]:
                continue  # the bar was lifted: the record no longer counts
            if fact[0] in BARRING_CHECK_TYPES:
                return False, None
        elif result != "clear":
            continue
        current = latest.get(fact[0])
        if current is None or fact[2] > current[2] or (fact[2] == current[2] and fact[4] > current[4]):
            latest[fact[0]] = fact
    if today is None:
        today = today_in_china(now)
    until: date | None = None
    for check_type, validity in settings.mandatory_validity:
        found = latest.get(check_type)
        if found is None or found[1] != "clear":
            return False, None
        last = found[3] or found[2] + validity
        if today > last:  # now >= expiry_instant(last): midnight China time after the last day
            return False, None
        if until is None or last < until:
            until = last
    return True, until
