"""The streaming offline verifier (see the package docstring for what it checks and
what each kind of tampering produces).

`verify_bundle` runs one pass (`_Pass`), and a second one that also reads the carried
node hashes when a root disagrees and the input can be read again. A pass is a
sequence of named steps: read the preamble (`preamble.Preamble`: the header, the key, the
checkpoints, proofs and prefix, the trusted checkpoint), plan the sizes to fold the tree
at, stream the events (the next one in order on an inlined fast path, anything else on
the slow path that tracks order, gaps and duplicates), close the gaps, and check the
roots (`roots.RootChecks`)."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from hashlib import sha256
from typing import Any

from service.audit import merkle
from service.audit.bundle.lines import (
    ABSENT,
    KIND_NAMES,
    BadLine,
    EventLine,
    EventLineLight,
    canonical_seq_holder,
    decode_line,
    decode_line_light,
    decode_lines,
    decode_lines_light,
    decode_or_problem,
    hex_hash,
    join,
    line_batches,
)
from service.audit.bundle.preamble import Preamble
from service.audit.bundle.report import Problems, VerifyReport
from service.audit.bundle.roots import RootChecks
from service.audit.bundle.tree import AddProblem, StreamTree
from service.audit.checkpoint import NoteVerifier, parse_vkey
from service.audit.publickey import PublicKey

REORDER_WINDOW = 4096
"""How many later events may precede a missing seq before it is declared missing."""

_LOCATABLE = frozenset({"root_mismatch", "trusted_checkpoint_mismatch"})


def verify_bundle(
    lines: Iterable[str | bytes],
    public_key_vkey: str | PublicKey | None = None,
    trusted_checkpoint_note: str | None = None,
) -> VerifyReport:
    """Verify a bundle (see the package docstring).

    ``lines``: the bundle's lines (str or bytes), e.g. a list or a binary file; or the
    whole bundle as one str/bytes.
    ``public_key_vkey``: the log key the auditor trusts — a vkey (``name+keyid+base64``),
    or a `PublicKey` read from any published form (`service.audit.publickey`; a key
    without a name verifies under the bundle's origin); when None the key in the bundle
    header is used and a warning says so.
    ``trusted_checkpoint_note``: a checkpoint the auditor saved earlier; the bundle
    must extend it. Raises `CheckpointError` only for a malformed ``public_key_vkey``.

    The first pass ignores the carried node hashes, which only serve to locate
    tampering. If a recomputed root then disagrees with a signed one, and ``lines`` can
    be read again (a sequence, or a seekable file), a second pass locates the change."""
    if isinstance(lines, str | bytes | bytearray):  # the whole bundle as one text
        lines = lines.split("\n" if isinstance(lines, str) else b"\n")
    given_key = parse_vkey(public_key_vkey) if isinstance(public_key_vkey, str) else public_key_vkey
    rewind = _rewinder(lines)
    report = _Pass(lines, given_key, trusted_checkpoint_note, locate=rewind is None).run()
    if rewind is not None and any(p.code in _LOCATABLE for p in report.problems):
        report = _Pass(rewind(), given_key, trusted_checkpoint_note, locate=True).run()
    return report


def _rewinder(lines: Iterable[str | bytes]) -> Callable[[], Iterable[str | bytes]] | None:
    """How to read ``lines`` again for a second pass; None when it cannot be."""
    if isinstance(lines, Sequence):
        return lambda: lines
    seekable = getattr(lines, "seekable", None)
    if seekable is not None and hasattr(lines, "seek"):
        try:
            if seekable():
                # `lines` is a file here (it has seek and seekable), which Iterable does not say.
                position = lines.tell()  # type: ignore[attr-defined]

                def rewind() -> Iterable[str | bytes]:
                    lines.seek(position)
                    return lines

                return rewind
        except (OSError, ValueError):
            return None
    return None


class _Pass:
    """One streaming pass; with ``locate``, also compare the carried node hashes."""

    def __init__(
        self,
        lines: Iterable[str | bytes],
        given_key: NoteVerifier | PublicKey | None,
        trusted_note: str | None,
        *,
        locate: bool,
    ) -> None:
        self.lines, self.it = lines, iter(lines)
        self.given_key, self.trusted_note, self.locate = given_key, trusted_note, locate
        self.report = VerifyReport()
        self.problems = Problems(self.report)
        self.add: AddProblem = self.problems.add
        self.snap_order: list[int] = []
        self.snap_i = 0
        self.ahead: dict[int, tuple[bytes, list[str] | None, int]] = {}
        self.missing_ranges: list[tuple[int, int]] = []  # in increasing order
        self.missing_starts: list[int] = []
        self.redacted = 0

    def run(self) -> VerifyReport:
        pre = Preamble(self.it, self.report, self.add, self.given_key, self.trusted_note)
        if pre.read():
            self.start, self.end, self.expected, self.lineno = pre.start, pre.end, pre.start, pre.lineno
            self.first_event_raw, self.tree_ok = pre.first_event_raw, pre.tree_ok
            self.tree = StreamTree(pre.prefix)
            self._plan_snapshots(pre)
            self._read_events()
            self._close_gaps()
            if pre.head is not None:
                RootChecks(pre, pre.head, self.tree, self.add, locate=self.locate).run()
        self.problems.finish()
        return self.report

    def _plan_snapshots(self, pre: Preamble) -> None:
        """The sizes at which the streaming tree is folded into a root: the end, every
        checkpoint inside the range, the trusted checkpoint's."""
        start, end = self.start, self.end
        sizes = {end}
        sizes.update(s for s in pre.by_size if start <= s <= end)
        if pre.trusted is not None and start <= pre.trusted.size <= end:
            sizes.add(pre.trusted.size)
        self.snap_order = sorted(sizes)
        if self.tree_ok:
            while self.snap_i < len(self.snap_order) and self.snap_order[self.snap_i] <= start:
                if self.snap_order[self.snap_i] == start:
                    self.tree.snapshot(start)
                self.snap_i += 1

    # ------------------------------------------------------------------ the events

    def _next_snap(self) -> int:
        return self.snap_order[self.snap_i] if self.snap_i < len(self.snap_order) else -1

    def _leaf(self, seq: int, canonical: str, lineno: int) -> bytes:
        """The leaf hash of an event's canonical text; checks the seq the text carries."""
        try:
            data = canonical.encode()
            cseq = canonical_seq_holder(data).seq
        except ValueError as exc:
            self.add(seq, "bad_event_json", f"line {lineno}: event text is not a JSON object ({exc})")
            data = canonical.encode("utf-8", "surrogatepass")
        else:
            if cseq is not ABSENT and (cseq.__class__ is not int or cseq != seq):
                self.add(seq, "seq_mismatch", f"line {lineno}: event text says seq {cseq!r}, its line says {seq}")
        return merkle.leaf_hash(data)

    def _redacted_leaf(self, seq: int, leaf_hex: str | None, lineno: int) -> bytes:
        self.redacted += 1
        h = hex_hash(leaf_hex) if leaf_hex is not None else None
        if h is None:
            self.add(seq, "bad_line", f"line {lineno}: event {seq} has neither its text nor a valid leaf hash")
            return bytes(32)
        return h

    def _decoded_batches(self) -> Iterator[list[Any]]:
        """The event lines, decoded a batch per call (much cheaper per line); a batch
        with a bad or blank line is decoded line by line, to say which line is bad."""
        decode_many = decode_lines if self.locate else decode_lines_light
        decode_one = decode_line if self.locate else decode_line_light
        first = self.first_event_raw
        assert first is not None
        read = getattr(self.lines, "read", None) if first.__class__ is bytes else None
        for raw_lines, count in line_batches(first, self.it, read):
            try:
                decoded = decode_many(raw_lines if raw_lines.__class__ is not list else join(raw_lines))
                if len(decoded) != count:
                    raise ValueError("blank lines")
            except (ValueError, TypeError):
                one_by_one = raw_lines if isinstance(raw_lines, list) else bytes(raw_lines).split(b"\n")
                decoded = [decode_or_problem(raw, decode_one) for raw in one_by_one]
            yield decoded

    def _not_an_event(self, line: Any, lineno: int) -> None:
        if line.__class__ is BadLine:
            if line.message:
                self.add(None, "bad_line", f"line {lineno}: {line.message}")
        else:
            self.add(None, "bad_line", f"line {lineno}: {KIND_NAMES[line.__class__]} line after the first event")

    def _read_events(self) -> None:
        """Hash each event and feed it to the tree. The next event in order takes the
        inlined fast path (the hot loop of the verifier: locals only, no calls but the
        hashing); anything else — out of order, a gap, a broken tree — the slow one."""
        if self.first_event_raw is not None:
            self._stream()
        self.report.redacted = self.redacted
        if self.redacted:
            self.report.warnings.append(
                f"{self.redacted} event(s) are redacted (carried as their leaf hash only): their place in the log is "
                "verified, their content is not shown"
            )

    def _stream(self) -> None:
        tree, end = self.tree, self.end
        seq_of = canonical_seq_holder
        event_line = EventLine if self.locate else EventLineLight
        absent, add, leaf_of, redacted_leaf = ABSENT, self.add, self._leaf, self._redacted_leaf
        leaf_base, node_base = sha256(b"\x00").copy, sha256(b"\x01").copy
        cpop, cappend = tree.frontier.pop, tree.frontier.append
        bad, mark, link, snapshot = tree.bad, tree.mark, tree.link, tree.snapshot
        snap_order = self.snap_order
        next_snap = self._next_snap()
        # Invariant: fast == self.expected while the tree is intact, nothing waits in
        # `ahead` and expected < end; otherwise fast == -1 and every event is slow.
        fast = self.expected if self.tree_ok and self.expected < end else -1
        lineno, events = self.lineno, 0
        for decoded in self._decoded_batches():
            events += len(decoded)
            for lineno, ev in enumerate(decoded, lineno + 1):  # noqa: B020  (numbering goes on across batches)
                if ev.__class__ is not event_line:
                    events -= 1
                    self._not_an_event(ev, lineno)
                    continue
                seq = ev.seq
                canonical = ev.canonical
                if canonical is not None:
                    try:
                        data = canonical.encode()
                        cseq = seq_of(data).seq
                    except ValueError:
                        h = leaf_of(seq, canonical, lineno)  # reports the bad text
                    else:
                        if cseq is not absent and (cseq.__class__ is not int or cseq != seq):
                            add(
                                seq, "seq_mismatch", f"line {lineno}: event text says seq {cseq!r}, its line says {seq}"
                            )
                        x = leaf_base()
                        x.update(data)
                        h = x.digest()
                else:
                    h = redacted_leaf(seq, ev.leaf, lineno)
                nodes = ev.nodes
                if seq == fast:
                    # the next event, in order: push its leaf (and compare the nodes it
                    # completes with the carried ones, when locating)
                    if nodes is None:
                        if seq & 1:
                            for _ in range((seq ^ (seq + 1)).bit_length() - 1):
                                x = node_base()
                                x.update(cpop())
                                x.update(h)
                                h = x.digest()
                        cappend(h)
                    else:
                        top = (seq ^ (seq + 1)).bit_length() - 1
                        if len(nodes) != top + 1:
                            fast = self._slow(fast, seq, h, nodes, lineno)
                            next_snap = self._next_snap()
                            continue
                        if h.hex() != nodes[0]:
                            mark(0, seq, nodes[0], h)
                        for level in range(1, top + 1):
                            left = cpop()
                            if bad:
                                link(level, seq >> level, left, h)
                            x = node_base()
                            x.update(left)
                            x.update(h)
                            h = x.digest()
                            if h.hex() != nodes[level]:
                                mark(level, seq >> level, nodes[level], h)
                        cappend(h)
                    fast = seq + 1
                    if fast == next_snap:
                        snapshot(fast)
                        self.snap_i += 1
                        next_snap = snap_order[self.snap_i] if self.snap_i < len(snap_order) else -1
                        if fast == end:
                            self.expected, fast = end, -1
                    continue
                fast = self._slow(fast, seq, h, nodes, lineno)
                next_snap = self._next_snap()
        if fast != -1:
            self.expected = fast
        self.lineno = lineno
        self.report.events = events

    # -- the slow path: order, gaps, duplicates -------------------------------------------

    def _slow(self, fast: int, seq: int, h: bytes, nodes: list[str] | None, lineno: int) -> int:
        """Take an event off the fast path; returns the new value of `fast`."""
        if fast != -1:
            self.expected = fast
        self._place(seq, h, nodes, lineno)
        return self.expected if self.tree_ok and not self.ahead and self.expected < self.end else -1

    def _place(self, seq: int, h: bytes, nodes: list[str] | None, line: int) -> None:
        add, start, end, expected, ahead = self.add, self.start, self.end, self.expected, self.ahead
        if seq < start or seq >= end:
            add(seq, "event_out_of_range", f"line {line}: event {seq} is outside the bundle's range {start}..{end - 1}")
            return
        if seq < expected:
            i = bisect_right(self.missing_starts, seq) - 1
            if i >= 0 and seq < self.missing_ranges[i][1]:
                add(seq, "out_of_order_event", f"line {line}: event {seq} appears long after the events that follow it")
            else:
                add(seq, "duplicate_event", f"line {line}: event {seq} appears more than once")
            return
        if seq in ahead:
            add(seq, "duplicate_event", f"line {line}: event {seq} appears more than once")
            return
        if seq > expected:
            ahead[seq] = (h, nodes, line)
            if len(ahead) > REORDER_WINDOW:
                self._declare_missing(min(ahead))
                self._drain()
            return
        if ahead:
            add(seq, "out_of_order_event", f"line {line}: event {seq} appears after event {max(ahead)}")
        self._accept(seq, h, nodes)
        self._drain()

    def _accept(self, seq: int, h: bytes, nodes: list[str] | None) -> None:
        self.expected = seq + 1
        if self.tree_ok:
            self.tree.push(seq, h, nodes)
            order = self.snap_order
            while self.snap_i < len(order) and order[self.snap_i] <= self.expected:
                if order[self.snap_i] == self.expected:
                    self.tree.snapshot(self.expected)
                self.snap_i += 1

    def _declare_missing(self, upto: int) -> None:
        expected = self.expected
        if upto - expected == 1:
            self.add(expected, "missing_event", f"event {expected} is missing")
        else:
            self.add(expected, "missing_event", f"events {expected}..{upto - 1} are missing")
        self.missing_ranges.append((expected, upto))
        self.missing_starts.append(expected)
        self.tree_ok = False
        self.expected = upto

    def _drain(self) -> None:
        while self.expected in self.ahead:
            h, nodes, _ = self.ahead.pop(self.expected)
            self._accept(self.expected, h, nodes)

    def _close_gaps(self) -> None:
        """End of input: whatever is still waiting, and the tail, are missing."""
        while self.ahead:
            self._declare_missing(min(self.ahead))
            self._drain()
        if self.expected < self.end:
            self._declare_missing(self.end)
