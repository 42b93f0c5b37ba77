"""RFC 9162 proof checks: the root an inclusion or consistency proof implies."""

from __future__ import annotations

from collections.abc import Sequence

from service.audit.merkle.hashing import HASH_SIZE, sha256


def root_from_inclusion_proof(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes | None:
    """RFC 9162 §2.1.3.2: the root implied by an inclusion proof, or None when the
    proof has the wrong shape for (index, size)."""
    if not 0 <= index < size or len(leaf) != HASH_SIZE:
        return None
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if sn == 0 or len(p) != HASH_SIZE:
            return None
        if fn & 1 or fn == sn:
            r = sha256(b"\x01" + p + r).digest()
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = sha256(b"\x01" + r + p).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        return None
    return r


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2 inclusion proof verification of a leaf hash."""
    r = root_from_inclusion_proof(leaf, index, size, proof)
    return r is not None and r == root


def root_from_consistency_proof(m: int, n: int, proof: Sequence[bytes], root_m: bytes) -> tuple[bytes, bytes] | None:
    """RFC 9162 §2.1.4.2 walk for 0 < m < n: returns (fr, sr), the first and second
    roots the proof implies, or None when the proof has the wrong shape. When m is not
    a power of two, fr does not depend on ``root_m``; a proof whose sr equals a trusted
    second root therefore authenticates fr as the true root of size m."""
    if not 0 < m < n or not proof or any(len(p) != HASH_SIZE for p in proof):
        return None
    path = list(proof)
    if m & (m - 1) == 0:  # exact power of two
        path.insert(0, root_m)
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            fr = sha256(b"\x01" + c + fr).digest()
            sr = sha256(b"\x01" + c + sr).digest()
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = sha256(b"\x01" + sr + c).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        return None
    return fr, sr


def verify_consistency(m: int, n: int, proof: Sequence[bytes], root_m: bytes, root_n: bytes) -> bool:
    """RFC 9162 §2.1.4.2 consistency proof verification between tree sizes m <= n.

    m == n: the proof must be empty and the roots equal. m == 0: the empty tree is a
    prefix of every tree; the proof must be empty."""
    if not 0 <= m <= n:
        return False
    if m == n:
        return not proof and root_m == root_n
    if m == 0:
        return not proof
    roots = root_from_consistency_proof(m, n, proof, root_m)
    return roots is not None and roots[0] == root_m and roots[1] == root_n
