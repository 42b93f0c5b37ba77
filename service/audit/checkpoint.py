"""C2SP checkpoints (c2sp.org/tlog-checkpoint) as Ed25519 signed notes (c2sp.org/signed-note).

A checkpoint note looks like::

    schoolgate.example/audit
    1048576
    <base64 of the 32-byte RFC 6962 root>
    timestamp 2026-03-01T10:00:00Z

    — schoolgate.example/audit <base64(4-byte key ID || 64-byte Ed25519 signature)>

The body is the origin line, the tree size in decimal (no leading zeroes), the base64
root hash, then optional extension lines; each line ends in a newline. This log adds
one extension line, ``timestamp <RFC 3339 UTC>``, the time the checkpoint was signed
(tlog-checkpoint allows opaque extension lines but calls them NOT RECOMMENDED, as
monitors cannot audit them: verifiers of this log treat it as informational only).
The signature covers the whole body, extension lines included.

Key ID = SHA-256(key name || 0x0A || 0x01 || 32-byte public key)[:4] (0x01 = Ed25519).
A verifier key ("vkey") is written ``<name>+<8 hex digits key ID>+<base64(0x01 || public key)>``
and a signer key ("skey") ``PRIVATE+KEY+<name>+<key ID>+<base64(0x01 || 32-byte seed)>``,
the formats of Go's golang.org/x/mod/sumdb/note.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

__all__ = [
    "Checkpoint",
    "CheckpointError",
    "NoteVerifier",
    "key_id",
    "make_skey",
    "make_vkey",
    "open_note",
    "parse_and_verify",
    "parse_skey",
    "parse_vkey",
    "sign",
    "sign_note",
]

ALG_ED25519 = 0x01
SIGNATURE_PREFIX = "\u2014 "  # em dash, space
MAX_SIGNATURES = 100
TIMESTAMP_PREFIX = "timestamp "

_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_FORBIDDEN_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")


class CheckpointError(ValueError):
    """A note or checkpoint that must not be trusted.

    ``code`` is one of: ``format`` (malformed note/body/key), ``signature`` (a signature
    by the trusted key does not verify), ``unknown_key`` (no signature by the trusted
    key), ``origin`` (signed, but for another log)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# -------------------------------------------------------------------------- keys


def _raw_public(public_key: Ed25519PublicKey | bytes) -> bytes:
    if isinstance(public_key, Ed25519PublicKey):
        return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    if len(public_key) != 32:
        raise CheckpointError("format", "an Ed25519 public key is 32 bytes")
    return bytes(public_key)


def _check_key_name(name: str) -> None:
    if not name or any(ch.isspace() for ch in name) or "+" in name:
        raise CheckpointError("format", f"invalid key name {name!r}: must be non-empty, without spaces or '+'")


def key_id(name: str, public_key: Ed25519PublicKey | bytes) -> bytes:
    """The 4-byte signed-note key ID of an Ed25519 key."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + _raw_public(public_key)).digest()[:4]


@dataclass(frozen=True)
class NoteVerifier:
    """A trusted Ed25519 note key: name, key ID and public key."""

    name: str
    key_id: bytes
    public_key: Ed25519PublicKey = field(compare=False)
    raw_key: bytes = b""

    @classmethod
    def for_key(cls, name: str, public_key: Ed25519PublicKey | bytes) -> NoteVerifier:
        _check_key_name(name)
        raw = _raw_public(public_key)
        return cls(name, key_id(name, raw), Ed25519PublicKey.from_public_bytes(raw), raw)

    @property
    def vkey(self) -> str:
        return make_vkey(self.name, self.raw_key)

    def verify(self, signature: bytes, text: bytes) -> bool:
        try:
            self.public_key.verify(signature, text)
        except InvalidSignature:
            return False
        return True


def make_vkey(name: str, public_key: Ed25519PublicKey | bytes) -> str:
    """``<name>+<hex key ID>+<base64(0x01 || public key)>``."""
    _check_key_name(name)
    raw = _raw_public(public_key)
    return f"{name}+{key_id(name, raw).hex()}+{base64.b64encode(bytes([ALG_ED25519]) + raw).decode()}"


def _b64decode_strict(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise CheckpointError("format", f"{what} is not valid base64") from None
    if base64.b64encode(raw).decode() != text:
        raise CheckpointError("format", f"{what} is not canonical base64")
    return raw


def parse_vkey(vkey: str) -> NoteVerifier:
    """Parse a verifier key string; checks that the key ID matches the key."""
    parts = vkey.strip().split("+", 2)
    if len(parts) != 3:
        raise CheckpointError("format", "a verifier key is <name>+<key id>+<key>")
    name, hex_id, b64 = parts
    _check_key_name(name)
    if not re.fullmatch(r"[0-9a-f]{8}", hex_id):
        raise CheckpointError("format", "the key ID of a verifier key is 8 lowercase hex digits")
    data = _b64decode_strict(b64, "verifier key")
    if len(data) != 33 or data[0] != ALG_ED25519:
        raise CheckpointError("format", "only Ed25519 verifier keys (type 0x01, 32 bytes) are supported")
    verifier = NoteVerifier.for_key(name, data[1:])
    if verifier.key_id.hex() != hex_id:
        raise CheckpointError("format", "verifier key ID does not match its key")
    return verifier


def make_skey(name: str, private_key: Ed25519PrivateKey) -> str:
    """``PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || seed)>`` (keep secret)."""
    _check_key_name(name)
    seed = private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    kid = key_id(name, private_key.public_key())
    return f"PRIVATE+KEY+{name}+{kid.hex()}+{base64.b64encode(bytes([ALG_ED25519]) + seed).decode()}"


def parse_skey(skey: str) -> tuple[str, Ed25519PrivateKey]:
    """Parse a signer key string into (key name, private key)."""
    parts = skey.strip().split("+", 4)
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
        raise CheckpointError("format", "a signer key is PRIVATE+KEY+<name>+<key id>+<key>")
    name, hex_id, b64 = parts[2:]
    _check_key_name(name)
    data = _b64decode_strict(b64, "signer key")
    if len(data) != 33 or data[0] != ALG_ED25519:
        raise CheckpointError("format", "only Ed25519 signer keys are supported")
    private_key = Ed25519PrivateKey.from_private_bytes(data[1:])
    if key_id(name, private_key.public_key()).hex() != hex_id:
        raise CheckpointError("format", "signer key ID does not match its key")
    return name, private_key


# ------------------------------------------------------------------------ notes


def _check_note_chars(text: str) -> None:
    if _FORBIDDEN_CONTROL.search(text):
        raise CheckpointError("format", "a note must not contain control characters other than newline")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise CheckpointError("format", "a note must be valid UTF-8") from None


def sign_note(text: str, private_key: Ed25519PrivateKey, key_name: str) -> str:
    """Sign a note text (which must end in a newline) with one Ed25519 key."""
    _check_key_name(key_name)
    if not text.endswith("\n"):
        raise CheckpointError("format", "note text must end with a newline")
    _check_note_chars(text)
    signature = private_key.sign(text.encode("utf-8"))
    kid = key_id(key_name, private_key.public_key())
    return f"{text}\n{SIGNATURE_PREFIX}{key_name} {base64.b64encode(kid + signature).decode()}\n"


def open_note(note: str | bytes, verifiers: Iterable[NoteVerifier]) -> tuple[str, list[str]]:
    """Split and verify a signed note; return (text, names of keys that verified).

    Signatures by unknown keys are ignored; a failing signature by a known key rejects
    the note (``signature``), as does the absence of any known key's signature
    (``unknown_key``)."""
    if isinstance(note, bytes):
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError:
            raise CheckpointError("format", "a note must be valid UTF-8") from None
    _check_note_chars(note)
    if not note.endswith("\n"):
        raise CheckpointError("format", "a signed note ends with a newline")
    split = note.rfind("\n\n")
    if split < 0:
        raise CheckpointError("format", "no blank line between note text and signatures")
    text, sig_block = note[: split + 1], note[split + 2 :]
    sig_lines = sig_block.split("\n")[:-1]
    if not sig_lines:
        raise CheckpointError("format", "a signed note has at least one signature line")
    if len(sig_lines) > MAX_SIGNATURES:
        raise CheckpointError("format", f"more than {MAX_SIGNATURES} signatures")
    known = {(v.name, v.key_id): v for v in verifiers}
    text_bytes = text.encode("utf-8")
    verified: list[str] = []
    for line in sig_lines:
        if not line.startswith(SIGNATURE_PREFIX):
            raise CheckpointError("format", f"malformed signature line {line!r}")
        name, sep, b64 = line[len(SIGNATURE_PREFIX) :].partition(" ")
        if not sep or " " in b64:
            raise CheckpointError("format", f"malformed signature line {line!r}")
        _check_key_name(name)
        blob = _b64decode_strict(b64, "signature")
        if len(blob) < 5:
            raise CheckpointError("format", "signature too short")
        verifier = known.get((name, blob[:4]))
        if verifier is None:
            continue
        if len(blob) != 4 + 64 or not verifier.verify(blob[4:], text_bytes):
            raise CheckpointError("signature", f"signature by {name} does not verify")
        verified.append(name)
    if not verified:
        names = ", ".join(sorted({name for name, _ in known})) or "none"
        raise CheckpointError("unknown_key", f"note is not signed by a trusted key (trusted: {names})")
    return text, verified


# ------------------------------------------------------------------- checkpoints


def _format_time(ts: datetime) -> str:
    if ts.tzinfo is None:
        raise ValueError("checkpoint timestamp must be timezone-aware")
    ts = ts.astimezone(UTC)
    text = ts.strftime("%Y-%m-%dT%H:%M:%S")
    if ts.microsecond:
        text += f".{ts.microsecond:06d}"
    return text + "Z"


def _parse_time(text: str) -> datetime:
    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        raise CheckpointError("format", f"bad checkpoint timestamp {text!r}") from None
    if not text.endswith("Z") or ts.utcoffset() is None or _format_time(ts) != text:
        raise CheckpointError("format", f"checkpoint timestamp {text!r} is not canonical RFC 3339 UTC")
    return ts.astimezone(UTC)


@dataclass(frozen=True)
class Checkpoint:
    """A log's signed tree head: origin, size, RFC 6962 root hash, signing time."""

    origin: str
    size: int
    root_hash: bytes
    timestamp: datetime | None = None
    extensions: tuple[str, ...] = ()
    """Extension lines other than ``timestamp`` (kept verbatim, not interpreted)."""

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin or _FORBIDDEN_CONTROL.search(self.origin):
            raise CheckpointError("format", "origin must be a non-empty single line")
        if self.size < 0:
            raise CheckpointError("format", "tree size must be >= 0")
        if len(self.root_hash) != 32:
            raise CheckpointError("format", "root hash must be 32 bytes")
        for ext in self.extensions:
            if not ext or "\n" in ext or ext.startswith(TIMESTAMP_PREFIX):
                raise CheckpointError("format", f"bad extension line {ext!r}")

    def body_text(self) -> str:
        """The note text that gets signed."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root_hash).decode()]
        if self.timestamp is not None:
            lines.append(TIMESTAMP_PREFIX + _format_time(self.timestamp))
        lines.extend(self.extensions)
        return "\n".join(lines) + "\n"

    @classmethod
    def parse_body(cls, text: str) -> Checkpoint:
        """Parse a checkpoint note text (not verified: use `parse_and_verify`)."""
        if not text.endswith("\n"):
            raise CheckpointError("format", "checkpoint text must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3 or any(not line for line in lines):
            raise CheckpointError("format", "a checkpoint has at least three non-empty lines")
        origin, size_text, root_text, *rest = lines
        if not _DECIMAL.fullmatch(size_text):
            raise CheckpointError("format", f"bad tree size {size_text!r}")
        root = _b64decode_strict(root_text, "root hash")
        if len(root) != 32:
            raise CheckpointError("format", "root hash must be 32 bytes")
        timestamp = None
        extensions = []
        for line in rest:
            if line.startswith(TIMESTAMP_PREFIX):
                if timestamp is not None:
                    raise CheckpointError("format", "more than one timestamp line")
                timestamp = _parse_time(line[len(TIMESTAMP_PREFIX) :])
            else:
                extensions.append(line)
        return cls(origin, int(size_text), root, timestamp, tuple(extensions))


def sign(checkpoint: Checkpoint, private_key: Ed25519PrivateKey, key_name: str | None = None) -> str:
    """The signed note text of a checkpoint. The key name defaults to the origin
    (tlog-checkpoint: it SHOULD match the origin)."""
    return sign_note(checkpoint.body_text(), private_key, key_name or checkpoint.origin)


VerifierSpec = NoteVerifier | str | tuple[str, Ed25519PublicKey | bytes]


def _as_verifier(key: VerifierSpec) -> NoteVerifier:
    if isinstance(key, NoteVerifier):
        return key
    if isinstance(key, str):
        return parse_vkey(key)
    name, public_key = key
    return NoteVerifier.for_key(name, public_key)


def parse_and_verify(note: str | bytes, key: VerifierSpec, *, origin: str | None = None) -> Checkpoint:
    """Verify a checkpoint note against a trusted key (a `NoteVerifier`, a vkey string,
    or ``(key name, public key)``) and parse it. With ``origin``, also require that
    origin. Raises `CheckpointError`."""
    text, _ = open_note(note, [_as_verifier(key)])
    checkpoint = Checkpoint.parse_body(text)
    if origin is not None and checkpoint.origin != origin:
        raise CheckpointError("origin", f"checkpoint is for log {checkpoint.origin!r}, expected {origin!r}")
    return checkpoint
