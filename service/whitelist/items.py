"""Where a service item stands on the whitelist of a school's region, at an instant.

For other domains (orders): the same state the lookups read (`state.vendor_state_exprs`)
and the same pure evaluation (`state.evaluate`), narrowed to one item. An item covered
by several entries (its county's and its city's) counts as usable when any is active,
and otherwise by the strongest reason it is not (`status.vendor_status`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from service.db import driver_connection
from service.whitelist import state as vendor_state
from service.whitelist.status import ACTIVE, NOT_LISTED, vendor_status


@dataclass(frozen=True)
class ItemOnWhitelist:
    status: str  # active | suspended | revoked | expired | not_listed
    fee: int | None  # the published fee of the active entry (None: no active entry)
    fee_unit: str | None
    fee_published_on: date | None
    entry_valid_until: datetime | None  # the active entry's validity end
    documents_until: date | None  # the last day the vendor's mandatory documents all hold


NOT_ON_WHITELIST = ItemOnWhitelist(NOT_LISTED, None, None, None, None, None)

#: $1 vendor ids, $2 region codes (a region and its ancestors), $3 instant: one row per vendor.
#: The JSON as text, for the state's typed decoders (the session's connection would
#: otherwise decode it generically first: ~3× the parse time).
_BY_VENDOR_IDS = "SELECT v.id, v.name, {}::text, {}::text, {}::text FROM vendors v WHERE v.id = ANY($1::uuid[])".format(
    *vendor_state.vendor_state_exprs()
)


def item_on_whitelist(
    state: vendor_state.VendorState,
    item_id: UUID,
    at: datetime,
    evaluated: list[tuple[vendor_state.EntryAt, str]] | None = None,
) -> ItemOnWhitelist:
    """One item of a vendor's state (read for the school's region) at `at`;
    `evaluated`: `evaluate(state, at)`, when the caller has it (several items of a vendor)."""
    item = str(item_id)
    judged = [
        (entry, status)
        for entry, status in (vendor_state.evaluate(state, at) if evaluated is None else evaluated)
        if str(entry.service_item_id) == item
    ]
    status = vendor_status(status for _, status in judged)
    active = [entry for entry, status in judged if status == ACTIVE]
    if not active:
        return ItemOnWhitelist(status, None, None, None, None, None)
    # The most local entry speaks for the fee: the county's before its city's.
    entry = max(active, key=lambda e: len(vendor_state.region_chain(e.region_code)))
    mandatory = vendor_state.mandatory_types(entry.region_code, state.mandatory_by_region)
    last_days = [state.latest_documents[t] for t in mandatory if t in state.latest_documents]
    return ItemOnWhitelist(
        status,
        entry.fee,
        entry.fee_unit,
        entry.fee_published_on,
        entry.interval.entry_valid_until,
        min(last_days, default=None),
    )


async def items_on_whitelist(
    session, items: Sequence[tuple[UUID, UUID]], region_code: str, at: datetime
) -> dict[UUID, ItemOnWhitelist]:
    """`items`: (vendor id, item id) pairs; one statement for all their vendors."""
    if not items:
        return {}
    conn = await driver_connection(session)
    rows = await conn.fetch(_BY_VENDOR_IDS, list({v for v, _ in items}), vendor_state.region_chain(region_code), at)
    states = {row[0]: vendor_state.parse_row(row) for row in rows}
    evaluated = {vendor_id: vendor_state.evaluate(state, at) for vendor_id, state in states.items()}  # once a vendor
    return {
        item_id: item_on_whitelist(states[vendor_id], item_id, at, evaluated[vendor_id])
        if vendor_id in states
        else NOT_ON_WHITELIST
        for vendor_id, item_id in items
    }
