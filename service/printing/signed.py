"""Signed JSON for published lists (pure): canonical bytes, their SHA-256, an Ed25519 signature.

A list the bureau publishes (the whitelist, the notice board) is also served as JSON
signed by the service key, and the PDF prints that JSON's SHA-256 and carries it as
an associated file. Anyone can then check the paper against the key from
`GET /api/v1/keys` with no service at hand (docs/documents.md says how).

The signed message is `PREFIX + canonical`, the prefix naming what is signed, so the
signature can never be taken for a receipt's or a checkpoint's.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from service.audit import Signer, canonical_json
from service.lookup import receipt_key_id

PREFIX = b"schoolgate signed list v1\n"
ALGORITHM = "Ed25519"


def sign(signer: Signer, document: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    """The served form of `document` and its canonical bytes."""
    canonical = canonical_json(document)
    signature = signer.private_key.sign(PREFIX + canonical)
    served = {
        "document": document,
        "canonical": canonical.decode(),
        "sha256": hashlib.sha256(canonical).hexdigest(),
        "signature": base64.b64encode(signature).decode(),
        "algorithm": ALGORITHM,
        "key_id": receipt_key_id(signer.name, signer.public_key_raw),
        "public_key": base64.b64encode(signer.public_key_raw).decode(),
    }
    return served, canonical


def verify(served: dict[str, Any], public_raw: bytes) -> bool:
    """Does the served list verify under `public_raw` (its canonical text re-made from its fields)?"""
    try:
        canonical = canonical_json(served["document"])
        if served.get("canonical") not in (None, canonical.decode()):
            return False
        if served.get("sha256") not in (None, hashlib.sha256(canonical).hexdigest()):
            return False
        Ed25519PublicKey.from_public_bytes(public_raw).verify(base64.b64decode(served["signature"]), PREFIX + canonical)
    except (KeyError, TypeError, ValueError, InvalidSignature):
        return False
    return True
