"""The audit log on the real database: dense sequencing under concurrency, append-only
enforcement by the database, checkpoints and proofs that verify."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import asyncpg
import pytest
from sqlalchemy import text

from service.audit import merkle
from service.audit.checkpoint import parse_and_verify
from service.audit.keys import load_signer
from service.audit.log import integrate_pending, make_checkpoint
from service.audit.recorder import record_event
from service.security.actor import Actor
from tests.conftest import plain_dsn


@pytest.fixture
def signer(tmp_path):
    return load_signer(tmp_path / "audit.pem", "test.schoolgate/audit")


async def append(db, n: int, label: str = "x") -> None:
    async with db.transaction() as session:
        for i in range(n):
            await record_event(session, Actor.system(), "tests:thing:poke", "thing", f"{label}-{i}")


async def leaves(db) -> list[tuple[int, bytes]]:
    async with db.transaction() as session:
        conn = await session.connection()
        rows = await conn.execute(
            text(
                "SELECT l.seq, e.canonical FROM audit_leaves l JOIN audit_events e ON e.id = l.event_id ORDER BY l.seq"
            )
        )
        return [(seq, bytes(c)) for seq, c in rows]


async def test_concurrent_appends_leave_a_dense_verifiable_log(db, signer):
    async def writer(k: int) -> None:
        for round_ in range(5):
            await append(db, 2, f"w{k}r{round_}")
            if round_ % 2:
                await integrate_pending(db)  # sequencers racing with writers and each other

    await asyncio.gather(*(writer(k) for k in range(16)))
    checkpoint = await make_checkpoint(db, signer)
    logged = await leaves(db)
    assert [seq for seq, _ in logged] == list(range(len(logged)))
    assert len(logged) == 16 * 5 * 2
    assert checkpoint.size == len(logged)
    assert checkpoint.root_hash == merkle.root_from_leaves([merkle.leaf_hash(c) for _, c in logged])


async def test_a_rolled_back_event_leaves_no_gap(db, signer):
    await append(db, 3)
    with pytest.raises(RuntimeError):
        async with db.transaction() as session:
            await record_event(session, Actor.system(), "tests:thing:poke", "thing", "doomed")
            raise RuntimeError("the change fails after its event was written")
    await append(db, 2)
    await integrate_pending(db)
    logged = await leaves(db)
    assert [seq for seq, _ in logged] == list(range(5))
    assert all(b"doomed" not in c for _, c in logged)


async def test_checkpoints_are_signed_and_only_made_when_the_tree_grew(db, signer):
    assert await make_checkpoint(db, signer) is None  # an empty log has nothing to sign
    await append(db, 3)
    first = await make_checkpoint(db, signer)
    assert first.size == 3
    verified = parse_and_verify(first.note, signer.vkey, origin=signer.name)
    assert verified.size == 3 and verified.root_hash == first.root_hash
    assert (await make_checkpoint(db, signer)).size == 3  # nothing new: the same head
    await append(db, 2)
    throttled = await make_checkpoint(db, signer, min_interval=timedelta(minutes=1))
    assert throttled.size == 3  # grew, but the last checkpoint is younger than a minute
    assert (await make_checkpoint(db, signer)).size == 5


async def test_proofs_from_stored_nodes_verify(db, signer):
    await append(db, 7)
    older = await make_checkpoint(db, signer)
    await append(db, 6)
    newer = await make_checkpoint(db, signer)
    from service.audit.log import consistency_proof, inclusion_proof

    logged = await leaves(db)
    async with db.transaction() as session:
        conn = await session.connection()
        for seq, canonical in logged:
            proof = await inclusion_proof(conn, seq, newer.size)
            assert merkle.verify_inclusion(merkle.leaf_hash(canonical), seq, newer.size, proof, newer.root_hash)
        proof = await consistency_proof(conn, older.size, newer.size)
    assert merkle.verify_consistency(older.size, newer.size, proof, older.root_hash, newer.root_hash)


BYPASSES = {
    "audit_events": [
        "UPDATE audit_events SET action = 'forged'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events CASCADE",
    ],
    "audit_leaves": ["UPDATE audit_leaves SET seq = seq + 1000", "DELETE FROM audit_leaves", "TRUNCATE audit_leaves"],
    "audit_nodes": ["UPDATE audit_nodes SET hash = '\\x00'", "DELETE FROM audit_nodes", "TRUNCATE audit_nodes"],
    "audit_checkpoints": [
        "UPDATE audit_checkpoints SET note = 'forged'",
        "DELETE FROM audit_checkpoints",
        "TRUNCATE audit_checkpoints",
    ],
}


@pytest.mark.parametrize("statement", [s for group in BYPASSES.values() for s in group])
async def test_the_app_role_cannot_rewrite_history(db, signer, database_url, statement):
    await append(db, 3)
    await make_checkpoint(db, signer)
    conn = await asyncpg.connect(plain_dsn(database_url))
    try:
        assert await conn.fetchval("SELECT current_user") == "schoolgate_app"
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(statement)
    finally:
        await conn.close()


@pytest.mark.parametrize("statement", [s for group in BYPASSES.values() for s in group])
async def test_triggers_refuse_even_the_owner(db, signer, owner_url, statement):
    await append(db, 3)
    await make_checkpoint(db, signer)
    conn = await asyncpg.connect(plain_dsn(owner_url))
    try:
        with pytest.raises(asyncpg.PostgresError, match="append-only"):
            await conn.execute(statement)
        assert await conn.fetchval("SELECT count(*) FROM audit_leaves") == 3
    finally:
        await conn.close()


async def test_the_app_role_still_writes_domain_tables(client, accounts):
    from tests.factories import vendor_payload

    response = await client.post("/api/v1/vendors", json=vendor_payload(), headers=await accounts.headers("admin"))
    assert response.status_code == 201
