"""A vendor's whitelist state at an instant, read in one raw SQL statement.

This is the hot path of the lookups, so it goes straight to asyncpg (the ORM costs
3–4× as much Python per query, see STACK_NOTES): the lookups compose
`vendor_state_exprs` into their one statement, which returns the vendor, the
entries covering the caller's region with the status interval containing the instant
and their item, the latest validity end per document type among the documents counting
at the instant (`document_counts`: uploaded by then, `valid_from` reached), and the region settings
that decide the mandatory documents. `evaluate()` (pure) turns that into statuses.

Inside a service's transaction, `service.db.driver_connection(session)` gives the session's own
asyncpg connection, so a raw read joins the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID

import msgspec

from service.region_settings import FIELDS as SETTING_FIELDS
from service.regions import regions
from service.timeutil import CHINA_TZ
from service.whitelist.status import Interval, documents_ok, entry_status

DEFAULT_MANDATORY = tuple(SETTING_FIELDS["mandatory_document_types"].default)

#: The zone of the civil dates on documents (`valid_from`, `valid_until`), as
#: `timeutil.CHINA_TZ` (UTC+8; Asia/Shanghai has kept no daylight saving since 1991).
CHINA_ZONE = "Asia/Shanghai"


def document_counts(at: str, d: str = "documents") -> str:
    """SQL condition: the document row `d` counts at instant `at` (an SQL expression) —
    uploaded by then, and its validity started on the China date of `at`
    (`valid_from` <= that date). Among those, `max(valid_until)` per type is the last
    day a document of that type is valid (`status.documents_ok`). The one definition
    for every reader: the lookups' state, entry views and actions, the public list."""
    return f"{d}.uploaded_at <= {at} AND {d}.valid_from <= (({at})::timestamptz AT TIME ZONE '{CHINA_ZONE}')::date"


def document_starts(d: str = "documents") -> str:
    """SQL: the instant document row `d` starts counting by its date — midnight China
    time at the start of its `valid_from` (`document_counts`)."""
    return f"({d}.valid_from::timestamp AT TIME ZONE '{CHINA_ZONE}')"


def vendor_state_exprs(regions: str | None = "$2", at: str = "$3") -> list[str]:
    """The SQL expressions (entries, documents, settings) of a vendor `v`'s state at
    instant `at` for the region chain `regions` (SQL parameter placeholders). With
    `regions=None`: the entries of every region, and every region's own mandatory
    document types (narrow with `for_region`)."""
    in_regions = f"AND e.region_code = ANY({regions}::text[])" if regions else ""
    settings_regions = f"r.region_code = ANY({regions}::text[]) AND" if regions else ""
    entries = f"""(SELECT coalesce(json_agg(json_build_array(
                e.id, e.service_item_id, e.region_code, s.status, s.entry_valid_until, s.suspended_until,
                e.fee, e.fee_unit, e.fee_published_on, i.category_code, i.activity, i.grade_bands)
                ORDER BY e.region_code, i.category_code, i.activity, e.id), '[]')
       FROM whitelist_entries e
       JOIN whitelist_entry_status s
         ON s.entry_id = e.id AND s.valid_from <= {at} AND (s.valid_to IS NULL OR s.valid_to > {at})
       JOIN service_items i ON i.id = e.service_item_id
      WHERE e.vendor_id = v.id {in_regions})"""
    documents = f"""(SELECT coalesce(json_object_agg(d.doc_type, d.last_day), '{{}}')
       FROM (SELECT doc_type, max(valid_until) AS last_day FROM documents
              WHERE vendor_id = v.id AND {document_counts(at)} GROUP BY doc_type) d)"""
    settings = f"""(SELECT coalesce(json_object_agg(r.region_code, r.mandatory_document_types), '{{}}')
       FROM region_settings r WHERE {settings_regions} r.mandatory_document_types IS NOT NULL)"""
    return [entries, documents, settings]


@dataclass(slots=True)  # not frozen: frozen dataclasses cost ~4 µs each to build (never mutated)
class EntryAt:
    entry_id: UUID | str  # as text when read through the typed decoder (only ever printed)
    service_item_id: UUID | str
    region_code: str
    interval: Interval
    fee: int
    fee_unit: str
    fee_published_on: date
    category_code: int
    activity: str
    grade_bands: list[str]


@dataclass(frozen=True)
class VendorState:
    vendor_id: UUID | None  # None: nobody registered this code
    name: str | None
    entries: list[EntryAt]
    latest_documents: dict[str, date]
    mandatory_by_region: dict[str, tuple[str, ...]]  # the regions that set the list themselves


def _ts(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


#: Typed decoders for the JSON columns as they arrive on a plain asyncpg connection
#: (text): msgspec parses timestamps and dates in C — a vendor's state parses ~5× faster
#: than with generic decoding plus per-field conversion (the lookup cache warmer reads
#: every vendor). Ids stay text: they are only ever printed.
EntryRow = tuple[str, str, str, str, datetime, datetime | None, int, str, date, int, str, list[str]]
_ENTRIES = msgspec.json.Decoder(list[EntryRow])
_DOCUMENTS = msgspec.json.Decoder(dict[str, date])
_SETTINGS = msgspec.json.Decoder(dict[str, list[str]])


def entries_from_rows(rows: Sequence[EntryRow]) -> list[EntryAt]:
    return [EntryAt(e[0], e[1], e[2], Interval(e[3], e[4], e[5]), e[6], e[7], e[8], e[9], e[10], e[11]) for e in rows]


def _entries(value: Any) -> list[EntryAt]:
    if isinstance(value, (str, bytes)):
        return entries_from_rows(_ENTRIES.decode(value))
    return [
        EntryAt(
            entry_id=UUID(e[0]),
            service_item_id=UUID(e[1]),
            region_code=e[2],
            interval=Interval(status=e[3], entry_valid_until=datetime.fromisoformat(e[4]), suspended_until=_ts(e[5])),
            fee=e[6],
            fee_unit=e[7],
            fee_published_on=date.fromisoformat(e[8]),
            category_code=e[9],
            activity=e[10],
            grade_bands=list(e[11]),
        )
        for e in value
    ]


def _documents(value: Any) -> dict[str, date]:
    if isinstance(value, (str, bytes)):
        return _DOCUMENTS.decode(value)
    return {k: date.fromisoformat(v) for k, v in value.items()}


def _settings(value: Any) -> dict[str, tuple[str, ...]]:
    decoded = _SETTINGS.decode(value) if isinstance(value, (str, bytes)) else value
    return {k: tuple(v) for k, v in decoded.items()}


def parse_row(row: Sequence[Any] | None) -> VendorState:
    if row is None or row[0] is None:
        return VendorState(None, None, [], {}, _settings(row[4]) if row is not None else {})
    return VendorState(row[0], row[1], _entries(row[2]), _documents(row[3]), _settings(row[4]))


def for_region(state: VendorState, chain: Sequence[str]) -> VendorState:
    """A state read with every region's entries (`vendor_state_exprs(regions=None)`),
    narrowed to the entries covering a region (`chain` = `region_chain(region)`): the
    same as reading it for that region. (The settings of every region may stay: the
    mandatory types of an entry's region are looked up along its own ancestors, which
    are all in the chain.)"""
    if state.vendor_id is None:
        return state
    covering = set(chain)
    return VendorState(
        state.vendor_id,
        state.name,
        [e for e in state.entries if e.region_code in covering],
        state.latest_documents,
        state.mandatory_by_region,
    )


def next_change(state: VendorState, at: datetime) -> datetime | None:
    """The first instant after `at` at which `evaluate(state, ·)` can give another
    answer (an entry's validity end or suspension end, a document's expiry: midnight
    China time after its last day), or None. Conservative: any document type counts.
    What the state does not hold cannot be seen here — a stored document that starts
    counting later (`valid_from` after the China date of `at`), a later interval: the
    lookup cache bounds this by the state's horizon (`lookup.vendors._VENDOR_STATE`)."""
    times = []
    for entry in state.entries:
        for t in (entry.interval.entry_valid_until, entry.interval.suspended_until):
            if t is not None and t > at:
                times.append(t)
    for last_day in state.latest_documents.values():
        t = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=CHINA_TZ)
        if t > at:
            times.append(t)
    return min(times, default=None)


def region_chain(region_code: str) -> list[str]:
    """The region and every region containing it: the entries of these cover it."""
    return regions().ancestors(region_code)


def mandatory_types(region_code: str, own: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """The mandatory document types in force in `region_code` (inherited upwards).
    `own` must hold the settings of the region's whole chain that set the field."""
    for code in regions().ancestors(region_code):
        if code in own:
            return own[code]
    return DEFAULT_MANDATORY


def evaluate(state: VendorState, at: datetime) -> list[tuple[EntryAt, str]]:
    """Each covering entry with its status at `at`."""
    out: list[tuple[EntryAt, str]] = []
    docs_cache: dict[str, bool] = {}
    for entry in state.entries:
        ok = docs_cache.get(entry.region_code)
        if ok is None:
            ok = docs_cache[entry.region_code] = documents_ok(
                mandatory_types(entry.region_code, state.mandatory_by_region), state.latest_documents, at
            )
        out.append((entry, entry_status(entry.interval, at, ok)))
    return out
