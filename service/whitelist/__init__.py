"""The whitelist (白名单): service items admitted for the schools of a region."""

from service.whitelist.actions import ACTIONS, ELIGIBLE, ActionInput
from service.whitelist.admission import Admission, admit, entries_of_application
from service.whitelist.bans import ban_until, suspended_items
from service.whitelist.decisions import confirm_request, decline_request
from service.whitelist.entries import entries_ending_on, get_entry, list_entries
from service.whitelist.items import ItemOnWhitelist, items_on_whitelist
from service.whitelist.models import WhitelistActionRequest, WhitelistEntry
from service.whitelist.queries import (
    PublicRow,
    filters,
    public_whitelist,
    public_whitelist_all,
    public_whitelist_next_change,
)
from service.whitelist.requests import list_requests, request_suspension
from service.whitelist.services import take_action
from service.whitelist.state import (
    EntryRow,
    VendorState,
    document_starts,
    entries_from_rows,
    evaluate,
    for_region,
    next_change,
    parse_row,
    region_chain,
    vendor_state_exprs,
)
from service.whitelist.status import ACTIVE, vendor_status

__all__ = [
    "ActionInput",
    "ACTIONS",
    "ACTIVE",
    "Admission",
    "admit",
    "ban_until",
    "confirm_request",
    "decline_request",
    "document_starts",
    "ELIGIBLE",
    "entries_ending_on",
    "entries_from_rows",
    "entries_of_application",
    "EntryRow",
    "evaluate",
    "filters",
    "for_region",
    "get_entry",
    "ItemOnWhitelist",
    "items_on_whitelist",
    "list_entries",
    "list_requests",
    "next_change",
    "parse_row",
    "public_whitelist",
    "public_whitelist_all",
    "public_whitelist_next_change",
    "PublicRow",
    "region_chain",
    "request_suspension",
    "suspended_items",
    "take_action",
    "vendor_state_exprs",
    "vendor_status",
    "VendorState",
    "WhitelistActionRequest",
    "WhitelistEntry",
]
