"""The lookup hot path's per-process caches and group commit, through the HTTP API on
the real database: a warm vendor lookup makes one round trip (the grouped receipt
store), yet a change committed anywhere — a revocation, a revoked token — is what the
very next lookup answers; concurrent lookups share one commit and the rate limit still
holds row by row inside a group."""

from __future__ import annotations

import asyncio
import json
import random
import time
from datetime import timedelta

import asyncpg
import pytest
from sqlmodel import func, select

from service.audit.recorder import canonical_json
from service.config import Settings
from service.lookup import receipts
from service.lookup.cache import lookup_cache
from service.lookup.models import LookupReceipt
from service.lookup.vendors import warm_vendor_cache
from service.lookup.writer import writer
from service.timeutil import today_in_china

BAN = (today_in_china() + timedelta(days=30)).isoformat()


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(database_url=None, data_dir=tmp_path / "data", log_format="json", lookup_rate_per_minute=5)


@pytest.fixture
def raw_statements(monkeypatch) -> list[str]:
    """Every statement sent on a raw asyncpg connection (the lookups use nothing else)."""
    seen: list[str] = []

    def recording(name):
        original = getattr(asyncpg.Connection, name)

        async def recorded(self, query, *args, **kwargs):
            seen.append(" ".join(query.split())[:120])
            return await original(self, query, *args, **kwargs)

        return recorded

    for name in ("fetch", "fetchrow", "fetchval", "execute"):
        monkeypatch.setattr(asyncpg.Connection, name, recording(name))
    return seen


async def _receipt_count(wl) -> int:
    async with wl.db.transaction() as session:
        return (await session.exec(select(func.count()).select_from(LookupReceipt))).one()


def _inside_one_window(margin: float = 10) -> float:
    """Seconds to wait so that a short burst stays inside one rate-limit window."""
    left = 60 - time.time() % 60
    return left + 0.5 if left < margin else 0


async def test_a_warm_lookup_is_one_round_trip_and_a_revocation_is_seen_by_the_next(wl, raw_statements):
    vendor, _ = await wl.approved()
    school = await wl.school("360104")
    first, second = await wl.reviewer("360104"), await wl.reviewer("360104")
    assert await wl.status(school, vendor.credit_code) == "active"  # fills the caches

    raw_statements.clear()
    assert await wl.status(school, vendor.credit_code) == "active"
    assert len(raw_statements) == 1 and "lookup_store_receipts" in raw_statements[0], raw_statements

    request = (await wl.adjust(first, action="revoke", reason="撤销", vendor_id=vendor.id, ban_until=BAN)).json()
    assert (await wl.confirm(second, request["request"]["id"])).status_code == 200
    raw_statements.clear()
    # The cached state is refused by the receipt store (its version is no longer current):
    # the lookup reads afresh and answers what PostgreSQL holds now.
    assert await wl.status(school, vendor.credit_code) == "revoked"
    assert len(raw_statements) == 3, raw_statements
    assert await _receipt_count(wl) == 3  # the refused attempt stored nothing


async def test_the_warmer_fills_the_cache_and_a_document_change_still_counts(wl, raw_statements):
    vendor, _ = await wl.approved()
    school = await wl.school("360104")
    await wl.client.get("/api/v1/me", headers=school)  # the token is known to the worker
    assert await warm_vendor_cache(wl.db) >= 1
    raw_statements.clear()
    assert await wl.status(school, vendor.credit_code) == "active"
    assert len(raw_statements) == 1 and "lookup_store_receipts" in raw_statements[0], raw_statements
    before = lookup_cache(wl.db).version
    # Any change to what a vendor lookup reads moves the version (here: a service item).
    async with wl.db.transaction() as session:
        from sqlalchemy import text

        await session.exec(
            text(
                "UPDATE service_items SET activity = activity || '（新）' WHERE vendor_id = CAST(:v AS uuid)"
            ).bindparams(v=str(vendor.id))
        )
    body = (await wl.lookup(school, vendor.credit_code)).json()
    assert all(s["activity"].endswith("（新）") for s in body["services"]) and body["services"]
    assert lookup_cache(wl.db).version > before


async def test_a_revoked_token_is_refused_at_once_whatever_the_request(wl):
    vendor, _ = await wl.approved()
    school = await wl.school("360104")
    assert (await wl.lookup(school, vendor.credit_code)).status_code == 200  # token now cached
    assert (await wl.client.delete("/api/v1/tokens/current", headers=school)).status_code in (200, 204)
    stored = await _receipt_count(wl)
    assert (await wl.lookup(school, vendor.credit_code)).status_code == 401
    # Even a request that fails before its receipt (a bad code) answers 401, not 422.
    assert (await wl.lookup(school, "91360104MA0000015X")).status_code == 401
    assert (
        await wl.client.post(
            "/api/v1/lookup/people", headers=school, json={"id_number": "11010519491231002X", "name": "王"}
        )
    ).status_code == 401
    assert await _receipt_count(wl) == stored


async def test_concurrent_lookups_share_commits_and_the_limit_holds_row_by_row(wl, app_signer):
    vendor, _ = await wl.approved()
    school, other = await wl.school("360104"), await wl.school("360104")
    await asyncio.sleep(_inside_one_window())
    group_writer = writer(wl.db, app_signer)
    calls_before = group_writer.groups
    replies = await asyncio.gather(*(wl.lookup(school if i % 2 else other, vendor.credit_code) for i in range(16)))
    statuses = sorted(r.status_code for r in replies)
    # Two accounts, a limit of 5 each: exactly 10 answered, 6 refused, whatever the grouping.
    assert statuses == [200] * 10 + [429] * 6, statuses
    assert await _receipt_count(wl) == 10
    assert group_writer.groups - calls_before < 16  # several receipts per commit
    receipt_ids = {r.json()["receipt_id"] for r in replies if r.status_code == 200}
    assert len(receipt_ids) == 10
    # Each group commit is signed once; every receipt verifies on its own with its proof.
    key = receipts.parse_public_key((await wl.client.get("/api/v1/keys")).text)
    served = []
    for receipt_id in receipt_ids:
        for headers in (school, other):
            response = await wl.client.get(f"/api/v1/receipts/{receipt_id}", headers=headers)
            if response.status_code == 200:
                served.append(response.json())
    assert len(served) == 10 and all(receipts.verify(r, key) == [] for r in served)
    shared = max(served, key=lambda r: r["signed_group"]["size"])
    assert shared["signed_group"]["size"] > 1
    together = [r for r in served if r["signature"] == shared["signature"]]
    assert len(together) > 1 and len({r["signed_group"]["index"] for r in together}) == len(together)


def test_receipt_canonical_bytes_equal_the_verifiers_on_awkward_strings():
    rng = random.Random(5)
    alphabet = [chr(i) for i in range(0x250)] + ["\u2028", "\u2029", "\ufeff", "\U0001f600", "中", "\x7f"]
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        document = {"name": text, text + "k": [text, 1, None, True, {"b": -3, "a": text}], "n": 2**40}
        assert receipts.canonical(document) == canonical_json(document), json.dumps(text)


async def test_person_lookups_follow_a_region_settings_change_at_once(wl):
    """Region settings are cached per worker for person lookups; a change of the
    mandatory checks or of a validity is what the very next lookup applies."""
    from tests.lookup.people_world import authorisation, engage, lookup, record

    vendor, _ = await wl.approved(region_code="360104")
    reviewer = await wl.reviewer("360104")
    consent = await authorisation(wl.client, reviewer)
    person_id, number = await engage(wl, vendor)
    forty_days_ago = (today_in_china() - timedelta(days=40)).isoformat()
    for check_type in ("criminal_record", "sexual_offence_entry_query", "health_certificate"):
        await record(wl, person_id, reviewer, consent, check_type=check_type, query_date=forty_days_ago)
    school = await wl.school("360104")
    assert (await lookup(wl, school, number)).json()["result"] == "not_cleared"  # two checks missing; cache filled

    city = await wl.reviewer("360100")
    settings = "/api/v1/regions/360100/settings"
    three = ["criminal_record", "sexual_offence_entry_query", "health_certificate"]
    assert (await wl.client.put(settings, headers=city, json={"mandatory_checks": three})).status_code == 200
    assert (await lookup(wl, school, number)).json()["result"] == "cleared"
    shorter = {"check_validity_days": {"health_certificate": 30}}
    assert (await wl.client.put(settings, headers=city, json=shorter)).status_code == 200
    assert (await lookup(wl, school, number)).json()["result"] == "not_cleared"


async def test_a_cached_answer_stops_at_the_instant_the_entry_expires(wl, monkeypatch):
    """The answer cached for a region is time-dependent: it is used only until the next
    instant it could change (here: the entries' validity end), then evaluated again."""
    from datetime import datetime

    from service.lookup import vendors

    vendor, _ = await wl.approved()
    school = await wl.school("360104")
    first = (await wl.lookup(school, vendor.credit_code)).json()
    assert first["status"] == "active" and first["services"]
    assert (await wl.lookup(school, vendor.credit_code)).json()["status"] == "active"  # from the caches
    ends = min(datetime.fromisoformat(s["valid_until"]) for s in first["services"])
    monkeypatch.setattr(vendors, "utcnow", lambda: ends)
    assert (await wl.lookup(school, vendor.credit_code)).json()["status"] == "expired"


async def test_a_cached_answer_turns_active_at_the_instant_a_future_document_starts_counting(wl, monkeypatch):
    """A document valid from a future date is not in the cached state (it does not count
    yet), so the state's horizon is the instant it starts counting — midnight China
    time at the start of `valid_from` — and the lookup answers `active` from then on."""
    from datetime import datetime, time

    from service.lookup import vendors
    from service.timeutil import CHINA_TZ

    vendor, _ = await wl.approved()
    school = await wl.school("360104")
    await wl.sql("UPDATE documents SET valid_until = CURRENT_DATE - 2")
    starts = today_in_china() + timedelta(days=90)
    await wl.document(vendor, valid_from=starts.isoformat(), valid_until=(starts + timedelta(days=365)).isoformat())
    assert (await wl.lookup(school, vendor.credit_code)).json()["status"] == "expired"
    assert (await wl.lookup(school, vendor.credit_code)).json()["status"] == "expired"  # from the caches

    start = datetime.combine(starts, time(0), tzinfo=CHINA_TZ)
    cache = lookup_cache(wl.db)
    assert cache.vendor(vendor.credit_code, start - timedelta(microseconds=1)) is not None
    assert cache.vendor(vendor.credit_code, start) is None  # the horizon
    monkeypatch.setattr(vendors, "utcnow", lambda: start - timedelta(microseconds=1))
    assert (await wl.lookup(school, vendor.credit_code)).json()["status"] == "expired"
    monkeypatch.setattr(vendors, "utcnow", lambda: start)
    answer = (await wl.lookup(school, vendor.credit_code)).json()
    assert answer["status"] == "active" and answer["services"]


@pytest.fixture
def people_reads(monkeypatch) -> list[tuple[int | None, bool]]:
    """Each person read statement: ($4, the vendor-cache version it trusted; whether its
    head row carried the vendors' state)."""
    from service.lookup.people_reader import READ_PEOPLE

    reads: list[tuple[int | None, bool]] = []
    original = asyncpg.Connection.fetch

    async def fetch(self, query, *args, **kwargs):
        rows = await original(self, query, *args, **kwargs)
        if query == READ_PEOPLE:
            head = next(r for r in rows if r[0] == 0)
            reads.append((args[3], head["vendors"] is not None))
        return rows

    monkeypatch.setattr(asyncpg.Connection, "fetch", fetch)
    return reads


async def test_person_lookups_take_vendor_state_from_a_complete_cache_and_still_see_a_revocation(wl, people_reads):
    """Once the warmer has read every vendor, a person read leaves the vendors' state out
    of its statement and takes it from the cache — the same answer. A revocation moves
    the version: the very next lookup reads the state in the statement again."""
    from tests.lookup.people_world import authorisation, cleared_person, lookup

    vendor, _ = await wl.approved(region_code="360104")
    reviewer = await wl.reviewer("360104")
    consent = await authorisation(wl.client, reviewer)
    _, number = await cleared_person(wl, vendor, reviewer, consent)
    school = await wl.school("360104")
    fresh = (await lookup(wl, school, number)).json()
    assert fresh["result"] == "cleared" and people_reads[-1] == (None, True)

    assert await warm_vendor_cache(wl.db) >= 1
    version = lookup_cache(wl.db).version
    cached = (await lookup(wl, school, number)).json()
    assert people_reads[-1] == (version, False)
    assert {k: v for k, v in cached.items() if k not in ("checked_at", "receipt_id")} == {
        k: v for k, v in fresh.items() if k not in ("checked_at", "receipt_id")
    }

    first, second = await wl.reviewer("360104"), await wl.reviewer("360104")
    request = (await wl.adjust(first, action="revoke", reason="撤销", vendor_id=vendor.id, ban_until=BAN)).json()
    assert (await wl.confirm(second, request["request"]["id"])).status_code == 200
    assert (await lookup(wl, school, number)).json()["result"] == "not_cleared"
    assert people_reads[-1] == (version, True)  # the statement saw the newer version: state read in it


async def test_a_vendor_missing_from_a_complete_cache_makes_the_person_read_start_again(wl, people_reads, monkeypatch):
    """A vendor the cache cannot answer for (its state's time horizon has passed) sends
    the read back to PostgreSQL with the vendors' state in the statement."""
    from tests.lookup.people_world import authorisation, cleared_person, lookup

    vendor, _ = await wl.approved(region_code="360104")
    reviewer = await wl.reviewer("360104")
    consent = await authorisation(wl.client, reviewer)
    _, number = await cleared_person(wl, vendor, reviewer, consent)
    school = await wl.school("360104")
    assert await warm_vendor_cache(wl.db) >= 1
    version = lookup_cache(wl.db).version
    monkeypatch.setattr(lookup_cache(wl.db), "vendor", lambda code, at: None)
    people_reads.clear()
    assert (await lookup(wl, school, number)).json()["result"] == "cleared"
    assert people_reads == [(version, False), (None, True)]
