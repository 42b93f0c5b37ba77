"""The lookup housekeeping run by every worker: forget old rate-limit windows, and keep
the worker's vendor-state cache warm (read every vendor once after start and after each
change of the lookup state version — the cache is exact either way, see lookup.cache;
warming only spares the lookups a read each)."""

from __future__ import annotations

import gc

from service.db import Database
from service.lookup.cache import lookup_cache
from service.lookup.ratelimit import purge_windows
from service.lookup.vendors import warm_vendor_cache
from service.periodic import run_periodic

DEFAULT_INTERVAL = 60.0


async def run_forever(db: Database, interval: float = DEFAULT_INTERVAL) -> None:
    await run_periodic("rate_window_purge", lambda: purge_windows(db), interval, logger="schoolgate.lookup")


WARM_CHECK = 1.0
NEVER = object()


async def keep_cache_warm(db: Database, check_every: float = WARM_CHECK) -> None:
    cache = lookup_cache(db)
    # The version the whole cache was last read at. An empty database leaves the version
    # unknown (None) after a warm: that is warm too, or every check would be a full
    # collection, a pause in every request in flight, once a second.
    warmed: object = NEVER

    async def warm() -> None:
        nonlocal warmed
        if (warmed is NEVER or cache.version != warmed) and await warm_vendor_cache(db) is not None:
            warmed = cache.version
            # The cache holds ~10 objects per vendor; without this every full
            # (generation 2) collection walks them all — a pause of tens of ms
            # in every request in flight. They hold no reference cycles, so
            # reference counting still frees them when replaced; what was frozen
            # before is given back to the collector first (one full collection
            # per change of the lookup state version), so no cyclic garbage is
            # kept frozen for good.
            gc.unfreeze()
            gc.collect()
            gc.freeze()

    await run_periodic("lookup_cache_warm", warm, check_every, logger="schoolgate.lookup")
