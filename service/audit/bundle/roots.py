"""The root checks that end a pass: every signed root against the tree the events
recompute (directly inside the bundle's range, through consistency proofs outside it),
the head against the bundle's end, and the auditor's trusted checkpoint."""

from __future__ import annotations

from collections.abc import Mapping

from service.audit import merkle
from service.audit.bundle.preamble import Preamble
from service.audit.bundle.tree import AddProblem, StreamTree
from service.audit.checkpoint import Checkpoint


class RootChecks:
    def __init__(self, pre: Preamble, head: Checkpoint, tree: StreamTree, add: AddProblem, *, locate: bool) -> None:
        self.pre, self.head, self.tree, self.add, self.locate = pre, head, tree, add, locate
        self.start, self.end, self.by_size, self.consistency = pre.start, pre.end, pre.by_size, pre.consistency
        self.trusted = pre.trusted

    def run(self) -> None:
        self._check_signed_roots()
        self._check_head_covers_events()
        if self.trusted is not None:
            self._check_trusted()

    def _localize(self, size: int, authentic_root: bytes, what: str = "the signed root") -> str:
        if not self.locate:
            return ""
        return self.tree.localize(size, authentic_root, self.add, start=self.start, end=self.end, what=what)

    def _check_signed_roots(self) -> None:
        """Each checkpoint inside the range against the recomputed root; each outside it
        (but the head) through a consistency proof to the head."""
        head = self.head
        for size, cp in sorted(self.by_size.items()):
            if self.start <= size <= self.end:
                got = self.tree.computed_root(size)
                if got is not None and got != cp.root_hash:
                    note = self._localize(size, cp.root_hash)
                    self.add(None, "root_mismatch", f"the events do not reproduce the signed root of size {size}{note}")
            elif size != head.size:
                _check_consistency(
                    self.consistency,
                    size,
                    head.size,
                    cp.root_hash,
                    head.root_hash,
                    self.add,
                    f"checkpoint of size {size}",
                )

    def _check_head_covers_events(self) -> None:
        """The head covers every event; a head past the end needs the events to be a
        prefix of its tree (a consistency proof from the end)."""
        head, end = self.head, self.end
        if head.size < end:
            self.add(
                head.size,
                "events_not_covered",
                f"events {head.size}..{end - 1} are not covered by any validly signed checkpoint",
            )
            return
        if head.size == end:
            return
        got = self.tree.computed_root(end)
        if got is None:
            return
        proof = self.consistency.get((end, head.size))
        if proof is None:
            self.add(
                None,
                "missing_consistency_proof",
                f"no consistency proof from size {end} (the bundle's end) to the head {head.size}",
            )
        elif not merkle.verify_consistency(end, head.size, proof, got, head.root_hash):
            roots = merkle.root_from_consistency_proof(end, head.size, proof, got)
            note = ""
            if roots is not None and roots[1] == head.root_hash and end & (end - 1):
                note = self._localize(end, roots[0])
            self.add(None, "root_mismatch", f"the events are not a prefix of the signed tree of size {head.size}{note}")

    def _check_trusted(self) -> None:
        """The bundle must extend the checkpoint the auditor saved earlier."""
        head, trusted = self.head, self.trusted
        assert trusted is not None
        t, h_size = trusted.size, head.size
        if t > h_size:
            self.add(
                h_size,
                "log_truncated",
                f"the trusted checkpoint has {t} events, the bundle's log only {h_size}: events {h_size}..{t - 1} are gone",
            )
        elif t in self.by_size and self.by_size[t].root_hash != trusted.root_hash:
            self.add(
                None,
                "trusted_checkpoint_mismatch",
                f"the log signed two different roots for size {t}, the trusted one and this bundle's: "
                "its history was forked or rewritten",
            )
        elif self.start <= t <= self.end:
            got = self.tree.computed_root(t)
            if got is not None and got != trusted.root_hash:
                note = self._localize(t, trusted.root_hash, "the trusted root")
                self.add(
                    None,
                    "trusted_checkpoint_mismatch",
                    f"the events before seq {t} do not reproduce the trusted checkpoint: they differ from the "
                    f"history it vouched for{note}",
                )
        else:
            _check_consistency(
                self.consistency,
                t,
                h_size,
                trusted.root_hash,
                head.root_hash,
                self.add,
                "the trusted checkpoint",
                mismatch_code="trusted_checkpoint_mismatch",
            )


def _check_consistency(
    consistency: Mapping[tuple[int, int], list[bytes]],
    m: int,
    n: int,
    root_m: bytes,
    root_n: bytes,
    add: AddProblem,
    what: str,
    mismatch_code: str = "consistency_proof_invalid",
) -> None:
    proof = consistency.get((m, n))
    if proof is None:
        add(None, "missing_consistency_proof", f"no consistency proof from {what} (size {m}) to the head (size {n})")
    elif not merkle.verify_consistency(m, n, proof, root_m, root_n):
        add(None, mismatch_code, f"{what} (size {m}) is not consistent with the head (size {n})")
