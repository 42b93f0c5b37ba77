"""HTTP for auditors: read the trail, prove it, export it."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get
from litestar.params import QueryParameter
from litestar.response import Stream

from schemas.audit import (
    AuditEventOut,
    AuditEventPage,
    AuditKeys,
    CheckpointOut,
    ConsistencyOut,
    EventWithProof,
    ObjectHistory,
    ObjectState,
)
from service.audit import queries
from service.audit.log import StoredCheckpoint
from service.security import Role
from service.web.access import access, public
from service.web.deps import DB, AuditSigner, CurrentActor
from service.web.params import (
    LogPosition,
    PathText,
    QueryInstant,
    QueryText,
    bounded_query,
    instant,
    query_text,
)

AUDITORS = (Role.AUDITOR, Role.ADMIN)


def event_out(event: queries.LoggedEvent) -> AuditEventOut:
    return AuditEventOut(
        seq=event.seq, leaf_hash=event.leaf_hash.hex(), canonical=event.canonical.decode(), event=event.document
    )


def checkpoint_out(checkpoint: StoredCheckpoint) -> CheckpointOut:
    return CheckpointOut(
        size=checkpoint.size,
        root_hash=checkpoint.root_hash.hex(),
        note=checkpoint.note,
        created_at=checkpoint.created_at,
    )


class AuditController(Controller):
    path = "/api/v1/audit"
    tags = ["audit"]

    @get("/keys", **public())
    async def keys(self, signer: AuditSigner) -> AuditKeys:
        """The public key that signs checkpoints (and lookup receipts)."""
        return AuditKeys(
            origin=signer.name, algorithm="Ed25519", vkey=signer.vkey, public_key_pem=signer.public_key_pem
        )

    @get("/events", **access(*AUDITORS, errors=(422,)))
    async def list_events(
        self,
        db: DB,
        actor: CurrentActor,
        object_type: QueryText = None,
        object_id: QueryText = None,
        actor_id: QueryText = None,
        action: Annotated[str | None, query_text("action prefix, e.g. `vendors:`")] = None,
        since: QueryInstant = None,
        until: QueryInstant = None,
        cursor: Annotated[int | None, bounded_query(ge=-1)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
    ) -> AuditEventPage:
        """Events in log order; `cursor` is the last seq of the previous page."""
        events, next_cursor = await queries.list_events(
            db,
            actor,
            queries.EventFilter(
                object_type, object_id, actor_id, action, instant(since, "since"), instant(until, "until")
            ),
            after_seq=cursor,
            limit=limit,
        )
        return AuditEventPage(items=[event_out(e) for e in events], next_cursor=next_cursor)

    @get("/events/{seq:int}", **access(*AUDITORS, errors=(404,)))
    async def get_event(self, db: DB, signer: AuditSigner, actor: CurrentActor, seq: LogPosition) -> EventWithProof:
        """One event with its inclusion proof in the latest checkpoint."""
        event, checkpoint, proof = await queries.event_with_proof(db, signer, actor, seq)
        return EventWithProof(
            event=event_out(event), checkpoint=checkpoint_out(checkpoint), inclusion_proof=[p.hex() for p in proof]
        )

    @get("/checkpoints/latest", **access(*AUDITORS, errors=(404,)))
    async def latest(self, db: DB, signer: AuditSigner) -> CheckpointOut:
        return checkpoint_out(await queries.latest_checkpoint(db, signer))

    @get("/checkpoints/{size:int}", **access(*AUDITORS, errors=(404,)))
    async def checkpoint(self, db: DB, size: LogPosition) -> CheckpointOut:
        return checkpoint_out(await queries.checkpoint_at(db, size))

    @get("/consistency", **access(*AUDITORS, errors=(404, 422)))
    async def consistency(
        self, db: DB, first: Annotated[int, bounded_query()], second: Annotated[int, bounded_query()]
    ) -> ConsistencyOut:
        """RFC 6962 consistency proof between two stored checkpoints."""
        older, newer, proof = await queries.consistency(db, first, second)
        return ConsistencyOut(
            first=first,
            second=second,
            proof=[p.hex() for p in proof],
            first_checkpoint=checkpoint_out(older),
            second_checkpoint=checkpoint_out(newer),
        )

    @get("/objects/{object_type:str}/{object_id:str}/history", **access(*AUDITORS, errors=(404,)))
    async def history(self, db: DB, actor: CurrentActor, object_type: PathText, object_id: PathText) -> ObjectHistory:
        """The sequence of states of one object, rebuilt from its events."""
        states = await queries.object_history(db, actor, object_type, object_id)
        return ObjectHistory(object_type=object_type, object_id=object_id, states=[ObjectState(**s) for s in states])

    @get("/export", **access(*AUDITORS, errors=(422,)), media_type="application/x-ndjson")
    async def export(
        self,
        db: DB,
        signer: AuditSigner,
        actor: CurrentActor,
        start: Annotated[int, bounded_query(name="from")] = 0,
        end: Annotated[int | None, bounded_query(name="to")] = None,
    ) -> Response:
        """An NDJSON bundle that `schoolgate audit verify` checks offline."""
        lines = await queries.prepare_export(db, signer, actor, start, end)
        return Stream(
            lines,
            media_type="application/x-ndjson",
            headers={"Content-Disposition": 'attachment; filename="schoolgate-audit.ndjson"'},
        )
