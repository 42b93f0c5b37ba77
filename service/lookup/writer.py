"""Group commit of lookup receipts: several concurrent lookups, one durable commit.

Every lookup must store its signed receipt (and count itself against the rate limit)
durably before its answer is sent. One commit per lookup costs a round trip and a WAL
flush each; here the lookups of one worker that are ready at the same moment are
stored together by one call of `lookup_store_receipts` (migration 0024: set-based,
a few statements for the whole group, not a few per row): one transaction, one
commit. Each request awaits the outcome of its own
row, which it gets only after that commit — so every answer still leaves after its
receipt is durable, and if the call fails every request in the group gets the error
(none stored, none answered).

The function decides each row on its own: the token re-validation, the cached state's
version and checkpoint check, the rate limit walked row after row per account (a
refused row counts nothing and stores nothing), then one insert of the admitted rows.
So a group behaves exactly as its rows one after another. It locks the group's
rate-limit rows first, in account order, so two groups (of this worker or another)
never lock them in opposite orders.

Batching is natural: while `IN_FLIGHT` calls are running, new receipts queue; the next
call takes all of them (up to `MAX_GROUP`). Two calls in flight let one group execute
while the other waits for its WAL flush (the worker's core was otherwise idle during
each commit); groups that share an account queue on its rate-limit row. With one
lookup at a time, a group is one row and costs what a single statement did. No state
is shared between processes: each worker has its own writer, and everything they must
agree on (counts, versions, tokens) is read and locked in PostgreSQL.

The group is also signed here, once: the receipts are the leaves of one Merkle tree
and one Ed25519 signature covers its root; each row keeps its index and inclusion
proof (`lookup.receipts.sign_group`). A row the function then refuses (stale, limited,
unauthenticated) is not stored: its leaf is in a signed root, but no one is ever shown
that receipt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from service.audit import Signer
from service.coalesce import Coalescer
from service.db import Database
from service.lookup.receipts import sign_group

MAX_GROUP = 128
IN_FLIGHT = 2

STORE = (
    "SELECT out_ord, out_outcome, out_n, out_version, out_checkpoint FROM lookup_store_receipts("
    "$1::uuid[], $2::text[], $3::text[], $4::bytea[], $5::uuid[], $6::uuid[], $7::text[], $8::text[], $9::text[],"
    " $10::timestamptz[], $11::timestamptz[], $12::bigint[], $13::bytea[], $14::bigint[],"
    " $15::bigint[], $16::timestamptz[], $17::text[], $18::text[], $19::text[], $20::text[], $21::bigint[],"
    " $22::boolean[], $23::bytea[], $24::integer[], $25::integer[], $26::bytea[])"
)


@dataclass(slots=True)
class PendingReceipt:
    receipt_id: UUID
    kind: str
    subject: str
    # A batch: its entries in the compact form (`receipts.compact_batch_query`), from
    # which the store derives `subjects`; None for a receipt about one subject.
    query_compact: bytes | None
    account_id: UUID | None
    school_id: UUID | None
    region_code: str
    query: str | None  # JSON; None for a batch (its query and answer are read from `canonical`)
    answer: str | None  # JSON; None for a batch
    as_of: datetime
    created_at: datetime
    checkpoint_size: int
    stored: bytes  # what `canonical` stores: the signed bytes, or a batch's without its entries
    count: int
    limit: int
    window_start: datetime
    # Re-validation of a bearer token taken from the per-process cache (None: not asked).
    token_hash: str | None
    role: str
    actor_region: str | None
    vendor_code: str | None
    # Re-validation of cached state: the version it was read at (None: read fresh in
    # this request), and whether the checkpoint size came from the cache.
    expect_version: int | None
    expect_checkpoint: bool
    canonical: bytes  # the signed bytes (a leaf of the group's tree); not a column


@dataclass(frozen=True, slots=True)
class Outcome:
    outcome: str  # stored | unauthenticated | stale | limited
    count: int | None
    version: int
    checkpoint_size: int


COLUMNS = PendingReceipt.__slots__[:-1]  # then the group signature's: signature, size, index, path


class ReceiptWriter(Coalescer[PendingReceipt, Outcome]):
    """One per `Database` (per worker process)."""

    in_flight = IN_FLIGHT

    def __init__(self, db: Database, signer: Signer) -> None:
        super().__init__()
        self._db = db
        self._signer = signer
        self.groups = 0  # calls made (for tests and diagnosis)
        self.rows = 0

    async def store(self, receipt: PendingReceipt) -> Outcome:
        return await self.submit(receipt)

    def _take(self, queue):
        return [queue.popleft() for _ in range(min(MAX_GROUP, len(queue)))]

    async def _serve(self, receipts: list[PendingReceipt]) -> list[Outcome]:
        columns = [[getattr(r, name) for r in receipts] for name in COLUMNS]
        signed = sign_group(self._signer.private_key, [r.canonical for r in receipts])
        columns += [
            [g.signature for g in signed],
            [g.size for g in signed],
            [g.index for g in signed],
            [g.path for g in signed],
        ]
        pool = await self._db.raw_pool()
        async with pool.acquire() as conn:
            rows = await conn.fetch(STORE, *columns)
        self.groups += 1
        self.rows += len(receipts)
        outcomes: list[Outcome | None] = [None] * len(receipts)
        for row in rows:
            outcomes[row[0] - 1] = Outcome(row[1], row[2], row[3], row[4])
        if any(o is None for o in outcomes):
            raise RuntimeError("lookup_store_receipts returned no outcome for a receipt")
        return outcomes  # type: ignore[return-value]  # no None is left: checked just above


def writer(db: Database, signer: Signer) -> ReceiptWriter:
    """The worker's writer (its signer is the process's one)."""
    found = db.local.get("lookup.receipt_writer")
    if found is None:
        found = db.local["lookup.receipt_writer"] = ReceiptWriter(db, signer)
    return found
