"""Reference RFC 6962 proofs computed over the full list of leaf hashes (for tests,
small trees, and the lookup receipts' groups)."""

from __future__ import annotations

from collections.abc import Sequence

from service.audit.merkle.hashing import EMPTY_ROOT, node_hash, split


def _mth(leaves: Sequence[bytes], lo: int, hi: int) -> bytes:
    n = hi - lo
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaves[lo]
    k = split(n)
    return node_hash(_mth(leaves, lo, lo + k), _mth(leaves, lo + k, hi))


def inclusion_proof(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Reference RFC 6962 PATH(index, D[n]) over the full list of leaf hashes."""
    n = len(leaf_hashes)
    if not 0 <= index < n:
        raise ValueError(f"index {index} outside tree of size {n}")
    proof: list[bytes] = []
    lo, hi = 0, n
    while hi - lo > 1:
        k = split(hi - lo)
        if index < lo + k:
            proof.append(_mth(leaf_hashes, lo + k, hi))
            hi = lo + k
        else:
            proof.append(_mth(leaf_hashes, lo, lo + k))
            lo = lo + k
    proof.reverse()
    return proof


def inclusion_proofs(leaf_hashes: Sequence[bytes]) -> tuple[bytes, list[list[bytes]]]:
    """The root of a small tree and every leaf's RFC 6962 inclusion proof, in one pass:
    each subtree hash is computed once and appended to the proofs of the leaves on its
    other side (O(n log n); `inclusion_proof` per leaf would be O(n²)). For the lookup
    receipts one signature covers (`lookup.receipts.sign_group`)."""
    n = len(leaf_hashes)
    if n == 0:
        raise ValueError("no leaves")
    proofs: list[list[bytes]] = [[] for _ in range(n)]

    def subtree(lo: int, hi: int) -> bytes:
        if hi - lo == 1:
            return leaf_hashes[lo]
        k = lo + split(hi - lo)
        left, right = subtree(lo, k), subtree(k, hi)
        for i in range(lo, k):
            proofs[i].append(right)
        for i in range(k, hi):
            proofs[i].append(left)
        return node_hash(left, right)

    return subtree(0, n), proofs


def consistency_proof(m: int, n: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Reference RFC 6962 PROOF(m, D[n]) = SUBPROOF(m, D[n], true) over leaf hashes
    (``leaf_hashes`` must hold at least n leaves). Empty when m == 0 or m == n."""
    if not 0 <= m <= n <= len(leaf_hashes):
        raise ValueError(f"bad consistency range {m}..{n} for {len(leaf_hashes)} leaves")
    if m == 0 or m == n:
        return []
    proof: list[bytes] = []
    lo, hi, complete = 0, n, True
    while True:
        size = hi - lo
        if m == size:
            if not complete:
                proof.append(_mth(leaf_hashes, lo, hi))
            break
        k = split(size)
        if m <= k:
            proof.append(_mth(leaf_hashes, lo + k, hi))
            hi = lo + k
        else:
            proof.append(_mth(leaf_hashes, lo, lo + k))
            lo, m, complete = lo + k, m - k, False
    proof.reverse()
    return proof
