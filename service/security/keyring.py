"""Keys for personal data: AES-256-GCM encryption with key ids, and an HMAC blind index.

The keyring is loaded once when the app is built (never per request) and handed to
services as a plain argument. Its source, in order:

1. `SCHOOLGATE_PERSONAL_DATA_KEYS` — the JSON document below, given by the operator;
2. `$SCHOOLGATE_DATA_DIR/keys/personal-data.json` — created on first use (mode 0600,
   directory 0700). Several worker processes may start at once: the file is written
   under a temporary name and published with link(2), which like O_EXCL fails if the
   name exists — so exactly one key set wins, and no reader ever sees half a file.

```json
{"current": "k1", "keys": {"k1": "<base64, 32 bytes>"}, "index_key": "<base64, 32 bytes>"}
```

Rotation: add a key, point `current` at it. New ciphertexts use the current key; each
ciphertext names its key, so old ones still decrypt. The index key cannot rotate
without re-indexing every row (the index must stay comparable), so it is separate.

Ciphertext layout: version byte 1, key-id length, key id (ASCII), 12-byte nonce, then
AES-GCM output (ciphertext + 16-byte tag). The associated data names the purpose
(e.g. `person.id_number`), so a ciphertext cannot be replayed into another field.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

ENV_VAR = "SCHOOLGATE_PERSONAL_DATA_KEYS"
KEY_FILE = Path("keys") / "personal-data.json"
VERSION = 1
NONCE_BYTES = 12
KEY_BYTES = 32
KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")


class KeyringError(Exception):
    """The key material is missing, malformed, or does not open a ciphertext.

    Messages name the problem, never key bytes or plaintext."""


class Keyring:
    def __init__(self, keys: Mapping[str, bytes], current: str, index_key: bytes) -> None:
        if current not in keys:
            raise KeyringError(f"current key id {current!r} is not among the keys")
        for key_id, key in keys.items():
            if not KEY_ID.match(key_id):
                raise KeyringError(f"key id {key_id!r} must be 1-32 characters of A-Z a-z 0-9 _ . -")
            if len(key) != KEY_BYTES:
                raise KeyringError(f"key {key_id!r} must be {KEY_BYTES} bytes (AES-256)")
        if len(index_key) < KEY_BYTES:
            raise KeyringError(f"the index key must be at least {KEY_BYTES} bytes")
        self.current_key_id = current
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self._headers = {key_id: bytes([VERSION, len(key_id)]) + key_id.encode() for key_id in keys}
        self._index = hmac.new(index_key, digestmod=hashlib.sha256)

    def __repr__(self) -> str:  # never the keys
        return f"Keyring(current={self.current_key_id!r}, keys={sorted(self._ciphers)})"

    @property
    def key_ids(self) -> list[str]:
        return sorted(self._ciphers)

    def encrypt(self, plaintext: bytes, purpose: bytes) -> bytes:
        key_id = self.current_key_id
        nonce = os.urandom(NONCE_BYTES)
        return self._headers[key_id] + nonce + self._ciphers[key_id].encrypt(nonce, plaintext, purpose)

    def encrypt_many(self, plaintexts: Sequence[bytes], purpose: bytes) -> list[bytes]:
        """`encrypt` of each, with every nonce from one read of the random source: a bulk
        import encrypts thousands per chunk, and a read per value gave up the GIL (and
        waited to get it back) once per value."""
        key_id = self.current_key_id
        header, cipher = self._headers[key_id], self._ciphers[key_id]
        randomness = os.urandom(NONCE_BYTES * len(plaintexts))
        nonces = (randomness[i : i + NONCE_BYTES] for i in range(0, len(randomness), NONCE_BYTES))
        return [
            header + nonce + cipher.encrypt(nonce, plaintext, purpose) for nonce, plaintext in zip(nonces, plaintexts)
        ]

    def decrypt(self, token: bytes, purpose: bytes) -> bytes:
        token = bytes(token)
        if len(token) < 2 or token[0] != VERSION:
            raise KeyringError("unknown ciphertext format")
        end = 2 + token[1]
        key_id = token[2:end].decode("ascii", "replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise KeyringError(f"ciphertext uses key {key_id!r}, which is not in the keyring")
        try:
            return cipher.decrypt(token[end : end + NONCE_BYTES], token[end + NONCE_BYTES :], purpose)
        except InvalidTag:
            raise KeyringError("ciphertext does not authenticate (wrong key, purpose or altered bytes)") from None

    @staticmethod
    def key_id_of(token: bytes) -> str:
        token = bytes(token)
        return token[2 : 2 + token[1]].decode("ascii", "replace")

    def blind_index(self, value: str) -> str:
        """HMAC-SHA256 of the (already normalised) value, hex: equal values, equal index."""
        mac = self._index.copy()
        mac.update(value.encode())
        return mac.hexdigest()

    # -- loading ---------------------------------------------------------------

    @classmethod
    def from_document(cls, document: Mapping) -> Keyring:
        try:
            keys = {str(k): _b64(v, f"key {k!r}") for k, v in dict(document["keys"]).items()}
            return cls(keys, str(document["current"]), _b64(document["index_key"], "index_key"))
        except (KeyError, TypeError, AttributeError) as error:
            raise KeyringError(f"key document lacks a field or has a wrong type: {type(error).__name__}") from None

    @classmethod
    def from_json(cls, text: str) -> Keyring:
        try:
            document = json.loads(text)
        except ValueError:
            raise KeyringError("key document is not valid JSON") from None
        if not isinstance(document, dict):
            raise KeyringError("key document must be a JSON object")
        return cls.from_document(document)


def new_key_document(key_id: str = "k1") -> dict:
    return {
        "current": key_id,
        "keys": {key_id: base64.b64encode(os.urandom(KEY_BYTES)).decode()},
        "index_key": base64.b64encode(os.urandom(KEY_BYTES)).decode(),
    }


def load_keyring(data_dir: Path, configured: str | None = None) -> Keyring:
    """The keyring: `configured` JSON (from `SCHOOLGATE_PERSONAL_DATA_KEYS`, see
    `Settings`), or the data dir's key file, created race-safely when missing."""
    if configured:
        return Keyring.from_json(configured)
    return Keyring.from_json(_read_or_create(Path(data_dir) / KEY_FILE))


def _read_or_create(path: Path) -> str:
    if path.exists():
        return path.read_text()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".personal-data.", suffix=".tmp")  # mode 0600
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(new_key_document(), handle)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)  # atomic, and fails if another process got there first
        except FileExistsError:
            pass
    finally:
        os.unlink(temporary)
    return path.read_text()


def _b64(value, what: str) -> bytes:
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        raise KeyringError(f"{what} is not valid base64") from None
