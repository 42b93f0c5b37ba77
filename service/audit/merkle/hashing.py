"""RFC 6962 §2.1 hashing: leaves, interior nodes, and the fold of a right-edge node."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

HASH_SIZE = 32
sha256 = hashlib.sha256
EMPTY_ROOT = sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """RFC 6962 leaf hash: SHA-256(0x00 || data)."""
    return sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node hash: SHA-256(0x01 || left || right)."""
    return sha256(b"\x01" + left + right).digest()


def fold(hashes: Sequence[bytes]) -> bytes:
    """Fold perfect-subtree hashes (left to right in the tree) into the hash of the
    right-edge node they make up, right to left as MTH does. ``fold([]) == EMPTY_ROOT``."""
    if not hashes:
        return EMPTY_ROOT
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = sha256(b"\x01" + h + acc).digest()
    return acc


def split(n: int) -> int:
    """The largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)
