"""Batch receipts are stored compact (migration 0014) and still verify and say the same
thing: the served receipt is the signed one byte for byte, the CLI accepts it, an
altered entry fails, and the person's side still finds every batch that named them —
and only those."""

from __future__ import annotations

import asyncio
import copy
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text

from service.db.engine import Database
from service.db.migrate import upgrade
from service.db.roles import as_role
from service.lookup import receipts
from service.lookup.receipts import parse_public_key, verify
from service.lookup.records import lookups_of, subject_key
from tests.conftest import APP_ROLE, _admin, plain_dsn, with_database
from tests.lookup.people_world import authorisation, batch, cleared_person, new_id_number

SCHOOLGATE = str(Path(sys.executable).with_name("schoolgate"))


async def _setup(wl):
    vendor, _ = await wl.approved(region_code="360104")
    reviewer = await wl.reviewer("360104")
    consent = await authorisation(wl.client, reviewer)
    return vendor, reviewer, consent


async def _row(owner_url: str, receipt_id: str):
    conn = await asyncpg.connect(plain_dsn(owner_url))
    try:
        return await conn.fetchrow("SELECT * FROM lookup_receipts WHERE id = $1", uuid.UUID(receipt_id))
    finally:
        await conn.close()


async def test_a_batch_receipt_is_stored_compact_and_served_as_signed(wl, owner_url, tmp_path):
    vendor, reviewer, consent = await _setup(wl)
    person_id, number = await cleared_person(wl, vendor, reviewer, consent, name="李四")
    school = await wl.school("360104")
    entries = [
        {"id_number": number, "name": "李四", "vendor_credit_code": vendor.credit_code},
        {"id_number": new_id_number(), "name": "张三"},
        {"id_number": number, "name": "李四"},
    ]
    response = await batch(wl, school, entries)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [r["result"] for r in body["results"]] == ["cleared", "not_cleared", "cleared"]

    row = await _row(owner_url, body["receipt_id"])
    assert "query" not in row and "answer" not in row  # no JSONB copies (0026)
    assert len(row["query_compact"]) == 3 * receipts.COMPACT_ENTRY
    assert b'"query":null' in row["canonical"] and b"id_number_hmac" not in row["canonical"]
    index = await wl.sql("SELECT id_number_index FROM people WHERE id = CAST(:id AS uuid)", id=person_id)
    index = index.scalar_one()
    assert sorted(row["subjects"]) == sorted(
        {subject_key(index), subject_key(receipts.batch_entries(row["query_compact"])[1]["id_number_hmac"])}
    )

    served = (await wl.client.get(f"/api/v1/receipts/{body['receipt_id']}", headers=school)).json()
    document = served["receipt"]
    assert [e["id_number_hmac"] for e in document["query"]["entries"]][::2] == [index, index]
    assert [e["vendor_credit_code"] for e in document["query"]["entries"]] == [vendor.credit_code, None, None]
    assert document["answer"] == {"results": body["results"]}
    assert served["canonical"] == json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    keys_text = (await wl.client.get("/api/v1/keys")).text
    key = parse_public_key(keys_text)
    assert verify(served, key) == []

    good, keys = tmp_path / "batch.json", tmp_path / "keys.json"
    good.write_text(json.dumps(served, ensure_ascii=False))
    keys.write_text(keys_text)
    ok = subprocess.run(
        [SCHOOLGATE, "receipts", "verify", str(good), "--public-key", str(keys)], capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    for change in ({"vendor_credit_code": None}, {"name_hmac": "0" * 64}):
        altered = copy.deepcopy(served)
        altered["receipt"]["query"]["entries"][0].update(change)
        altered["canonical"] = json.dumps(altered["receipt"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert [p.code for p in verify(altered, key)] == ["bad_signature"]
        bad = tmp_path / "altered.json"
        bad.write_text(json.dumps(altered, ensure_ascii=False))
        refused = subprocess.run(
            [SCHOOLGATE, "receipts", "verify", str(bad), "--public-key", str(keys)], capture_output=True, text=True
        )
        assert refused.returncode == 1 and "bad_signature" in refused.stdout

    items = (await wl.client.get(f"/api/v1/people/{person_id}/lookups", headers=vendor.headers)).json()["items"]
    assert [(i["kind"], i["result"]) for i in items] == [("person_batch", "cleared")]


async def test_a_batch_sharing_only_a_hash_prefix_is_not_listed_for_the_person(wl, owner_url):
    """`subjects` holds 64-bit prefixes; a batch naming another hash with the same prefix
    is found by the index and then dropped by the full-hash check."""
    vendor, reviewer, consent = await _setup(wl)
    person_id, number = await cleared_person(wl, vendor, reviewer, consent)
    school = await wl.school("360104")
    assert (await batch(wl, school, [{"id_number": number, "name": "王小明"}])).status_code == 200
    path = f"/api/v1/people/{person_id}/lookups"
    assert len((await wl.client.get(path, headers=vendor.headers)).json()["items"]) == 1
    conn = await asyncpg.connect(plain_dsn(owner_url))
    try:
        index = await conn.fetchval("SELECT id_number_index FROM people WHERE id = $1", uuid.UUID(person_id))
        twin = index[:16] + ("0" if index[16] != "0" else "1") + index[17:]  # same first 64 bits
        row = await conn.fetchrow("SELECT * FROM lookup_receipts WHERE kind = 'person_batch'")
        compact = receipts.compact_batch_query([(twin, "1" * 64, None)])
        await conn.execute(
            "INSERT INTO lookup_receipts (id, kind, subject, account_id, school_id, region_code, as_of, created_at, "
            "checkpoint_size, canonical, signature, subjects, query_compact) "
            "SELECT $1, kind, subject, account_id, school_id, region_code, as_of, created_at + interval '1 second', "
            "checkpoint_size, canonical, signature, subjects, $2 FROM lookup_receipts WHERE id = $3",
            uuid.uuid4(),
            compact,
            row["id"],
        )
    finally:
        await conn.close()
    items = (await wl.client.get(path, headers=vendor.headers)).json()["items"]
    assert len(items) == 1


async def test_receipt_canonical_uses_lz4_where_the_server_has_it(db):
    async with db.transaction() as session:
        offered = (
            await session.exec(text("SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'"))
        ).scalar_one()
        used = (
            await session.exec(
                text(
                    "SELECT attcompression::text FROM pg_attribute WHERE attrelid = 'lookup_receipts'::regclass "
                    "AND attname = 'canonical'"
                )
            )
        ).scalar_one()
        storage = (
            await session.exec(
                text(
                    "SELECT attstorage::text FROM pg_attribute WHERE attrelid = 'lookup_receipts'::regclass "
                    "AND attname = 'query_compact'"
                )
            )
        ).scalar_one()
    assert used.strip("\x00") == ("l" if "lz4" in offered else "")  # "": the server's default (pglz)
    assert storage == "e"  # keyed hashes do not compress: not even tried


async def test_batch_receipts_from_before_0014_still_verify_and_are_found(server_url, tmp_path):
    """A receipt stored by 0013 (JSONB copies, 64-character subjects) is converted in place:
    the person's hash is found by its prefix, and the receipt still serves as signed."""
    name = f"sg_m13_{os.getpid()}"
    admin = await _admin(server_url)
    await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    await admin.execute(f"CREATE DATABASE {name}")
    url = with_database(server_url, name)
    try:
        await asyncio.to_thread(upgrade, url, "0013", APP_ROLE)
        index, other = os.urandom(32).hex(), os.urandom(32).hex()
        entries = [
            {"id_number_hmac": index, "name_hmac": os.urandom(32).hex(), "vendor_credit_code": None},
            {"id_number_hmac": other, "name_hmac": os.urandom(32).hex(), "vendor_credit_code": None},
        ]
        query, answer = {"entries": entries}, {"results": [{"result": "not_cleared", "vendors": []}] * 2}
        canonical = receipts.canonical({"v": 1, "kind": "person_batch", "query": query, "answer": answer})
        receipt_id, account = uuid.uuid4(), uuid.uuid4()
        conn = await asyncpg.connect(plain_dsn(url))
        try:
            await conn.execute(
                "INSERT INTO lookup_receipts (id, kind, subject, account_id, region_code, query, answer, as_of, "
                "created_at, checkpoint_size, canonical, signature, subjects) VALUES ($1, 'person_batch', 'batch', "
                "$2, '360104', $3::jsonb, $4::jsonb, now(), now(), 0, $5, $6, $7)",
                receipt_id,
                account,
                json.dumps(query),
                json.dumps(answer),
                canonical,
                b"s" * 64,
                [index, other],
            )
        finally:
            await conn.close()
        await asyncio.to_thread(upgrade, url, "head", APP_ROLE)
        db = Database(as_role(url, APP_ROLE))
        try:
            found = await lookups_of(db, index)
            assert [r.receipt_id for r in found] == [receipt_id] and found[0].query == query
            assert found[0].answer == answer
            assert await lookups_of(db, os.urandom(32).hex()) == []
            pool = await db.raw_pool()
            async with pool.acquire() as conn:
                row = await conn.fetchrow("SELECT canonical, query_compact, subjects FROM lookup_receipts")
        finally:
            await db.dispose()
        assert bytes(row[0]) == canonical and row[1] is None
        assert sorted(row[2]) == sorted([subject_key(index), subject_key(other)])
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()


@pytest.mark.parametrize("codes", [[None, None], ["91360104MA35XXXX0N", None]])
def test_compact_entries_round_trip_to_the_signed_bytes(codes):
    entries = [(os.urandom(32).hex(), os.urandom(32).hex(), code) for code in codes]
    document = {
        "v": 1,
        "kind": "person_batch",
        "answer": {"results": [{"result": "not_cleared", "vendors": []}]},
        "query": {"entries": [{"id_number_hmac": a, "name_hmac": b, "vendor_credit_code": c} for a, b, c in entries]},
        "signer": {"origin": '甲\u2028"乙'},
    }
    compact = receipts.compact_batch_query(entries)
    stored = receipts.stored_batch_canonical(document)
    assert receipts.restore_canonical(stored, compact) == receipts.canonical(document)
    assert receipts.restore_canonical(receipts.canonical(document), None) == receipts.canonical(document)
