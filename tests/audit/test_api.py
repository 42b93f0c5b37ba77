"""The auditor API, end to end: events, proofs, checkpoints, histories, keys, scope."""

from __future__ import annotations

import asyncio

import pytest

from service.audit import merkle
from service.audit.checkpoint import parse_and_verify
from tests.factories import vendor_payload


@pytest.fixture
async def trail(client, accounts):
    """A few real events: accounts, two vendors in different cities, a document."""
    admin = await accounts.headers("admin")
    nanchang = (await client.post("/api/v1/vendors", json=vendor_payload(region_code="360104"), headers=admin)).json()
    jiujiang = (await client.post("/api/v1/vendors", json=vendor_payload(region_code="360402"), headers=admin)).json()
    return {
        "admin": admin,
        "nanchang": nanchang,
        "jiujiang": jiujiang,
        "auditor": await accounts.headers("auditor", region_code="360100"),
    }


async def test_keys_are_public(client):
    keys = (await client.get("/api/v1/audit/keys")).json()
    assert keys["algorithm"] == "Ed25519" and keys["vkey"].startswith(keys["origin"] + "+")
    assert "BEGIN PUBLIC KEY" in keys["public_key_pem"]


async def test_event_comes_with_a_verifying_inclusion_proof(client, trail):
    listed = (await client.get("/api/v1/audit/events?action=vendors:", headers=trail["admin"])).json()
    assert [e["event"]["object"]["id"] for e in listed["items"]] == [trail["nanchang"]["id"], trail["jiujiang"]["id"]]
    seq = listed["items"][0]["seq"]
    detail = (await client.get(f"/api/v1/audit/events/{seq}", headers=trail["admin"])).json()
    keys = (await client.get("/api/v1/audit/keys")).json()
    checkpoint = parse_and_verify(detail["checkpoint"]["note"], keys["vkey"])
    leaf = merkle.leaf_hash(detail["event"]["canonical"].encode())
    assert leaf.hex() == detail["event"]["leaf_hash"]
    proof = [bytes.fromhex(p) for p in detail["inclusion_proof"]]
    assert merkle.verify_inclusion(leaf, seq, checkpoint.size, proof, checkpoint.root_hash)


async def test_consistency_between_two_checkpoints_verifies(client, trail, accounts):
    first = (await client.get("/api/v1/audit/checkpoints/latest", headers=trail["admin"])).json()
    await accounts.headers("reviewer", region_code="360100")  # more events
    second = (await client.get("/api/v1/audit/checkpoints/latest", headers=trail["admin"])).json()
    assert second["size"] > first["size"]
    again = (await client.get(f"/api/v1/audit/checkpoints/{first['size']}", headers=trail["admin"])).json()
    assert again == first  # stored, never rewritten
    answer = (
        await client.get(
            f"/api/v1/audit/consistency?first={first['size']}&second={second['size']}", headers=trail["admin"]
        )
    ).json()
    assert merkle.verify_consistency(
        first["size"],
        second["size"],
        [bytes.fromhex(p) for p in answer["proof"]],
        bytes.fromhex(first["root_hash"]),
        bytes.fromhex(second["root_hash"]),
    )
    missing = await client.get(f"/api/v1/audit/consistency?first=1&second={second['size'] + 5}", headers=trail["admin"])
    assert missing.status_code == 404


async def test_filters_and_cursor_pagination(client, trail):
    page = (await client.get("/api/v1/audit/events?limit=2", headers=trail["admin"])).json()
    assert len(page["items"]) == 2 and page["next_cursor"] == page["items"][-1]["seq"]
    rest = (await client.get(f"/api/v1/audit/events?cursor={page['next_cursor']}", headers=trail["admin"])).json()
    assert rest["items"][0]["seq"] == page["next_cursor"] + 1
    by_object = (
        await client.get(
            f"/api/v1/audit/events?object_type=vendor&object_id={trail['jiujiang']['id']}", headers=trail["admin"]
        )
    ).json()["items"]
    assert [e["event"]["action"] for e in by_object] == ["vendors:vendor:register"]
    future = (await client.get("/api/v1/audit/events?since=2070-01-01T00:00:00Z", headers=trail["admin"])).json()
    assert future["items"] == []


async def test_auditors_see_their_region_only(client, trail):
    seen = (await client.get("/api/v1/audit/events?object_type=vendor", headers=trail["auditor"])).json()["items"]
    assert [e["event"]["object"]["id"] for e in seen] == [trail["nanchang"]["id"]]
    everything = (await client.get("/api/v1/audit/events?object_type=vendor", headers=trail["admin"])).json()
    hidden_seq = next(e["seq"] for e in everything["items"] if e["event"]["region"] == "360402")
    assert (await client.get(f"/api/v1/audit/events/{hidden_seq}", headers=trail["auditor"])).status_code == 404
    assert (
        await client.get(f"/api/v1/audit/objects/vendor/{trail['jiujiang']['id']}/history", headers=trail["auditor"])
    ).status_code == 404


async def test_other_roles_cannot_read_the_trail(client, accounts):
    reviewer = await accounts.headers("reviewer", region_code="360000")
    assert (await client.get("/api/v1/audit/events", headers=reviewer)).status_code == 403


async def test_object_history_rebuilds_states(client, db, trail):
    from service.audit.recorder import record_event
    from service.security.actor import Actor

    vendor_id = trail["nanchang"]["id"]
    async with db.transaction() as session:  # a later change to the same object
        await record_event(
            session,
            Actor.system(),
            "vendors:vendor:update",
            "vendor",
            vendor_id,
            region_code="360104",
            reason="地址变更",
            changes={"address": {"before": trail["nanchang"]["address"], "after": "新地址 1 号"}},
        )
    history = (await client.get(f"/api/v1/audit/objects/vendor/{vendor_id}/history", headers=trail["auditor"])).json()
    states = history["states"]
    assert [s["action"] for s in states] == ["vendors:vendor:register", "vendors:vendor:update"]
    assert states[0]["state"]["address"] == trail["nanchang"]["address"]
    assert states[1]["state"]["address"] == "新地址 1 号"
    assert states[1]["state"]["credit_code"] == trail["nanchang"]["credit_code"]
    assert states[1]["reason"] == "地址变更"


async def test_serve_seals_the_log_by_itself(db, settings, client, accounts):
    """The lifespan's background sequencer signs a checkpoint without anyone asking."""
    from dataclasses import replace

    from service.app import create_app
    from service.audit.log import latest_checkpoint

    await accounts.headers("admin")
    app = create_app(replace(settings, checkpoint_interval_seconds=0), db=db)
    async with app.lifespan():
        for _ in range(100):
            async with db.transaction() as session:
                head = await latest_checkpoint(await session.connection())
            if head is not None:
                break
            await asyncio.sleep(0.05)
    assert head is not None and head.size >= 1
