"""A real exported bundle verifies offline, and every kind of tampering is caught by
`schoolgate audit verify`, with the sequence number involved."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from service.audit import merkle
from service.audit.bundle import BundleEvent, write_bundle
from service.audit.checkpoint import Checkpoint, sign
from tests.conftest import plain_dsn
from tests.factories import vendor_payload

SCHOOLGATE = str(Path(sys.executable).with_name("schoolgate"))


def verify(bundle: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [SCHOOLGATE, "audit", "verify", str(bundle), *extra], capture_output=True, text=True, timeout=60
    )


@pytest.fixture
async def exported(client, accounts, tmp_path):
    """Twelve-odd real events, the admin headers, and a function that exports a bundle."""
    admin = await accounts.headers("admin")
    for region in ("360104", "360402", "360104", "360702"):
        assert (
            await client.post("/api/v1/vendors", json=vendor_payload(region_code=region), headers=admin)
        ).status_code == 201
    await accounts.headers("auditor", region_code="360100")
    keys = (await client.get("/api/v1/audit/keys")).json()
    key_file = tmp_path / "key.txt"
    key_file.write_text(keys["vkey"] + "\n")

    async def export(name: str = "bundle.ndjson", headers=admin, query: str = "") -> Path:
        response = await client.get(f"/api/v1/audit/export{query}", headers=headers)
        assert response.status_code == 200, response.text
        path = tmp_path / name
        path.write_bytes(response.content)
        return path

    return {"admin": admin, "export": export, "key": key_file, "tmp": tmp_path}


def lines_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def write_lines(path: Path, lines: list[dict]) -> Path:
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines))
    return path


def event_lines(lines: list[dict]) -> list[int]:
    return [i for i, line in enumerate(lines) if line["type"] == "event"]


async def test_an_untouched_export_verifies(exported):
    bundle = await exported["export"]()
    result = verify(bundle, "--public-key", str(exported["key"]))
    assert result.returncode == 0, result.stdout + result.stderr
    assert sum(1 for line in lines_of(bundle) if line["type"] == "event") == 6


async def test_a_partial_range_verifies(exported):
    bundle = await exported["export"](query="?from=2&to=5")
    result = verify(bundle, "--public-key", str(exported["key"]))
    assert result.returncode == 0, result.stdout + result.stderr
    assert [line["seq"] for line in lines_of(bundle) if line["type"] == "event"] == [2, 3, 4]


async def test_an_auditors_export_hides_other_regions_and_still_verifies(exported, accounts):
    auditor = await accounts.headers("auditor", region_code="360100")
    bundle = await exported["export"]("scoped.ndjson", headers=auditor)
    events = [line for line in lines_of(bundle) if line["type"] == "event"]
    assert any("canonical" not in e for e in events)  # Jiujiang and Ganzhou vendors are redacted
    assert not any("360402" in e.get("canonical", "") for e in events)
    assert verify(bundle, "--public-key", str(exported["key"])).returncode == 0


async def test_an_event_edited_in_the_database_is_located(exported, owner_url, client):
    """Someone with owner access disables the guard trigger and edits a row."""
    await client.get("/api/v1/audit/checkpoints/latest", headers=exported["admin"])  # sealed
    conn = await asyncpg.connect(plain_dsn(owner_url))
    try:
        await conn.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete")
        seq = await conn.fetchval(
            "SELECT l.seq FROM audit_leaves l JOIN audit_events e ON e.id = l.event_id "
            "WHERE e.action = 'vendors:vendor:register' ORDER BY l.seq LIMIT 1"
        )
        await conn.execute(
            "UPDATE audit_events SET canonical = convert_to(replace(convert_from(canonical, 'UTF8'), "
            "'360104', '360105'), 'UTF8') WHERE id = (SELECT event_id FROM audit_leaves WHERE seq = $1)",
            seq,
        )
    finally:
        await conn.close()
    bundle = await exported["export"]()
    result = verify(bundle, "--public-key", str(exported["key"]))
    assert result.returncode == 1
    assert f"seq {seq}: event_modified" in result.stdout


async def test_edited_deleted_inserted_and_swapped_lines(exported):
    bundle = await exported["export"]()
    original = lines_of(bundle)
    events = event_lines(original)
    key = ("--public-key", str(exported["key"]))

    edited = [dict(line) for line in original]
    target = edited[events[2]]
    target["canonical"] = target["canonical"].replace('"v":1', '"v":2')
    result = verify(write_lines(exported["tmp"] / "edited.ndjson", edited), *key)
    assert result.returncode == 1 and f"seq {target['seq']}: event_modified" in result.stdout

    deleted = [line for i, line in enumerate(original) if i != events[3]]
    result = verify(write_lines(exported["tmp"] / "deleted.ndjson", deleted), *key)
    assert result.returncode == 1 and f"seq {original[events[3]]['seq']}: missing_event" in result.stdout

    inserted = list(original)
    forged = dict(original[events[4]], canonical=original[events[4]]["canonical"].replace("register", "revoke"))
    inserted.insert(events[4] + 1, forged)
    result = verify(write_lines(exported["tmp"] / "inserted.ndjson", inserted), *key)
    assert result.returncode == 1 and f"seq {forged['seq']}: duplicate_event" in result.stdout

    swapped = list(original)
    a, b = events[1], events[5]
    swapped[a], swapped[b] = swapped[b], swapped[a]
    result = verify(write_lines(exported["tmp"] / "swapped.ndjson", swapped), *key)
    assert result.returncode == 1 and "out_of_order_event" in result.stdout

    contents_swapped = [dict(line) for line in original]
    x, y = contents_swapped[events[1]], contents_swapped[events[5]]
    x["canonical"], y["canonical"] = y["canonical"], x["canonical"]
    result = verify(write_lines(exported["tmp"] / "contents.ndjson", contents_swapped), *key)
    assert result.returncode == 1
    assert f"seq {x['seq']}: event_modified" in result.stdout and f"seq {y['seq']}: event_modified" in result.stdout


async def test_bad_checkpoint_signature(exported):
    lines = lines_of(await exported["export"]())
    for line in lines:
        if line["type"] == "checkpoint":
            body, signature = line["note"].rsplit(" ", 1)
            line["note"] = body + " " + ("A" if signature[0] != "A" else "B") + signature[1:]
    result = verify(write_lines(exported["tmp"] / "badsig.ndjson", lines), "--public-key", str(exported["key"]))
    assert result.returncode == 1 and "bad_checkpoint_signature" in result.stdout


async def test_a_log_cut_back_below_a_saved_checkpoint_is_caught(exported, client, accounts):
    earlier = await exported["export"]("earlier.ndjson")  # the log as it once was
    await accounts.headers("reviewer", region_code="360100")
    await accounts.headers("reviewer", region_code="360400")
    saved = (await client.get("/api/v1/audit/checkpoints/latest", headers=exported["admin"])).json()
    trusted = exported["tmp"] / "trusted.txt"
    trusted.write_text(saved["note"])
    # Later, someone serves the earlier, shorter log as if it were the whole story.
    result = verify(earlier, "--public-key", str(exported["key"]), "--trusted-checkpoint", str(trusted))
    assert result.returncode == 1 and "log_truncated" in result.stdout
    current = await exported["export"]("current.ndjson")
    assert verify(current, "--public-key", str(exported["key"]), "--trusted-checkpoint", str(trusted)).returncode == 0


async def test_a_rewritten_suffix_resigned_by_an_insider_is_caught(exported, client, app_signer):
    bundle = await exported["export"]()
    saved = (await client.get("/api/v1/audit/checkpoints/latest", headers=exported["admin"])).json()
    trusted = exported["tmp"] / "trusted.txt"
    trusted.write_text(saved["note"])
    original = [line for line in lines_of(bundle) if line["type"] == "event"]
    # The insider holds the signing key: rewrites the last two events and re-signs.
    texts = [e["canonical"] for e in original[:-2]] + [
        e["canonical"].replace("vendor", "school") for e in original[-2:]
    ]
    root = merkle.root_from_leaves([merkle.leaf_hash(t.encode()) for t in texts])
    note = sign(Checkpoint(app_signer.name, len(texts), root), app_signer.private_key, app_signer.name)
    forged = exported["tmp"] / "forged.ndjson"
    with forged.open("wb") as out:
        write_bundle(
            out,
            origin=app_signer.name,
            public_key=app_signer.vkey,
            start=0,
            end=len(texts),
            checkpoints=[note],
            events=[BundleEvent(i, t) for i, t in enumerate(texts)],
        )
    assert verify(forged, "--public-key", str(exported["key"])).returncode == 0  # self-consistent...
    result = verify(forged, "--public-key", str(exported["key"]), "--trusted-checkpoint", str(trusted))
    assert result.returncode == 1 and "trusted_checkpoint_mismatch" in result.stdout  # ...but not what was saved


async def test_the_verifier_takes_the_key_and_the_checkpoint_as_the_api_gives_them(exported, client):
    """`--public-key` in every form `receipts verify` takes (the JSON of either keys
    endpoint, PEM, vkey, base64) and `--trusted-checkpoint` as the JSON of
    /checkpoints/latest or its note with or without the final newline: all verify the
    bundle, as the log's key (no warning that the bundle's own key was used)."""
    tmp = exported["tmp"]
    earlier = await exported["export"]("earlier.ndjson")
    saved = await client.get("/api/v1/audit/checkpoints/latest", headers=exported["admin"])
    audit_keys = (await client.get("/api/v1/audit/keys")).json()
    service_keys = (await client.get("/api/v1/keys")).json()
    keys = {
        "audit-keys.json": json.dumps(audit_keys),
        "keys.json": json.dumps(service_keys),
        "key.pem": audit_keys["public_key_pem"],
        "key.vkey": audit_keys["vkey"],
        "key.b64": service_keys["public_key"] + "\n",
    }
    note = saved.json()["note"]
    assert note.endswith("\n")
    checkpoints = {
        "latest.json": saved.text,
        "note.txt": note,
        "note-no-newline.txt": note[:-1],
        "note-crlf.txt": note.replace("\n", "\r\n"),
    }
    for name, text in (keys | checkpoints).items():
        (tmp / name).write_text(text)
    await exported["export"]()  # more events since the saved checkpoint
    current = await exported["export"]("current.ndjson")
    for key in keys:
        for checkpoint in checkpoints:
            result = verify(current, "--public-key", str(tmp / key), "--trusted-checkpoint", str(tmp / checkpoint))
            assert result.returncode == 0, (key, checkpoint, result.stdout, result.stderr)
            assert "warning" not in result.stderr, (key, checkpoint, result.stderr)
    # The checkpoint is read, not skipped: the same forms catch a log cut back below it.
    await client.post("/api/v1/vendors", json=vendor_payload(region_code="360104"), headers=exported["admin"])
    later = (await client.get("/api/v1/audit/checkpoints/latest", headers=exported["admin"])).text
    (tmp / "later.json").write_text(later)
    (tmp / "later-note.txt").write_text(json.loads(later)["note"].rstrip("\n"))
    for checkpoint in ("later.json", "later-note.txt"):
        result = verify(earlier, "--public-key", str(tmp / "key.pem"), "--trusted-checkpoint", str(tmp / checkpoint))
        assert result.returncode == 1 and "log_truncated" in result.stdout, (checkpoint, result.stdout)


async def test_another_key_in_any_form_does_not_verify_and_a_bad_key_file_is_a_usage_error(exported):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    tmp, bundle = exported["tmp"], await exported["export"]()
    other = Ed25519PrivateKey.generate().public_key()
    (tmp / "other.pem").write_bytes(
        other.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    result = verify(bundle, "--public-key", str(tmp / "other.pem"))
    assert result.returncode == 1 and "no_valid_checkpoint" in result.stdout, result.stdout
    for name, text in (("garbage.txt", "not a key"), ("short.b64", "AAAA"), ("empty.json", "{}")):
        (tmp / name).write_text(text)
        result = verify(bundle, "--public-key", str(tmp / name))
        assert result.returncode == 2 and "bad public key" in result.stderr, (name, result.stderr)
    (tmp / "not-a-checkpoint.json").write_text('{"size": 3}')
    result = verify(
        bundle, "--public-key", str(exported["key"]), "--trusted-checkpoint", str(tmp / "not-a-checkpoint.json")
    )
    assert result.returncode == 2 and "note" in result.stderr, result.stderr
