"""RFC 6962 / RFC 9162 Merkle tree hashing, proof planning over stored subtrees, and proof checks.

Pure functions (stdlib only): no database, no I/O.

Hashing (RFC 6962 §2.1)::

    leaf_hash(d)    = SHA-256(0x00 || d)
    node_hash(l, r) = SHA-256(0x01 || l || r)
    MTH([])         = SHA-256("")

Node addressing
---------------
A *perfect* (complete) subtree is named ``(level, index)``: it covers the leaves
``[index * 2**level, (index + 1) * 2**level)``. Level 0 nodes are the leaf hashes.
Every node of an RFC 6962 tree is either perfect or lies on the right edge of the
tree; a right-edge node covering ``[start, size)`` is the right-to-left fold of the
perfect nodes of the binary decomposition of ``size - start`` (largest first), see
`range_nodes` and `fold`. So a store that keeps every perfect node can answer any
root or proof with O(log n) point reads.

Storage contract (for the database layer)
-----------------------------------------
* Table of rows ``(level, index, hash)``, unique on ``(level, index)``; rows are only
  ever inserted.
* Appending leaf ``seq`` completes exactly the nodes `perfect_nodes_completed_by(seq)`:
  ``(0, seq)`` and ``(k, seq >> k)`` for every ``k >= 1`` with ``(seq + 1) % 2**k == 0``.
  To compute them for a batch appended to a tree of ``size`` leaves, read the
  *frontier* ``root_nodes(size)`` (at most ``log2(size) + 1`` rows), then call
  `append_leaves` (or feed a `CompactTree`); insert every returned row.
* Root of a tree of ``size``: read ``root_nodes(size)``, `assemble_root`.
* Inclusion proof: read ``nodes_needed(inclusion_proof_nodes(index, size))``, then
  `assemble_proof`; consistency proof likewise with `consistency_proof_nodes`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "AppendResult",
    "CompactTree",
    "NodeRef",
    "ProofPlan",
    "append_leaves",
    "assemble_proof",
    "assemble_root",
    "consistency_proof",
    "consistency_proof_nodes",
    "fold",
    "inclusion_proof",
    "inclusion_proof_nodes",
    "inclusion_proofs",
    "leaf_hash",
    "node_hash",
    "node_range",
    "nodes_needed",
    "perfect_nodes_completed_by",
    "range_nodes",
    "root_from_consistency_proof",
    "root_from_inclusion_proof",
    "root_from_leaves",
    "root_nodes",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
_sha256 = hashlib.sha256
EMPTY_ROOT = _sha256(b"").digest()

NodeRef = tuple[int, int]
"""A perfect subtree ``(level, index)``."""

ProofPlan = list[tuple[NodeRef, ...]]
"""One entry per proof element: the perfect nodes whose `fold` is that element."""


# --------------------------------------------------------------------------- hashing


def leaf_hash(data: bytes) -> bytes:
    """RFC 6962 leaf hash: SHA-256(0x00 || data)."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node hash: SHA-256(0x01 || left || right)."""
    return _sha256(b"\x01" + left + right).digest()


def fold(hashes: Sequence[bytes]) -> bytes:
    """Fold perfect-subtree hashes (left to right in the tree) into the hash of the
    right-edge node they make up, right to left as MTH does. ``fold([]) == EMPTY_ROOT``."""
    if not hashes:
        return EMPTY_ROOT
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = _sha256(b"\x01" + h + acc).digest()
    return acc


def _split(n: int) -> int:
    """The largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_from_leaves(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH over a list of leaf hashes (computed bottom-up with a stack: O(n) time,
    O(log n) extra memory)."""
    tree = CompactTree()
    for h in leaf_hashes:
        tree.append(h)
    return tree.root()


# ----------------------------------------------------------------- reference proofs


def _mth(leaves: Sequence[bytes], lo: int, hi: int) -> bytes:
    n = hi - lo
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaves[lo]
    k = _split(n)
    return node_hash(_mth(leaves, lo, lo + k), _mth(leaves, lo + k, hi))


def inclusion_proof(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Reference RFC 6962 PATH(index, D[n]) over the full list of leaf hashes."""
    n = len(leaf_hashes)
    if not 0 <= index < n:
        raise ValueError(f"index {index} outside tree of size {n}")
    proof: list[bytes] = []
    lo, hi = 0, n
    while hi - lo > 1:
        k = _split(hi - lo)
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
        k = lo + _split(hi - lo)
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
        k = _split(size)
        if m <= k:
            proof.append(_mth(leaf_hashes, lo + k, hi))
            hi = lo + k
        else:
            proof.append(_mth(leaf_hashes, lo, lo + k))
            lo, m, complete = lo + k, m - k, False
    proof.reverse()
    return proof


# ------------------------------------------------------------------- proof planning


def node_range(node: NodeRef) -> tuple[int, int]:
    """The leaves ``[start, end)`` covered by a perfect node."""
    level, index = node
    return index << level, (index + 1) << level


def range_nodes(start: int, end: int) -> list[NodeRef]:
    """The perfect nodes making up the MTH node over ``[start, end)``, left to right.

    ``[start, end)`` must be a node of some RFC 6962 tree: either a perfect aligned
    range, or a right-edge range whose start is aligned to a power of two at least as
    large as ``end - start``. ``fold`` of their hashes is the node's hash."""
    if not 0 <= start <= end:
        raise ValueError(f"bad range {start}..{end}")
    nodes: list[NodeRef] = []
    pos, remaining = start, end - start
    while remaining:
        level = remaining.bit_length() - 1
        if pos & ((1 << level) - 1):
            raise ValueError(f"range {start}..{end} is not an RFC 6962 subtree")
        nodes.append((level, pos >> level))
        pos += 1 << level
        remaining -= 1 << level
    return nodes


def root_nodes(size: int) -> list[NodeRef]:
    """The perfect nodes whose fold is the root of a tree of ``size`` leaves (one per
    set bit of size, largest first). Also the frontier needed to append to it."""
    return range_nodes(0, size)


def inclusion_proof_nodes(index: int, size: int) -> ProofPlan:
    """Plan of RFC 6962 PATH(index, D[size]): for each proof element, bottom-up, the
    perfect nodes to fetch (at most one element is a multi-node right-edge fold)."""
    if not 0 <= index < size:
        raise ValueError(f"index {index} outside tree of size {size}")
    plan: ProofPlan = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            plan.append(tuple(range_nodes(lo + k, hi)))
            hi = lo + k
        else:
            plan.append(tuple(range_nodes(lo, lo + k)))
            lo = lo + k
    plan.reverse()
    return plan


def consistency_proof_nodes(m: int, n: int) -> ProofPlan:
    """Plan of RFC 6962 PROOF(m, D[n]) as lists of perfect nodes (see
    `inclusion_proof_nodes`). Empty when m == 0 or m == n."""
    if not 0 <= m <= n:
        raise ValueError(f"bad consistency range {m}..{n}")
    if m == 0 or m == n:
        return []
    plan: ProofPlan = []
    lo, hi, complete = 0, n, True
    while True:
        size = hi - lo
        if m == size:
            if not complete:
                plan.append(tuple(range_nodes(lo, hi)))
            break
        k = _split(size)
        if m <= k:
            plan.append(tuple(range_nodes(lo + k, hi)))
            hi = lo + k
        else:
            plan.append(tuple(range_nodes(lo, lo + k)))
            lo, m, complete = lo + k, m - k, False
    plan.reverse()
    return plan


def nodes_needed(plan: Iterable[Sequence[NodeRef]]) -> set[NodeRef]:
    """Every distinct perfect node a plan reads (for one batched database query)."""
    return {node for element in plan for node in element}


def assemble_proof(plan: Iterable[Sequence[NodeRef]], fetched: Mapping[NodeRef, bytes]) -> list[bytes]:
    """Turn a plan and the fetched node hashes into the RFC 6962 proof.
    Raises KeyError naming a node that was not fetched."""
    return [fold([fetched[node] for node in element]) for element in plan]


def assemble_root(nodes: Sequence[NodeRef], fetched: Mapping[NodeRef, bytes]) -> bytes:
    """Root hash from the fetched ``root_nodes(size)``."""
    return fold([fetched[node] for node in nodes])


# ---------------------------------------------------------------------- appending


def perfect_nodes_completed_by(seq: int) -> list[NodeRef]:
    """The perfect nodes that become complete when leaf ``seq`` is appended:
    ``(0, seq)`` and ``(k, seq >> k)`` for each k >= 1 with ``(seq + 1) % 2**k == 0``."""
    if seq < 0:
        raise ValueError("seq must be >= 0")
    top = ((seq ^ (seq + 1)).bit_length()) - 1  # trailing one bits of seq
    return [(level, seq >> level) for level in range(top + 1)]


@dataclass
class CompactTree:
    """The frontier of an append-only Merkle tree: the hashes of ``root_nodes(size)``.

    O(log n) memory; `append` returns the perfect nodes it completes, which is exactly
    what a node store must insert."""

    size: int = 0
    hashes: list[bytes] = field(default_factory=list)

    def __post_init__(self) -> None:
        if len(self.hashes) != self.size.bit_count():
            raise ValueError(
                f"a tree of size {self.size} has {self.size.bit_count()} frontier nodes, got {len(self.hashes)}"
            )

    @classmethod
    def from_stored(cls, size: int, fetched: Mapping[NodeRef, bytes]) -> CompactTree:
        """Rebuild from the stored frontier nodes ``root_nodes(size)``."""
        return cls(size, [fetched[node] for node in root_nodes(size)])

    @property
    def nodes(self) -> list[NodeRef]:
        return root_nodes(self.size)

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Append one leaf hash; return the completed ``(level, index, hash)`` rows."""
        seq = self.size
        hashes = self.hashes
        rows = [(0, seq, leaf)]
        h = leaf
        level = 0
        while (seq >> level) & 1:
            h = _sha256(b"\x01" + hashes.pop() + h).digest()
            level += 1
            rows.append((level, seq >> level, h))
        hashes.append(h)
        self.size = seq + 1
        return rows

    def root(self) -> bytes:
        return fold(self.hashes)

    def copy(self) -> CompactTree:
        return CompactTree(self.size, list(self.hashes))


@dataclass(frozen=True)
class AppendResult:
    rows: list[tuple[int, int, bytes]]
    """Every new ``(level, index, hash)`` node row to insert, in completion order."""
    size: int
    root: bytes


def append_leaves(
    size: int, frontier: Sequence[bytes] | Mapping[NodeRef, bytes], leaf_hashes: Iterable[bytes]
) -> AppendResult:
    """Nodes to insert when appending a batch of leaf hashes to a stored tree of ``size``.

    ``frontier`` is the hashes of ``root_nodes(size)`` (in that order), or a mapping
    holding those nodes: the only existing rows the batch needs."""
    if isinstance(frontier, Mapping):
        tree = CompactTree.from_stored(size, frontier)
    else:
        tree = CompactTree(size, list(frontier))
    rows: list[tuple[int, int, bytes]] = []
    for h in leaf_hashes:
        rows.extend(tree.append(h))
    return AppendResult(rows, tree.size, tree.root())


# -------------------------------------------------------------------- verification


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
            r = _sha256(b"\x01" + p + r).digest()
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = _sha256(b"\x01" + r + p).digest()
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
            fr = _sha256(b"\x01" + c + fr).digest()
            sr = _sha256(b"\x01" + c + sr).digest()
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = _sha256(b"\x01" + sr + c).digest()
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
