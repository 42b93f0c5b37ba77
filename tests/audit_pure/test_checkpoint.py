"""C2SP signed-note checkpoints: format, keys, signing and verification."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from service.audit.checkpoint import (
    Checkpoint,
    CheckpointError,
    NoteVerifier,
    key_id,
    make_skey,
    make_vkey,
    open_note,
    parse_and_verify,
    parse_skey,
    parse_vkey,
    sign,
    sign_note,
)

ORIGIN = "schoolgate.example/audit"
EM = "\u2014"

# The example of golang.org/x/mod/sumdb/note (note.go / example_test.go): an independent
# implementation of the same signed-note format, Ed25519 being deterministic.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_NOTE = (
    GO_TEXT
    + "\n"
    + f"{EM} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)

ROOT = hashlib.sha256(b"root").digest()
TS = datetime(2026, 3, 1, 10, 0, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


# ------------------------------------------------------------- interop vectors


def test_go_note_vector_verifies() -> None:
    text, names = open_note(GO_NOTE, [parse_vkey(GO_VKEY)])
    assert text == GO_TEXT
    assert names == ["PeterNeumann"]


def test_go_signer_key_reproduces_the_go_signature_and_vkey() -> None:
    name, private_key = parse_skey(GO_SKEY)
    assert name == "PeterNeumann"
    assert sign_note(GO_TEXT, private_key, name) == GO_NOTE
    assert make_vkey(name, private_key.public_key()) == GO_VKEY
    assert make_skey(name, private_key) == GO_SKEY


def test_key_id_is_sha256_of_name_newline_alg_key() -> None:
    verifier = parse_vkey(GO_VKEY)
    expected = hashlib.sha256(b"PeterNeumann\n\x01" + verifier.raw_key).digest()[:4]
    assert verifier.key_id == expected == bytes.fromhex("c74f20a3")
    assert key_id("PeterNeumann", verifier.raw_key) == expected


@pytest.mark.parametrize(
    "vkey",
    [
        GO_VKEY[:-1],
        GO_VKEY.replace("c74f20a3", "c74f20a4"),  # key ID does not match the key
        GO_VKEY.replace("+ARpc", "+AhRpc"),
        "PeterNeumann+c74f20a3",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        GO_VKEY.replace("+ARpc", "+AxRp"),
    ],
)
def test_mangled_vkeys_are_rejected(vkey: str) -> None:
    with pytest.raises(CheckpointError):
        parse_vkey(vkey)


# --------------------------------------------------------------- checkpoints


def test_body_format(key: Ed25519PrivateKey) -> None:
    cp = Checkpoint(ORIGIN, 1048576, ROOT, TS)
    assert cp.body_text() == f"{ORIGIN}\n1048576\n{base64.b64encode(ROOT).decode()}\ntimestamp 2026-03-01T10:00:00Z\n"
    assert Checkpoint(ORIGIN, 0, ROOT).body_text().count("\n") == 3


def test_sign_verify_round_trip(key: Ed25519PrivateKey) -> None:
    cp = Checkpoint(ORIGIN, 42, ROOT, TS)
    note = sign(cp, key)
    body, _, sig_line = note.rpartition("\n\n")
    assert body + "\n" == cp.body_text()
    assert sig_line.startswith(f"{EM} {ORIGIN} ") and sig_line.endswith("\n")
    blob = base64.b64decode(sig_line.split(" ")[2])
    assert len(blob) == 68 and blob[:4] == key_id(ORIGIN, key.public_key())

    vkey = make_vkey(ORIGIN, key.public_key())
    assert vkey.startswith(f"{ORIGIN}+{key_id(ORIGIN, raw_public(key)).hex()}+")
    assert parse_and_verify(note, vkey) == cp
    assert parse_and_verify(note.encode(), (ORIGIN, key.public_key()), origin=ORIGIN) == cp
    assert parse_and_verify(note, NoteVerifier.for_key(ORIGIN, raw_public(key))) == cp


def test_timestamps_keep_microseconds_and_need_a_timezone(key: Ed25519PrivateKey) -> None:
    cp = Checkpoint(ORIGIN, 1, ROOT, datetime(2026, 3, 1, 10, 0, 0, 123456, tzinfo=UTC))
    assert "timestamp 2026-03-01T10:00:00.123456Z\n" in cp.body_text()
    assert Checkpoint.parse_body(cp.body_text()) == cp
    with pytest.raises(ValueError):
        Checkpoint(ORIGIN, 1, ROOT, datetime(2026, 3, 1)).body_text()


def test_extension_lines_are_kept(key: Ed25519PrivateKey) -> None:
    cp = Checkpoint(ORIGIN, 7, ROOT, None, ("witness-policy v1",))
    assert parse_and_verify(sign(cp, key), make_vkey(ORIGIN, key.public_key())) == cp


def test_bad_signature_is_rejected(key: Ed25519PrivateKey) -> None:
    vkey = make_vkey(ORIGIN, key.public_key())
    note = sign(Checkpoint(ORIGIN, 42, ROOT, TS), key)
    forged = note.replace("\n42\n", "\n43\n")
    with pytest.raises(CheckpointError) as err:
        parse_and_verify(forged, vkey)
    assert err.value.code == "signature"

    sig = note.rstrip("\n").rsplit(" ", 1)[1]
    blob = bytearray(base64.b64decode(sig))
    blob[10] ^= 1
    flipped = note.replace(sig, base64.b64encode(bytes(blob)).decode())
    with pytest.raises(CheckpointError) as err:
        parse_and_verify(flipped, vkey)
    assert err.value.code == "signature"


def test_other_keys_are_ignored_but_one_trusted_signature_is_required(key: Ed25519PrivateKey) -> None:
    other = Ed25519PrivateKey.generate()
    note = sign(Checkpoint(ORIGIN, 5, ROOT, TS), key)
    witness_line = sign_note(Checkpoint(ORIGIN, 5, ROOT, TS).body_text(), other, "witness.example").split("\n\n")[1]
    cosigned = note + witness_line
    assert parse_and_verify(cosigned, make_vkey(ORIGIN, key.public_key())).size == 5
    with pytest.raises(CheckpointError) as err:
        parse_and_verify(note, make_vkey(ORIGIN, other.public_key()))
    assert err.value.code == "unknown_key"
    # the same name with another key is an unknown key, not a failed signature
    with pytest.raises(CheckpointError) as err:
        parse_and_verify(sign(Checkpoint(ORIGIN, 5, ROOT, TS), other), make_vkey(ORIGIN, key.public_key()))
    assert err.value.code == "unknown_key"


def test_origin_is_checked(key: Ed25519PrivateKey) -> None:
    note = sign(Checkpoint("other.example/log", 5, ROOT, TS), key, ORIGIN)
    with pytest.raises(CheckpointError) as err:
        parse_and_verify(note, make_vkey(ORIGIN, key.public_key()), origin=ORIGIN)
    assert err.value.code == "origin"


@pytest.mark.parametrize(
    "body",
    [
        f"{ORIGIN}\n042\n{base64.b64encode(ROOT).decode()}\n",  # leading zero
        f"{ORIGIN}\n-1\n{base64.b64encode(ROOT).decode()}\n",
        f"{ORIGIN}\n42\n{base64.b64encode(ROOT[:31]).decode()}\n",  # short root
        f"{ORIGIN}\n42\n{base64.b64encode(ROOT).decode().rstrip('=')}\n",  # unpadded
        f"{ORIGIN}\n42\n",
        f"{ORIGIN}\n42\n{base64.b64encode(ROOT).decode()}\ntimestamp yesterday\n",
        f"{ORIGIN}\n42\n{base64.b64encode(ROOT).decode()}\ntimestamp 2026-03-01T10:00:00+08:00\n",
    ],
)
def test_malformed_bodies_are_rejected(key: Ed25519PrivateKey, body: str) -> None:
    note = sign_note(body, key, ORIGIN)
    with pytest.raises(CheckpointError) as err:
        parse_and_verify(note, make_vkey(ORIGIN, key.public_key()))
    assert err.value.code == "format"


@pytest.mark.parametrize(
    "mangle",
    [
        lambda n: n.replace("\n\n", "\n"),  # no blank line
        lambda n: n.rstrip("\n"),  # no final newline
        lambda n: n.replace(EM, "-"),  # not an em dash
        lambda n: n.replace(ORIGIN + "\n", ORIGIN + "\r\n", 1),  # control character
        lambda n: n[: n.rindex(" ")] + " not*base64\n",
    ],
)
def test_malformed_notes_are_rejected(key: Ed25519PrivateKey, mangle) -> None:
    note = sign(Checkpoint(ORIGIN, 42, ROOT, TS), key)
    with pytest.raises(CheckpointError):
        parse_and_verify(mangle(note), make_vkey(ORIGIN, key.public_key()))


def test_invalid_key_names_are_refused(key: Ed25519PrivateKey) -> None:
    for name in ["", "has space", "a+b"]:
        with pytest.raises(CheckpointError):
            make_vkey(name, key.public_key())
