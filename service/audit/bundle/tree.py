"""The verifier's streaming Merkle tree: the frontier of perfect-subtree hashes, the
roots folded at the sizes that are checked, and — when locating tampering — the nodes
whose carried hash differs from the recomputed one, and the descent from an authentic
root through the carried hashes that says where the change is."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from hashlib import sha256

from service.audit import merkle
from service.audit.bundle.lines import hex_hash
from service.audit.merkle import NodeRef

_MAX_RECORDS = 200_000  # localisation memory bound (mismatching subtrees remembered)

AddProblem = Callable[[int | None, str, str], None]


@dataclass
class Snapshot:
    computed: list[bytes]
    stated: list[bytes | None]


class StreamTree:
    def __init__(self, prefix: Sequence[bytes]) -> None:
        self.frontier: list[bytes] = list(prefix)  # computed hashes of the perfect subtrees, left to right
        self.bad: dict[NodeRef, bytes | None] = {}  # frontier nodes whose carried hash differs
        self.records: dict[NodeRef, tuple[bytes | None, bytes | None, bytes, bytes]] = {}
        self.first_leaf: int | None = None  # the first leaf whose carried hash differs
        self.snapshots: dict[int, Snapshot] = {}

    # -- feeding leaves -----------------------------------------------------------------

    def mark(self, level: int, index: int, stated_hex: str | None, computed: bytes) -> None:
        """Remember a node whose carried hash differs from the recomputed one."""
        stated = hex_hash(stated_hex) if stated_hex is not None else None
        if stated != computed:
            self.bad[(level, index)] = stated
            if level == 0 and (self.first_leaf is None or index < self.first_leaf):
                self.first_leaf = index

    def link(self, level: int, index: int, left: bytes, right: bytes) -> None:
        """A node is being completed from two children, one of them differing: record the
        carried and computed children, so the descent can pass through it."""
        bad = self.bad
        kl, kr = (level - 1, 2 * index), (level - 1, 2 * index + 1)
        if kl in bad or kr in bad:
            sl, sr = bad.pop(kl, left), bad.pop(kr, right)
            if len(self.records) < _MAX_RECORDS:
                self.records[(level, index)] = (sl, sr, left, right)

    def push(self, seq: int, h: bytes, nodes: list[str] | None) -> None:
        """Add leaf `seq` (hash `h`); with the carried `nodes`, compare the nodes it completes."""
        frontier = self.frontier
        top = (seq ^ (seq + 1)).bit_length() - 1
        if nodes is None:  # first pass: carried hashes not read
            for _ in range(top):
                h = sha256(b"\x01" + frontier.pop() + h).digest()
            frontier.append(h)
            return
        stated: Sequence[str | None] = nodes if len(nodes) == top + 1 else [None] * (top + 1)
        self.mark(0, seq, stated[0], h)
        for level in range(1, top + 1):
            left = frontier.pop()
            if self.bad:
                self.link(level, seq >> level, left, h)
            h = sha256(b"\x01" + left + h).digest()
            self.mark(level, seq >> level, stated[level], h)
        frontier.append(h)

    def snapshot(self, size: int) -> None:
        """Keep the frontier at `size` (the tree has exactly `size` leaves now)."""
        refs = merkle.root_nodes(size)
        self.snapshots[size] = Snapshot(
            list(self.frontier), [self.bad.get(ref, c) for ref, c in zip(refs, self.frontier, strict=True)]
        )

    def computed_root(self, size: int) -> bytes | None:
        snap = self.snapshots.get(size)
        return merkle.fold(snap.computed) if snap is not None else None

    # -- locating -----------------------------------------------------------------------

    def localize(
        self, size: int, authentic_root: bytes, add: AddProblem, *, start: int, end: int, what: str = "the signed root"
    ) -> str:
        """Descend from an authentic root of `size` through the carried hashes; report
        what it finds, and return a note for the mismatch's message."""
        snap = self.snapshots.get(size)
        if snap is None:
            return ""
        stated = [s for s in snap.stated if s is not None]
        if len(stated) < len(snap.stated) or merkle.fold(stated) != authentic_root:
            first = self.first_leaf
            if first is not None and first < size:
                add(
                    first,
                    "event_hash_mismatch",
                    f"event {first} is the first whose hash differs from the leaf hash the bundle "
                    f"carries for it (a hint only: those carried hashes do not match {what} either)",
                )
            return f"; the node hashes carried in the bundle do not match {what} either, so the change cannot be located exactly"
        todo = [(ref, s) for ref, s, c in zip(merkle.root_nodes(size), stated, snap.computed, strict=True) if s != c]
        found = bool(todo)
        while todo:
            node, trusted_hash = todo.pop()
            children = self._trusted_children(node, trusted_hash)
            if children is not None:
                todo.extend(children)
            else:
                self._report_node(node, add, start, end)
        return "; see the located differences" if found else ""

    def _trusted_children(self, node: NodeRef, trusted_hash: bytes) -> list[tuple[NodeRef, bytes]] | None:
        """The differing children of `node` when its carried children hash to its trusted
        hash (so they can be trusted in turn); None where the descent stops."""
        level, index = node
        if level == 0:
            return None
        rec = self.records.get(node)
        if rec is None:
            return None
        sl, sr, cl, cr = rec
        if sl is None or sr is None or merkle.node_hash(sl, sr) != trusted_hash:
            return None
        children = [((level - 1, 2 * index), sl, cl), ((level - 1, 2 * index + 1), sr, cr)]
        return [(ref, s) for ref, s, c in reversed(children) if s != c]

    @staticmethod
    def _report_node(node: NodeRef, add: AddProblem, start: int, end: int) -> None:
        level, index = node
        if level == 0:
            add(index, "event_modified", f"event {index} differs from the event the log signed")
            return
        first, stop = merkle.node_range(node)
        if stop <= start:
            add(None, "bad_prefix", "the prefix subtree hashes do not match the signed tree")
        else:
            first = max(first, start)
            add(
                first,
                "events_modified_in_range",
                f"events {first}..{min(stop, end) - 1} differ from what the log signed "
                "(the carried hashes were altered too, so the change cannot be narrowed further)",
            )
