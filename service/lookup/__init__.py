"""The school lookup API: vendor lookups (people later), signed receipts, rate limiting."""

from service.lookup.jobs import keep_cache_warm
from service.lookup.jobs import run_forever as run_lookup_housekeeping
from service.lookup.people import MAX_BATCH, PersonQuery, lookup_person
from service.lookup.ratelimit import configure as configure_rate_limit
from service.lookup.receipts import receipt_key_id
from service.lookup.records import get_receipt, own_lookups
from service.lookup.roster import lookup_roster
from service.lookup.store import store_receipt
from service.lookup.vendors import lookup_vendor

__all__ = [
    "configure_rate_limit",
    "get_receipt",
    "keep_cache_warm",
    "lookup_person",
    "lookup_roster",
    "lookup_vendor",
    "MAX_BATCH",
    "own_lookups",
    "PersonQuery",
    "receipt_key_id",
    "run_lookup_housekeeping",
    "store_receipt",
]
