"""The signed receipt of a lookup: its document, and storing it durably with the rate
limit's count (through the worker's group writer, `lookup.writer`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from uuid import UUID, uuid4

import msgspec

from service.accounts import forget_token
from service.audit import Signer
from service.db import Database
from service.errors import Unauthenticated
from service.lookup import ratelimit, receipts
from service.lookup.cache import lookup_cache
from service.lookup.receipts import RECEIPT_TYPE, RECEIPT_VERSION
from service.lookup.writer import PendingReceipt, writer
from service.security import Actor


def iso(value: datetime) -> str:
    return value.isoformat()


@dataclass(frozen=True)
class LookupResult:
    body: bytes  # the JSON answer, encoded once
    receipt_id: UUID


@lru_cache(maxsize=8)
def _signer_id(signer: Signer) -> msgspec.Raw:
    return msgspec.Raw(
        msgspec.json.encode(
            {"origin": signer.name, "key_id": receipts.receipt_key_id(signer.name, signer.public_key_raw)},
            order="sorted",
        )
    )


@lru_cache(maxsize=4096)
def _caller_parts(actor: Actor) -> tuple[msgspec.Raw, msgspec.Raw]:
    """The receipt's `school` and `caller` members of an actor, encoded once."""
    school = {"id": str(actor.school_id), "region_code": actor.region_code} if actor.school_id else None
    caller = {"account_id": str(actor.account_id), "role": str(actor.role)}
    return (
        msgspec.Raw(msgspec.json.encode(school, order="sorted")),
        msgspec.Raw(msgspec.json.encode(caller, order="sorted")),
    )


def receipt_document(
    *,
    receipt_id: UUID,
    kind: str,
    query: dict[str, Any] | msgspec.Raw,
    answer: dict[str, Any] | msgspec.Raw,
    as_of: datetime,
    time: datetime,
    actor: Actor,
    region_code: str,
    checkpoint_size: int,
    signer: Signer,
) -> dict[str, Any]:
    school, caller = _caller_parts(actor)
    return {
        "v": RECEIPT_VERSION,
        "type": RECEIPT_TYPE,
        "receipt_id": str(receipt_id),
        "kind": kind,
        "query": query,
        "answer": answer,
        "as_of": iso(as_of),
        "time": iso(time),
        "school": school,
        "caller": caller,
        "region_code": region_code,
        "audit_checkpoint_size": checkpoint_size,
        "signer": _signer_id(signer),
    }


@dataclass(frozen=True)
class Stale:
    """The cached state or checkpoint size a receipt was made from is no longer
    current: nothing was stored; read afresh and sign again."""

    version: int
    checkpoint_size: int


async def store_receipt(
    db: Database,
    signer: Signer,
    *,
    kind: str,
    subject: str,
    query: dict[str, Any] | msgspec.Raw,
    answer: dict[str, Any] | msgspec.Raw,
    as_of: datetime,
    time: datetime,
    actor: Actor,
    region_code: str,
    checkpoint_size: int,
    count: int = 1,
    limit: int | None = None,
    query_compact: bytes | None = None,
    token_hash: str | None = None,
    expect_version: int | None = None,
    cached_checkpoint: bool = False,
) -> UUID | Stale:
    """Count `count` lookups against the caller's rate limit and store one signed
    receipt — durably (committed) when this returns, grouped with the other receipts
    of this worker ready at the same moment (`lookup.writer`). Raises 429
    `rate_limited` and stores nothing when the limit would be passed.

    - `token_hash`: re-validate this bearer token (the actor came from the token
      cache): revoked, or no longer this account/role/scope → 401, nothing stored.
    - `expect_version` / `cached_checkpoint`: the answer was made from cached state read
      at that lookup state version / with the cached checkpoint size; if either is no
      longer current nothing is stored and `Stale` is returned (the caller reads afresh
      and calls again). Without them the result is always the receipt id.

    `query` and `answer` may be given already encoded, as `msgspec.Raw` of their
    canonical JSON (sorted keys at every level, as `receipts.canonical` writes): they
    are embedded as is. For people, `query` and `subject` must hold the ID number only
    as its keyed hash. `query_compact`: for a receipt about several people (a batch),
    its entries in compact form (`receipts.compact_batch_query`, the same entries as
    `query`): stored in place of the entries, and the store derives from it the
    `subjects` that let `lookups_of` find the receipt for every one of them."""
    limit = limit or ratelimit.per_minute()
    start, retry_after = ratelimit.window()
    if count > limit:
        raise ratelimit.refusal(retry_after, limit)
    receipt_id = uuid4()
    document = receipt_document(
        receipt_id=receipt_id,
        kind=kind,
        query=query,
        answer=answer,
        as_of=as_of,
        time=time,
        actor=actor,
        region_code=region_code,
        checkpoint_size=checkpoint_size,
        signer=signer,
    )
    canonical = receipts.canonical(document)  # the one encoding: signed, stored, served
    # A batch stores its entries compact, and its document without them.
    stored = canonical if query_compact is None else receipts.stored_batch_canonical(document)
    outcome = await writer(db, signer).store(
        PendingReceipt(
            receipt_id=receipt_id,
            kind=kind,
            subject=subject,
            query_compact=query_compact,
            account_id=actor.account_id,
            school_id=actor.school_id,
            region_code=region_code,
            as_of=as_of,
            created_at=time,
            checkpoint_size=checkpoint_size,
            stored=stored,
            count=count,
            limit=limit,
            window_start=start,
            token_hash=token_hash,
            role=str(actor.role),
            actor_region=actor.region_code,
            vendor_code=actor.vendor_credit_code,
            expect_version=expect_version,
            expect_checkpoint=cached_checkpoint,
            canonical=canonical,
        )
    )
    lookup_cache(db).observe(outcome.version, outcome.checkpoint_size)
    if outcome.outcome == "stored":
        return receipt_id
    if outcome.outcome == "stale":
        return Stale(outcome.version, outcome.checkpoint_size)
    if outcome.outcome == "limited":
        raise ratelimit.refusal(retry_after, limit)
    if token_hash is not None:
        forget_token(db, token_hash)
    raise Unauthenticated(headers={"WWW-Authenticate": "Bearer"})
