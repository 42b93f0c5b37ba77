"""The service's public key in every form it publishes, read back (pure, no I/O).

One parser for both offline verifiers (`schoolgate audit verify` and `schoolgate
receipts verify`), so an auditor can hand either the same key file:

- the JSON of `GET /api/v1/keys` or `GET /api/v1/audit/keys` (its `vkey`, `public_key` or
  `public_key_pem`; when it holds several, they must agree);
- a PEM public key (`public_key_pem`);
- the C2SP verifier key (`vkey`, `<name>+<key id>+<base64(0x01 || key)>`), whose key ID
  is checked;
- the raw 32-byte key in base64 (`public_key`).

Only the vkey (or a JSON holding one, or an `origin`) names the key. A note signature is
made by a (name, key) pair, so a key given without its name verifies notes under the
name of the log being verified (`PublicKey.verifier(origin)`): what is trusted is the
key, and a forger without it cannot sign under any name.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from service.audit.checkpoint import CheckpointError, NoteVerifier, parse_vkey

__all__ = ["KeyFormatError", "PublicKey", "parse_public_key", "read_public_key"]

JSON_FORMS = ("vkey", "public_key", "public_key_pem")


class KeyFormatError(ValueError):
    """A public key file in no form the service publishes."""


@dataclass(frozen=True)
class PublicKey:
    raw: bytes  # the 32-byte Ed25519 key
    name: str | None = None  # the key's name, when the form carries it

    def verifier(self, origin: str) -> NoteVerifier:
        """The note verifier for this key: under its own name, else the log's `origin`."""
        try:
            return NoteVerifier.for_key(self.name or origin, self.raw)
        except CheckpointError as error:
            raise KeyFormatError(str(error)) from None


def parse_public_key(text: str) -> bytes:
    """The raw 32-byte key from any form the service publishes."""
    return read_public_key(text).raw


def read_public_key(text: str) -> PublicKey:
    """The key, and its name when the form says it, from any form the service publishes."""
    text = text.strip().lstrip("\ufeff")
    if text.startswith("{"):
        return _from_json(text)
    if text.startswith("-----BEGIN"):
        return PublicKey(_from_pem(text))
    if "+" in text and text.count("+") >= 2 and not text.endswith("="):
        return _from_vkey(text)
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        try:
            return _from_vkey(text)
        except KeyFormatError as error:
            raise KeyFormatError(f"unrecognised key format: {error}") from None
    if len(raw) != 32:
        raise KeyFormatError("a raw Ed25519 public key is 32 bytes")
    return PublicKey(raw)


def _from_json(text: str) -> PublicKey:
    try:
        data = json.loads(text)
    except ValueError as error:
        raise KeyFormatError(f"not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise KeyFormatError("the JSON is not an object")
    found = [read_public_key(data[field]) for field in JSON_FORMS if isinstance(data.get(field), str)]
    if not found:
        raise KeyFormatError("the JSON holds no public_key, vkey or public_key_pem")
    if len({key.raw for key in found}) > 1:
        raise KeyFormatError("the JSON's vkey, public_key and public_key_pem are not the same key")
    origin = data.get("origin") if isinstance(data.get("origin"), str) else None
    name = next((key.name for key in found if key.name), None) or origin
    if origin and name != origin:
        raise KeyFormatError(f"the JSON's vkey names {name!r}, its origin is {origin!r}")
    return PublicKey(found[0].raw, name)


def _from_pem(text: str) -> bytes:
    try:
        key = serialization.load_pem_public_key(text.encode())
    except ValueError as error:
        raise KeyFormatError(f"not a PEM public key: {error}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFormatError("the PEM key is not an Ed25519 key")
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _from_vkey(text: str) -> PublicKey:
    try:
        verifier = parse_vkey(text)
    except CheckpointError as error:
        raise KeyFormatError(str(error)) from None
    return PublicKey(verifier.raw_key, verifier.name)
