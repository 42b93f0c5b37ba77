"""Appending to a stored tree: the compact frontier, and the node rows a batch completes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from service.audit.merkle.hashing import EMPTY_ROOT, fold, sha256
from service.audit.merkle.planning import NodeRef, root_nodes


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
            h = sha256(b"\x01" + hashes.pop() + h).digest()
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


def root_from_leaves(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH over a list of leaf hashes, computed a level at a time: each level pairs its
    nodes left to right, and an odd last node moves up unchanged — which is RFC 6962's
    split at the largest power of two, bottom-up (n - 1 node hashes, no per-leaf frontier
    bookkeeping: ~3x faster than appending leaf by leaf to a `CompactTree`)."""
    if not leaf_hashes:
        return EMPTY_ROOT
    level = list(leaf_hashes)
    while len(level) > 1:
        paired = [sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]
