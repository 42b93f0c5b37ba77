"""Writing a bundle: `BundleWriter` produces its lines one at a time, for synchronous
and asynchronous exporters alike; `bundle_lines` and `write_bundle` wrap it."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from service.audit import merkle
from service.audit.bundle.lines import FORMAT


@dataclass(frozen=True)
class BundleEvent:
    """One event to export. ``canonical`` None: a *redacted* event (e.g. outside the
    auditor's scope), carried as its leaf hash only; it still counts in the tree."""

    seq: int
    canonical: bytes | str | None
    nodes: Sequence[bytes] | None = None
    """Stored hashes of ``perfect_nodes_completed_by(seq)``, leaf first; None: computed."""
    leaf_hash: bytes | None = None
    """For a redacted event without ``nodes``: its stored leaf hash."""


def _dumps(obj: Any) -> bytes:
    # Raw U+0085/U+2028/U+2029 are valid in JSON strings but split lines for some text
    # tools (str.splitlines); escaping them keeps one line per object everywhere.
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    return text.replace("\x85", "\\u0085").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode("utf-8")


class BundleWriter:
    """Produces the lines (bytes ending in ``\\n``) of a bundle of events ``[start, end)``,
    one call at a time, so that synchronous and asynchronous exporters can share it::

        writer = BundleWriter(origin=..., public_key=vkey, start=a, end=b, checkpoints=[note], prefix=...)
        lines = writer.preamble()          # header, checkpoints, consistency proofs, prefix
        for event in events:               # or: async for
            lines.append(writer.event(event))
        writer.finish()                    # raises if events are missing

    ``checkpoints`` are signed notes (the largest must have size >= end); ``prefix``
    the hashes of ``merkle.root_nodes(start)``; ``consistency`` the proofs
    ``(first, head_size, proof)``. Events must come in seq order. Those without
    ``nodes`` get them computed (fine for fresh exports and tests; an export from the
    node store should pass the stored hashes, so that an edited event row is located
    by the verifier)."""

    def __init__(
        self,
        *,
        origin: str,
        public_key: str,
        start: int,
        end: int,
        checkpoints: Iterable[str],
        prefix: Sequence[bytes] = (),
        consistency: Iterable[tuple[int, int, Sequence[bytes]]] = (),
    ) -> None:
        if not 0 <= start <= end:
            raise ValueError(f"bad range {start}..{end}")
        prefix = list(prefix)
        if len(prefix) != start.bit_count():
            raise ValueError(f"a prefix of {start} events has {start.bit_count()} nodes, got {len(prefix)}")
        self.origin, self.public_key, self.start, self.end = origin, public_key, start, end
        self.checkpoints = list(checkpoints)
        self.consistency = [(m, n, list(proof)) for m, n, proof in consistency]
        self.prefix = prefix
        self._tree = merkle.CompactTree(start, list(prefix))
        self._expected = start

    def preamble(self) -> list[bytes]:
        lines = [_dumps({"type": "header", "format": FORMAT, "origin": self.origin, "from": self.start,
                         "to": self.end, "public_key": self.public_key}) + b"\n"]  # fmt: skip
        lines += [_dumps({"type": "checkpoint", "note": note}) + b"\n" for note in self.checkpoints]
        lines += [
            _dumps({"type": "consistency", "first": m, "second": n, "proof": [p.hex() for p in proof]}) + b"\n"
            for m, n, proof in self.consistency
        ]
        if self.start:
            lines.append(
                _dumps({"type": "prefix", "size": self.start, "nodes": [h.hex() for h in self.prefix]}) + b"\n"
            )
        return lines

    def event(self, item: BundleEvent | tuple[int, bytes | str]) -> bytes:
        if isinstance(item, BundleEvent):
            seq, canonical, nodes, leaf = item.seq, item.canonical, item.nodes, item.leaf_hash
        else:
            (seq, canonical), nodes, leaf = item, None, None
        if seq != self._expected or seq >= self.end:
            raise ValueError(f"expected event seq {self._expected} (range {self.start}..{self.end}), got {seq}")
        if isinstance(nodes, bytes | bytearray):
            raise TypeError("BundleEvent.nodes is a sequence of hashes; pass a single leaf hash as leaf_hash=")
        text = canonical.decode("utf-8") if isinstance(canonical, bytes | bytearray) else canonical
        tree = self._tree
        if nodes is None:
            if text is not None:
                leaf = merkle.leaf_hash(text.encode("utf-8"))
            elif leaf is None or len(leaf) != merkle.HASH_SIZE:
                raise ValueError(f"redacted event {seq} needs its leaf hash or nodes")
            nodes = [h for _, _, h in tree.append(leaf)]
        else:
            nodes = list(nodes)
            top = len(merkle.perfect_nodes_completed_by(seq)) - 1
            if len(nodes) != top + 1:
                raise ValueError(f"event {seq} completes {top + 1} nodes, got {len(nodes)} hashes")
            if top:
                del tree.hashes[-top:]
            tree.hashes.append(nodes[-1])
            tree.size += 1
        self._expected += 1
        hashes = b",".join(b'"%s"' % h.hex().encode() for h in nodes)
        if text is None:
            return b'{"type":"event","seq":%d,"leaf":"%s","nodes":[%s]}\n' % (seq, nodes[0].hex().encode(), hashes)
        return b'{"type":"event","seq":%d,"canonical":%s,"nodes":[%s]}\n' % (seq, _dumps(text), hashes)

    def finish(self) -> None:
        if self._expected != self.end:
            raise ValueError(f"events stop before seq {self._expected}, the bundle declares {self.end - 1} as its last")


def bundle_lines(
    *,
    events: Iterable[BundleEvent | tuple[int, bytes | str]],
    **kwargs: Any,
) -> Iterator[bytes]:
    """All lines of a bundle: `BundleWriter` keyword arguments, plus the events."""
    writer = BundleWriter(**kwargs)
    yield from writer.preamble()
    for item in events:
        yield writer.event(item)
    writer.finish()


def write_bundle(out: Any, **kwargs: Any) -> int:
    """Write `bundle_lines` (same keyword arguments) to ``out``: a binary or text stream,
    or a callable taking bytes. Returns the number of bytes written."""
    if callable(out) and not hasattr(out, "write"):
        write: Callable[[bytes], Any] = out
    elif isinstance(out, io.TextIOBase):

        def write(chunk: bytes) -> Any:
            return out.write(chunk.decode("utf-8"))
    else:
        write = out.write
    total = 0
    for line in bundle_lines(**kwargs):
        write(line)
        total += len(line)
    return total
