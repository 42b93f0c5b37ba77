"""The one read of person lookups: people by blind index, their engagements and check
facts, their vendors' whitelist state, from one snapshot — coalesced across the
concurrent lookups of a worker (`people.py` judges what it read)."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

import msgspec

from service.applications import notice_due_sql, settle_due_notices
from service.coalesce import Coalescer
from service.db import Database
from service.lookup.cache import LookupCache, lookup_cache
from service.personnel import FactTuple, bar_lift_in_force_sql, engagement_in_force_sql, suspended_sql
from service.timeutil import today_in_china, utcnow
from service.whitelist import (
    ACTIVE,
    EntryRow,
    VendorState,
    entries_from_rows,
    evaluate,
    for_region,
    region_chain,
    vendor_state_exprs,
)

#: One read-only statement for one person, a batch, or the single lookups of several
#: requests at once (same statement whoever is asked about, found or not): $1 blind
#: indexes, $2 the instant, $3 the lookup state version of this worker's cached region
#: settings, $4 the version at which this worker's vendor cache holds every vendor
#: (`LookupCache.complete_version`), $5 the China date of the instant (an engagement
#: counts while in force: `personnel.rules.engagement_in_force`, whose SQL fragment
#: is composed in below). From one snapshot: a head row (kind 0: the
#: checkpoint size, the version, and — only when the vendor cache is not complete at
#: this version — the whitelist state in every region of every vendor currently engaging
#: those people, as JSON, every region_settings row only when the cached ones are
#: not of this version, and whether any public notice is over but not yet concluded —
#: then the reader concludes it and reads again), then one row per person found (kind 1) with the credit codes
#: and regions of their current engagements' vendors (oldest first) and their check
#: facts as parallel arrays of scalars — binary, decoded by asyncpg in C (JSON for 2,500
#: facts cost PostgreSQL ~8 ms to build and Python as much to read; arrays of records
#: cost PostgreSQL ~60 % more per person than these arrays of scalars).
#:
#: Every asked index gives exactly one person row (`asked` says which it answers): the
#: person with that index, or — for a number nobody recorded — a decoy, the person with
#: the next index in order (the first one past the last), read in full like a real one
#: and then answered `not_cleared`. An unknown number thus costs what a known number
#: with a wrong name costs: one probe of the same index, one row, its engagements and
#: facts, its vendors' state, its clearance computed (no timing oracle, tested by
#: comparing the statement's plans with their row counts). Blind indexes are keyed
#: hashes, so the decoy is an arbitrary person, no more expensive than a typical one.
#:
#: `unnest((SELECT $1))`, not `unnest($1)`: the plan is the same whatever the number of
#: indexes, but a planner that sees the array estimates a one-person call cheaper than
#: the generic plan and so planned every call afresh (~0.8 ms of PostgreSQL's CPU for a
#: 0.1 ms read; bench: docs/performance.md). Hidden behind a sub-select, every call costs
#: the planner the same, and the prepared statement keeps its generic plan
#: (tests/lookup/test_plans.py).
READ_PEOPLE = f"""
WITH p AS MATERIALIZED (SELECT k.asked, d.id, d.id_number_index, d.name, d.origin_region_code
                          FROM unnest((SELECT $1::text[])) AS k(asked)
                          CROSS JOIN LATERAL (
                               (SELECT id, id_number_index, name, origin_region_code FROM people
                                 WHERE id_number_index >= k.asked ORDER BY id_number_index LIMIT 1)
                               UNION ALL
                               (SELECT id, id_number_index, name, origin_region_code FROM people
                                 ORDER BY id_number_index LIMIT 1)
                               LIMIT 1) d)
SELECT 0 AS kind, (SELECT coalesce(max(size), 0) FROM audit_checkpoints) AS checkpoint_size,
       (SELECT version FROM lookup_state_version WHERE id = 1) AS state_version,
       CASE WHEN $4::bigint IS DISTINCT FROM (SELECT version FROM lookup_state_version WHERE id = 1)
            THEN (SELECT json_agg(json_build_array(v.id, v.credit_code, v.name,
                                                   {", ".join(vendor_state_exprs(regions=None, at="$2"))}))
                    FROM vendors v WHERE v.id = ANY(ARRAY(
                         SELECT DISTINCT vendor_id FROM engagements
                          WHERE person_id = ANY(ARRAY(SELECT id FROM p))
                            AND {engagement_in_force_sql("engagements", "$5")})))::text END AS vendors,
       CASE WHEN $3::bigint IS DISTINCT FROM (SELECT version FROM lookup_state_version WHERE id = 1)
            THEN (SELECT coalesce(json_agg(row_to_json(r)), '[]') FROM region_settings r)::text END AS settings,
       NULL::text AS id_number_index, NULL::text AS name, NULL::text AS origin_region_code,
       NULL::text[] AS vendor_codes, NULL::text[] AS vendor_regions, NULL::text[] AS check_types,
       NULL::text[] AS results, NULL::date[] AS query_dates, NULL::date[] AS valid_until,
       NULL::timestamptz[] AS recorded_at, NULL::boolean[] AS lifted, NULL::text AS asked,
       NULL::boolean AS suspended,
       EXISTS (SELECT 1 FROM applications a WHERE {notice_due_sql("a", "$2")}) AS notice_due
UNION ALL
SELECT 1, NULL, NULL, NULL, NULL, p.id_number_index, p.name, p.origin_region_code, e.codes, e.regions,
       c.check_types, c.results, c.query_dates, c.valid_until, c.recorded_at, c.lifted, p.asked,
       {suspended_sql("p")}, NULL
  FROM p
  CROSS JOIN LATERAL (SELECT array_agg(v.credit_code ORDER BY g.created_at, g.vendor_id) AS codes,
                             array_agg(v.region_code ORDER BY g.created_at, g.vendor_id) AS regions
                        FROM engagements g JOIN vendors v ON v.id = g.vendor_id
                       WHERE g.person_id = p.id AND {engagement_in_force_sql("g", "$5")}) e
  CROSS JOIN LATERAL (SELECT array_agg(c.check_type) AS check_types, array_agg(c.result) AS results,
                             array_agg(c.query_date) AS query_dates, array_agg(c.valid_until) AS valid_until,
                             array_agg(c.recorded_at) AS recorded_at,
                             array_agg(b.check_id IS NOT NULL) AS lifted
                        FROM background_checks c
                        -- at most one open-or-confirmed lift per check (uq_bar_lifts_check_open):
                        -- the join never repeats a check, and the planner may hash it
                        LEFT OUTER JOIN bar_lifts b ON b.check_id = c.id AND {bar_lift_in_force_sql("b")}
                       WHERE c.person_id = p.id) c
"""
# The vendors' JSON (msgspec parses the dates in C).
_VENDORS = msgspec.json.Decoder(list[tuple[UUID, str, str, list[EntryRow], dict[str, date], dict[str, list[str]]]])
# A person row's columns (then the six fact arrays, from column 10, the index asked, and
# whether the person's entry is suspended pending a complaint's investigation).
INDEX, NAME, ORIGIN, CODES, REGIONS, ASKED, SUSPENDED = 5, 6, 7, 8, 9, 16, 17
NOTICE_DUE = 18  # in the head row


def facts(person: Sequence[Any]) -> Iterable[FactTuple]:
    """(type, result, query date, valid until, recorded at, lifted) per check record,
    read once (by `cleared_until`)."""
    if person[10] is None:  # no check recorded
        return ()
    return zip(person[10], person[11], person[12], person[13], person[14], person[15])


@dataclass
class Snapshot:
    """What one READ_PEOPLE call read, shared by the requests it served."""

    at: datetime
    checkpoint: int
    people: dict[str, Any]  # blind index asked -> its row (the person's, or a decoy's)
    vendors: dict[str, VendorState]  # credit code -> state in every region (of the snapshot's version)
    open_memo: dict[tuple[str, str], bool]

    def vendor_open(self, credit_code: str, region_code: str) -> bool:
        """Some entry of the vendor covering the region is active at the read instant."""
        key = (credit_code, region_code)
        found = self.open_memo.get(key)
        if found is None:
            state = for_region(self.vendors[credit_code], region_chain(region_code))
            found = self.open_memo[key] = any(status == ACTIVE for _, status in evaluate(state, self.at))
        return found


class _PeopleReader(Coalescer[list[str], Snapshot]):
    """Coalesces the reads of concurrent person lookups in one worker: while one
    READ_PEOPLE call is in flight, the lookups arriving queue, and the next call reads
    all their people at once (each request then picks its own). Fewer round trips; the
    statement is the same for every lookup whatever the answer."""

    in_flight = 2
    MAX_INDEXES = 2_000

    def __init__(self, db: Database) -> None:
        super().__init__()
        self._db = db

    async def read(self, indexes: list[str]) -> Snapshot:
        return await self.submit(indexes)

    def _take(self, queue: deque[tuple[list[str], asyncio.Future]]) -> list[tuple[list[str], asyncio.Future]]:
        group, wanted = [queue.popleft()], set()
        wanted.update(group[0][0])
        while queue and len(wanted) + len(queue[0][0]) <= self.MAX_INDEXES:
            group.append(queue.popleft())
            wanted.update(group[-1][0])
        return group

    async def _serve(self, requests: list[list[str]]) -> list[Snapshot]:
        snapshot = await self._read(list({index for indexes in requests for index in indexes}))
        return [snapshot] * len(requests)

    async def _read(self, indexes: list[str]) -> Snapshot:
        """The vendors' state comes from this worker's vendor cache when the snapshot
        shows the version the cache holds every vendor at — then it is what the snapshot
        would have read. A vendor missing from it (its state has a time horizon that has
        passed) makes the read start again with the vendors' state in the statement."""
        cache = lookup_cache(self._db)
        complete = cache.complete_version
        settled = False
        while True:
            at = utcnow()
            pool = await self._db.raw_pool()
            async with pool.acquire() as conn:
                rows = await conn.fetch(READ_PEOPLE, indexes, at, cache.settings_version, complete, today_in_china(at))
            head = rows[0] if rows[0][0] == 0 else next(r for r in rows if r[0] == 0)
            if head[NOTICE_DUE] and not settled:
                # A notice is over (its vendor admitted at its end): conclude, read again.
                await settle_due_notices(self._db, at)
                settled, complete = True, cache.complete_version
                continue
            checkpoint, version = head[1], head[2]
            cache.observe(version, checkpoint)
            if head[4] is not None:
                cache.load_settings(version, msgspec.json.decode(head[4]))
            people = {r[ASKED]: r for r in rows if r[0] == 1}
            vendors: dict[str, VendorState] | None
            if head[3] is not None or complete != version:
                vendors = {
                    v[1]: VendorState(v[0], v[2], entries_from_rows(v[3]), v[4], {k: tuple(t) for k, t in v[5].items()})
                    for v in (_VENDORS.decode(head[3]) if head[3] is not None else ())
                }
            else:
                vendors = _cached_vendors(cache, people.values(), version, at)
                if vendors is None:
                    complete = None
                    continue
            return Snapshot(at, int(checkpoint), people, vendors, {})


def _cached_vendors(
    cache: LookupCache, people: Iterable[Sequence[Any]], version: int, at: datetime
) -> dict[str, VendorState] | None:
    """The state of every vendor engaging these people, from the cache — all of the
    snapshot's version — or None if any is missing."""
    vendors: dict[str, VendorState] = {}
    for person in people:
        for code in person[CODES] or ():
            if code not in vendors:
                found = cache.vendor(code, at)
                if found is None or found[0] != version:
                    return None
                vendors[code] = found[1]
    return vendors


def reader(db: Database) -> _PeopleReader:
    found = db.local.get("lookup.people_reader")
    if found is None:
        found = db.local["lookup.people_reader"] = _PeopleReader(db)
    return found
