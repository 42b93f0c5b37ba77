"""Audit export bundles: format, writer, and the streaming offline verifier.

Format ``schoolgate-audit-bundle/1``
====================================

NDJSON: one JSON object per line (UTF-8, lines end in ``\\n``; blank lines are
ignored). Lines come in this order; everything before the first event line is the
*preamble*::

    {"type":"header","format":"schoolgate-audit-bundle/1","origin":O,"from":A,"to":B,"public_key":VKEY}
    {"type":"checkpoint","note":"<signed checkpoint note>"}          one or more
    {"type":"consistency","first":M,"second":H,"proof":["<hex>",...]} zero or more
    {"type":"prefix","size":A,"nodes":["<hex>",...]}                  iff A > 0
    {"type":"event","seq":S,"canonical":"<canonical JSON text>","nodes":["<hex>",...]}
    {"type":"event","seq":S,"leaf":"<hex>","nodes":["<hex>",...]}     a redacted event

* ``header``: first line. ``from``/``to`` is the half-open range ``[A, B)`` of event
  seqs the bundle carries; ``public_key`` is the log's note verifier key
  (``name+keyid+base64``), informational: an auditor passes the key they trust.
* ``checkpoint``: C2SP signed checkpoints (see `service.audit.checkpoint`) of the log
  ``origin``. The largest, the *head*, has size ``H >= B``. Every checkpoint whose
  size lies in ``[A, B]`` is checked by recomputing the tree at that size from the
  events; every other one needs a consistency line to the head.
* ``consistency``: RFC 6962 consistency proof from size ``M`` to the head size ``H``.
  Needed for each checkpoint outside ``[A, B]``, for ``M = B`` when ``B < H`` (that
  proves the events form a prefix of the head), and useful for any size an auditor may
  hold a trusted checkpoint of that is below ``A``; unused lines are ignored.
* ``prefix``: hashes of the perfect subtrees ``merkle.root_nodes(A)`` (left to right)
  covering the events before the bundle. With them the verifier continues the
  streaming tree computation at ``A`` instead of needing per-event inclusion proofs:
  O(log n) extra data instead of O(n log n). They need no proof of their own: a root
  recomputed from them and the events matches a signed root only if they are right.
* ``event``: ``canonical`` carries the exact canonical JSON text of the event as a JSON
  string; the leaf is SHA-256(0x00 || UTF-8 bytes of that text), never a
  re-serialisation. If the text has a top-level ``"seq"`` it must equal ``seq``.
  A *redacted* event (one the recipient may not see) has no ``canonical`` but
  ``"leaf":"<hex>"``, its leaf hash: it keeps its place in the tree, so everything
  else still verifies, and the report counts it.
  ``nodes`` are the stored hashes of ``merkle.perfect_nodes_completed_by(seq)``
  (leaf hash first, then the level 1, 2, ... nodes that leaf completes: on average two
  per event). They play no part in deciding whether the bundle is valid; they only
  serve to *locate* tampering (below).

Exporting from the node store
=============================

To export ``[A, B)`` (see `service.audit.merkle` for the storage contract): pick the
head checkpoint (size ``H``; ``B = H`` is simplest) and any older checkpoints to
include; read the ``root_nodes(A)`` rows for the prefix; stream the events ``A..B-1``
joined with their ``perfect_nodes_completed_by(seq)`` rows (level ``k``, index
``seq >> k``) and pass them as `BundleEvent` nodes; for each included checkpoint of size
``M`` outside ``[A, B]`` (and ``M = B`` when ``B < H``, and any size an auditor asks
for) read ``nodes_needed(consistency_proof_nodes(M, H))`` and `assemble_proof`. Then
`write_bundle`. Every read is a point read of O(log n) rows except the event stream.

Verification
============

Streaming, O(log n) memory apart from the problems found: parse each line, hash the
canonical bytes, and feed the leaf into a stack of perfect-subtree hashes (starting
from the prefix). At each checkpoint size (and the trusted checkpoint's size) the
stack is folded into a root and compared with the signed root. This first pass skips
the carried ``nodes``; only if a root disagrees does a second pass (when the input can
be read again: a sequence or a seekable file; otherwise the single pass does both)
compare each node a leaf completes with the carried one, to locate the change. What
each kind of tampering produces:

* **edited event** (text changed, carried hashes left alone, as when a database row is
  edited and then exported): the recomputed root differs (``root_mismatch``). To say
  *which* event, the verifier descends from the signed root through the carried node
  hashes: a carried pair of children is trusted only if it hashes to its already
  trusted parent, so the descent cannot be misled, and it ends at the leaf whose
  recomputed hash differs from its trusted hash: ``event_modified`` at that seq.
  A tamperer who also rewrites the carried hashes up to some level makes the descent
  stop at the lowest trusted node whose children do not hash to it:
  ``events_modified_in_range`` naming the first seq of that subtree; if even the
  top of the carried tree is wrong, ``event_hash_mismatch`` names the first event whose
  hash differs from its carried leaf hash, as an unauthenticated hint. (Locating an edit
  exactly against any tamperer needs an independent proof per event, O(n log n) data;
  this design keeps bundles O(n) and still pins down every naive edit.)
* **deleted event**: a gap in seq: ``missing_event`` at the first missing seq (events
  may be out of order in the file by up to `REORDER_WINDOW` lines before a gap is
  declared). A tail cut off the file: ``missing_event`` at the first missing seq.
* **inserted event**: a repeated seq (``duplicate_event``), a seq outside ``[A, B)``
  (``event_out_of_range``), and/or a root mismatch located as above.
* **swapped events**: lines out of order: ``out_of_order_event`` at the seq that
  appears late; contents swapped between seqs: the leaf hashes move, so
  ``event_modified`` at both seqs (and ``seq_mismatch`` where the text carries seq).
* **truncated log** (events *and* checkpoints cut back to an older signed state) is
  only visible against a checkpoint the auditor saved earlier: its size exceeds the
  bundle's head: ``log_truncated`` at the first seq the bundle no longer has.
* **rewritten history** (events re-hashed and checkpoints re-signed, e.g. by an insider
  with the key): the trusted checkpoint no longer matches the recomputed tree, or its
  consistency proof fails: ``trusted_checkpoint_mismatch`` (a single root cannot say
  where inside it the history changed, so no seq).
* **bad checkpoint signature**: ``bad_checkpoint_signature``; that checkpoint is not used.

Problem codes: ``bad_header``, ``bad_line``, ``bad_checkpoint``,
``bad_checkpoint_signature``, ``checkpoint_fork``, ``no_valid_checkpoint``,
``events_not_covered``, ``bad_prefix``, ``missing_consistency_proof``,
``consistency_proof_invalid``, ``root_mismatch``, ``event_modified``,
``events_modified_in_range``, ``event_hash_mismatch``, ``missing_event``, ``duplicate_event``,
``out_of_order_event``, ``event_out_of_range``, ``bad_event_json``, ``seq_mismatch``,
``bad_trusted_checkpoint``, ``trusted_checkpoint_mismatch``, ``log_truncated``,
``too_many_problems``.
"""

from __future__ import annotations

import io
import json
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from hashlib import sha256
from itertools import islice
from typing import Any, ClassVar

from service.audit import merkle
from service.audit.checkpoint import (
    Checkpoint,
    CheckpointError,
    NoteVerifier,
    open_note,
    parse_vkey,
)
from service.audit.merkle import NodeRef
from service.audit.publickey import KeyFormatError, PublicKey

__all__ = [
    "FORMAT",
    "REORDER_WINDOW",
    "BundleEvent",
    "BundleWriter",
    "Problem",
    "VerifyReport",
    "bundle_lines",
    "verify_bundle",
    "write_bundle",
]

FORMAT = "schoolgate-audit-bundle/1"
REORDER_WINDOW = 4096
"""How many later events may precede a missing seq before it is declared missing."""
MAX_PROBLEMS_PER_CODE = 100
_BATCH = 512  # event lines decoded per call
_CHUNK = 1 << 18  # bytes read per call from a binary file
_MAX_RECORDS = 200_000  # localisation memory bound (mismatching subtrees remembered)


# =============================================================================== writing


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
            lines.append(_dumps({"type": "prefix", "size": self.start, "nodes": [h.hex() for h in self.prefix]}) + b"\n")
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


# ============================================================================ reporting


@dataclass(frozen=True)
class Problem:
    seq: int | None
    code: str
    message: str

    def __str__(self) -> str:
        return f"seq {'-' if self.seq is None else self.seq}: {self.code}: {self.message}"


@dataclass
class VerifyReport:
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    origin: str | None = None
    from_seq: int | None = None
    to_seq: int | None = None
    events: int = 0
    """Event lines read."""
    redacted: int = 0
    """Event lines carrying only a leaf hash."""
    head: Checkpoint | None = None
    """The largest checkpoint with a valid signature."""
    key_name: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        if self.ok and self.head is not None:
            redacted = f", {self.redacted} of them redacted," if self.redacted else ""
            return (
                f"OK: {self.events} events (seq {self.from_seq}..{(self.to_seq or 0) - 1}){redacted} verified against "
                f"checkpoint of size {self.head.size} of {self.origin} signed by {self.key_name}"
            )
        if self.ok:
            return f"OK: {self.events} events"
        return f"FAILED: {len(self.problems)} problem(s) in {self.events} events"


class _Problems:
    def __init__(self, report: VerifyReport) -> None:
        self.report = report
        self.counts: dict[str, int] = {}
        self.seen: set[tuple[int | None, str, str]] = set()

    def add(self, seq: int | None, code: str, message: str) -> None:
        n = self.counts.get(code, 0)
        if n >= MAX_PROBLEMS_PER_CODE:  # past the cap only count (memory stays bounded)
            self.counts[code] = n + 1
            return
        key = (seq, code, message)
        if key in self.seen:
            return
        self.seen.add(key)
        self.counts[code] = n + 1
        self.report.problems.append(Problem(seq, code, message))

    def finish(self) -> None:
        """Order problems: those about the whole bundle first, then by seq; then overflow notes."""
        self.report.problems.sort(key=lambda p: (p.seq is not None, p.seq or 0))
        for code, n in sorted(self.counts.items()):
            if n > MAX_PROBLEMS_PER_CODE:
                self.report.problems.append(
                    Problem(None, "too_many_problems", f"{n - MAX_PROBLEMS_PER_CODE} more {code} problem(s) not listed")
                )


# ============================================================================= decoding

_ABSENT = object()

try:  # msgspec ships with the web framework; typed decoding is the fast path.
    from typing import Annotated

    import msgspec

    _NonNeg = Annotated[int, msgspec.Meta(ge=0)]

    class _HeaderLine(msgspec.Struct, tag_field="type", tag="header"):
        format: str
        origin: str
        from_: _NonNeg = msgspec.field(name="from")
        to: _NonNeg = 0
        public_key: str | None = None

    class _CheckpointLine(msgspec.Struct, tag_field="type", tag="checkpoint"):
        note: str

    class _ConsistencyLine(msgspec.Struct, tag_field="type", tag="consistency"):
        first: _NonNeg
        second: _NonNeg
        proof: list[str]

    class _PrefixLine(msgspec.Struct, tag_field="type", tag="prefix"):
        size: _NonNeg
        nodes: list[str]

    class _EventLine(msgspec.Struct, tag_field="type", tag="event", gc=False):  # no cycles: skip GC tracking
        seq: _NonNeg
        canonical: str | None = None
        nodes: list[str] = []
        leaf: str | None = None

    class _EventLineLight(msgspec.Struct, tag_field="type", tag="event", gc=False):
        """An event line read without its carried node hashes (first pass)."""

        seq: _NonNeg
        canonical: str | None = None
        leaf: str | None = None
        nodes: ClassVar[None] = None

    class _SeqOnly(msgspec.Struct):
        seq: Any = _ABSENT

    _AnyLine = _HeaderLine | _CheckpointLine | _ConsistencyLine | _PrefixLine | _EventLine
    _decode_line = msgspec.json.Decoder(_AnyLine).decode
    _decode_lines = msgspec.json.Decoder(_AnyLine).decode_lines  # newline-delimited, blank lines skipped
    _AnyLineLight = _HeaderLine | _CheckpointLine | _ConsistencyLine | _PrefixLine | _EventLineLight
    _decode_line_light = msgspec.json.Decoder(_AnyLineLight).decode
    _decode_lines_light = msgspec.json.Decoder(_AnyLineLight).decode_lines
    _canonical_seq_holder = msgspec.json.Decoder(_SeqOnly).decode  # .seq of the result

    JSON_BACKEND = "msgspec"

except ImportError:  # pragma: no cover - exercised only without msgspec
    try:
        import orjson

        _loads: Callable[[Any], Any] = orjson.loads
        JSON_BACKEND = "orjson"
    except ImportError:
        _loads = json.loads
        JSON_BACKEND = "json"

    def _int(d: Mapping[str, Any], key: str, default: Any = _ABSENT) -> int:
        v = d.get(key, default)
        if v is _ABSENT or type(v) is not int or v < 0:
            raise ValueError(f"{key!r} must be a non-negative integer")
        return v

    def _str(d: Mapping[str, Any], key: str, default: Any = _ABSENT) -> Any:
        v = d.get(key, default)
        if v is _ABSENT or not (v is None and default is None or type(v) is str):
            raise ValueError(f"{key!r} must be a string")
        return v

    def _strs(d: Mapping[str, Any], key: str, default: Any = _ABSENT) -> list[str]:
        v = d.get(key, default)
        if type(v) is not list or any(type(x) is not str for x in v):
            raise ValueError(f"{key!r} must be a list of strings")
        return v

    class _HeaderLine:  # type: ignore[no-redef]
        __slots__ = ("format", "origin", "from_", "to", "public_key")

        def __init__(self, d: Mapping[str, Any]) -> None:
            self.format, self.origin = _str(d, "format"), _str(d, "origin")
            self.from_, self.to = _int(d, "from"), _int(d, "to", 0)
            self.public_key = _str(d, "public_key", None)

    class _CheckpointLine:  # type: ignore[no-redef]
        __slots__ = ("note",)

        def __init__(self, d: Mapping[str, Any]) -> None:
            self.note = _str(d, "note")

    class _ConsistencyLine:  # type: ignore[no-redef]
        __slots__ = ("first", "second", "proof")

        def __init__(self, d: Mapping[str, Any]) -> None:
            self.first, self.second, self.proof = _int(d, "first"), _int(d, "second"), _strs(d, "proof")

    class _PrefixLine:  # type: ignore[no-redef]
        __slots__ = ("size", "nodes")

        def __init__(self, d: Mapping[str, Any]) -> None:
            self.size, self.nodes = _int(d, "size"), _strs(d, "nodes")

    class _EventLine:  # type: ignore[no-redef]
        __slots__ = ("seq", "canonical", "nodes", "leaf")

        def __init__(self, d: Mapping[str, Any]) -> None:
            self.seq, self.canonical, self.nodes = _int(d, "seq"), _str(d, "canonical", None), _strs(d, "nodes", [])
            self.leaf = _str(d, "leaf", None)

    _KINDS = {
        "header": _HeaderLine,
        "checkpoint": _CheckpointLine,
        "consistency": _ConsistencyLine,
        "prefix": _PrefixLine,
        "event": _EventLine,
    }

    def _decode_line(raw: str | bytes) -> Any:
        d = _loads(raw)
        if type(d) is not dict or d.get("type") not in _KINDS:
            raise ValueError("not a bundle line object with a known type")
        return _KINDS[d["type"]](d)

    def _decode_lines(buf: str | bytes | memoryview) -> list[Any]:
        if isinstance(buf, memoryview):
            buf = bytes(buf)
        return [_decode_line(line) for line in buf.split("\n" if isinstance(buf, str) else b"\n") if line.strip()]

    _EventLineLight = _EventLine
    _decode_line_light = _decode_line
    _decode_lines_light = _decode_lines

    class _SeqHolder:
        __slots__ = ("seq",)

        def __init__(self, seq: Any) -> None:
            self.seq = seq

    def _canonical_seq_holder(text: str) -> Any:
        d = _loads(text)
        if type(d) is not dict:
            raise ValueError("event JSON is not an object")
        return _SeqHolder(d.get("seq", _ABSENT))


def _hex_hashes(values: Sequence[str]) -> list[bytes] | None:
    try:
        out = [bytes.fromhex(v) for v in values]
    except ValueError:
        return None
    return out if all(len(h) == 32 for h in out) else None


def _hex_hash(value: str) -> bytes | None:
    try:
        h = bytes.fromhex(value)
    except ValueError:
        return None
    return h if len(h) == 32 else None


_KIND_NAMES = {
    _HeaderLine: "header",
    _CheckpointLine: "checkpoint",
    _ConsistencyLine: "consistency",
    _PrefixLine: "prefix",
    _EventLine: "event",
    _EventLineLight: "event",
}


# ============================================================================ verifying


@dataclass
class _Snapshot:
    computed: list[bytes]
    stated: list[bytes | None]


def verify_bundle(
    lines: Iterable[str | bytes],
    public_key_vkey: str | PublicKey | None = None,
    trusted_checkpoint_note: str | None = None,
) -> VerifyReport:
    """Verify a bundle (see the module docstring).

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
        lines = lines.split("\n" if isinstance(lines, str) else b"\n")  # type: ignore[arg-type]
    rewind = _rewinder(lines)
    report = _verify_pass(lines, public_key_vkey, trusted_checkpoint_note, locate=rewind is None)
    if rewind is not None and any(p.code in _LOCATABLE for p in report.problems):
        report = _verify_pass(rewind(), public_key_vkey, trusted_checkpoint_note, locate=True)
    return report


_LOCATABLE = frozenset({"root_mismatch", "trusted_checkpoint_mismatch"})


def _rewinder(lines: Iterable[str | bytes]) -> Callable[[], Iterable[str | bytes]] | None:
    """How to read ``lines`` again for a second pass; None when it cannot be."""
    if isinstance(lines, Sequence):
        return lambda: lines
    seekable = getattr(lines, "seekable", None)
    if seekable is not None and hasattr(lines, "seek"):
        try:
            if seekable():
                position = lines.tell()  # type: ignore[attr-defined]

                def rewind() -> Iterable[str | bytes]:
                    lines.seek(position)  # type: ignore[attr-defined]
                    return lines

                return rewind
        except (OSError, ValueError):
            return None
    return None


def _verify_pass(
    lines: Iterable[str | bytes], public_key_vkey: str | PublicKey | None, trusted_checkpoint_note: str | None, *,
    locate: bool
) -> VerifyReport:
    """One streaming pass; with ``locate``, also compare the carried node hashes."""
    report = VerifyReport()
    problems = _Problems(report)
    add = problems.add
    given_key = parse_vkey(public_key_vkey) if isinstance(public_key_vkey, str) else public_key_vkey

    it = iter(lines)
    lineno = 0

    # ---------------------------------------------------------------- header
    header = None
    for raw in it:
        lineno += 1
        try:
            obj = _decode_line(raw)
        except ValueError as exc:
            if not raw.strip():
                continue
            add(None, "bad_header", f"line {lineno}: not a valid bundle header ({exc})")
            break
        if obj.__class__ is not _HeaderLine:
            add(None, "bad_header", f"line {lineno}: the first line must be the header, got a {_KIND_NAMES[obj.__class__]} line")
        else:
            header = obj
        break
    if header is None:
        if not report.problems:
            add(None, "bad_header", "the bundle is empty")
        problems.finish()
        return report
    if header.format != FORMAT:
        add(None, "bad_header", f"unsupported bundle format {header.format!r} (expected {FORMAT!r})")
        problems.finish()
        return report
    start, end, origin = header.from_, header.to, header.origin
    report.origin, report.from_seq, report.to_seq = origin, start, end
    if end < start:
        add(None, "bad_header", f"'to' ({end}) is before 'from' ({start})")
        problems.finish()
        return report

    verifier: NoteVerifier | None
    if isinstance(given_key, PublicKey):
        # A key given without its name signs under the log's origin (what is trusted is the key).
        try:
            verifier = given_key.verifier(origin)
        except KeyFormatError as exc:
            add(None, "bad_header", f"the origin {origin!r} cannot name a key: {exc}")
            problems.finish()
            return report
    else:
        verifier = given_key
    if verifier is None:
        if header.public_key is None:
            add(None, "bad_header", "no public key given and none in the bundle header")
        else:
            try:
                verifier = parse_vkey(header.public_key)
            except CheckpointError as exc:
                add(None, "bad_header", f"bad public key in header: {exc}")
            else:
                report.warnings.append(
                    "verified against the public key the bundle itself carries; pass the log's key "
                    "(--public-key) to know the bundle comes from the log"
                )
    elif header.public_key is not None and header.public_key.strip() != verifier.vkey:
        report.warnings.append("the bundle header names a different public key than the one given; using the given key")
    report.key_name = verifier.name if verifier else None

    # --------------------------------------------------------------- preamble
    checkpoints: list[Checkpoint] = []
    consistency: dict[tuple[int, int], list[bytes]] = {}
    prefix_line = None
    first_event_raw = None
    for raw in it:
        lineno += 1
        try:
            obj = _decode_line(raw)
        except ValueError as exc:
            if not raw.strip():
                continue
            add(None, "bad_line", f"line {lineno}: {exc}")
            continue
        cls = obj.__class__
        if cls is _EventLine:
            first_event_raw = raw
            lineno -= 1
            break
        if cls is _CheckpointLine:
            if verifier is None:
                continue
            try:
                text, _ = open_note(obj.note, [verifier])
                cp = Checkpoint.parse_body(text)
            except CheckpointError as exc:
                code = "bad_checkpoint" if exc.code == "format" else "bad_checkpoint_signature"
                add(None, code, f"line {lineno}: checkpoint rejected: {exc}")
                continue
            if cp.origin != origin:
                add(None, "bad_checkpoint", f"line {lineno}: checkpoint is for log {cp.origin!r}, not {origin!r}")
                continue
            checkpoints.append(cp)
        elif cls is _ConsistencyLine:
            proof = _hex_hashes(obj.proof)
            if proof is None:
                add(None, "bad_line", f"line {lineno}: consistency proof hashes must be 64 hex digits")
                continue
            consistency[(obj.first, obj.second)] = proof
        elif cls is _PrefixLine:
            if prefix_line is not None:
                add(None, "bad_prefix", f"line {lineno}: more than one prefix line")
            prefix_line = obj
        else:
            add(None, "bad_line", f"line {lineno}: a second header line")

    # checkpoints: one root per size, head = the largest
    by_size: dict[int, Checkpoint] = {}
    for cp in checkpoints:
        other = by_size.get(cp.size)
        if other is not None and other.root_hash != cp.root_hash:
            add(None, "checkpoint_fork", f"two validly signed checkpoints of size {cp.size} with different roots")
        by_size.setdefault(cp.size, cp)
    head = by_size[max(by_size)] if by_size else None
    report.head = head
    if verifier is not None and head is None:
        add(None, "no_valid_checkpoint", "the bundle has no checkpoint with a valid signature")

    trusted: Checkpoint | None = None
    if trusted_checkpoint_note is not None and verifier is not None:
        try:
            text, _ = open_note(trusted_checkpoint_note, [verifier])
            trusted = Checkpoint.parse_body(text)
        except CheckpointError as exc:
            add(None, "bad_trusted_checkpoint", f"the trusted checkpoint does not verify with {verifier.name}: {exc}")
        else:
            if trusted.origin != origin:
                add(None, "bad_trusted_checkpoint", f"the trusted checkpoint is for log {trusted.origin!r}, not {origin!r}")
                trusted = None
    elif trusted_checkpoint_note is None:
        report.warnings.append(
            "no trusted checkpoint given: a log cut back or rewritten together with its checkpoints cannot be told apart from a genuine one"
        )

    # prefix
    tree_ok = True
    prefix_hashes: list[bytes] = []
    if start:
        if prefix_line is None:
            add(None, "bad_prefix", f"the bundle starts at seq {start} but carries no prefix line")
            tree_ok = False
        else:
            hashes = _hex_hashes(prefix_line.nodes)
            if prefix_line.size != start or hashes is None or len(hashes) != start.bit_count():
                add(None, "bad_prefix", f"the prefix line must carry the {start.bit_count()} subtree hashes of size {start}")
                tree_ok = False
            else:
                prefix_hashes = hashes
    elif prefix_line is not None and (prefix_line.size or prefix_line.nodes):
        add(None, "bad_prefix", "a bundle starting at seq 0 has an empty prefix")

    # sizes at which the streaming tree is folded into a root
    snap_sizes = {end}
    snap_sizes.update(s for s in by_size if start <= s <= end)
    if trusted is not None and start <= trusted.size <= end:
        snap_sizes.add(trusted.size)
    snap_order = sorted(snap_sizes)

    # ----------------------------------------------------------------- events
    cst: list[bytes] = list(prefix_hashes)  # computed frontier hashes
    bad: dict[NodeRef, bytes | None] = {}  # frontier nodes whose carried hash differs
    records: dict[NodeRef, tuple[bytes | None, bytes | None, bytes, bytes]] = {}
    snapshots: dict[int, _Snapshot] = {}
    ahead: dict[int, tuple[bytes, list[str], int]] = {}
    missing_ranges: list[tuple[int, int]] = []  # in increasing order
    missing_starts: list[int] = []
    state: dict[str, Any] = {"records_full": False, "first_leaf": None, "redacted": 0}
    snap_i = 0
    expected = start
    events = 0

    def redacted_leaf(seq: int, leaf_hex: str | None, line: int) -> bytes:
        state["redacted"] += 1
        h = _hex_hash(leaf_hex) if leaf_hex is not None else None
        if h is None:
            add(seq, "bad_line", f"line {line}: event {seq} has neither its text nor a valid leaf hash")
            return bytes(32)
        return h

    def mark(level: int, index: int, stated_hex: str | None, computed: bytes) -> None:
        stated = _hex_hash(stated_hex) if stated_hex is not None else None
        if stated != computed:
            bad[(level, index)] = stated
            if level == 0 and (state["first_leaf"] is None or index < state["first_leaf"]):
                state["first_leaf"] = index

    def link(level: int, index: int, left: bytes, right: bytes) -> None:
        kl, kr = (level - 1, 2 * index), (level - 1, 2 * index + 1)
        if kl in bad or kr in bad:
            sl, sr = bad.pop(kl, left), bad.pop(kr, right)
            if len(records) < _MAX_RECORDS:
                records[(level, index)] = (sl, sr, left, right)
            else:
                state["records_full"] = True

    def push(seq: int, h: bytes, nodes: list[str] | None) -> None:
        top = (seq ^ (seq + 1)).bit_length() - 1
        if nodes is None:  # first pass: carried hashes not read
            for _ in range(top):
                h = sha256(b"\x01" + cst.pop() + h).digest()
            cst.append(h)
            return
        stated: Sequence[str | None] = nodes if len(nodes) == top + 1 else [None] * (top + 1)
        mark(0, seq, stated[0], h)
        for level in range(1, top + 1):
            left = cst.pop()
            if bad:
                link(level, seq >> level, left, h)
            h = sha256(b"\x01" + left + h).digest()
            mark(level, seq >> level, stated[level], h)
        cst.append(h)

    def snapshot(size: int) -> None:
        refs = merkle.root_nodes(size)
        snapshots[size] = _Snapshot(list(cst), [bad.get(ref, c) for ref, c in zip(refs, cst, strict=True)])

    def accept(seq: int, h: bytes, nodes: list[str]) -> None:
        nonlocal expected, snap_i
        expected = seq + 1
        if tree_ok:
            push(seq, h, nodes)
            while snap_i < len(snap_order) and snap_order[snap_i] <= expected:
                if snap_order[snap_i] == expected:
                    snapshot(expected)
                snap_i += 1

    def declare_missing(upto: int) -> None:
        nonlocal expected, tree_ok
        if upto - expected == 1:
            add(expected, "missing_event", f"event {expected} is missing")
        else:
            add(expected, "missing_event", f"events {expected}..{upto - 1} are missing")
        missing_ranges.append((expected, upto))
        missing_starts.append(expected)
        tree_ok = False
        expected = upto

    def drain() -> None:
        while expected in ahead:
            h, nodes, _ = ahead.pop(expected)
            accept(expected, h, nodes)

    def slow(seq: int, h: bytes, nodes: list[str], line: int) -> None:
        if seq < start or seq >= end:
            add(seq, "event_out_of_range", f"line {line}: event {seq} is outside the bundle's range {start}..{end - 1}")
            return
        if seq < expected:
            i = bisect_right(missing_starts, seq) - 1
            if i >= 0 and seq < missing_ranges[i][1]:
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
                declare_missing(min(ahead))
                drain()
            return
        if ahead:
            add(seq, "out_of_order_event", f"line {line}: event {seq} appears after event {max(ahead)}")
        accept(seq, h, nodes)
        drain()

    if tree_ok:
        while snap_i < len(snap_order) and snap_order[snap_i] <= start:
            if snap_order[snap_i] == start:
                snapshot(start)
            snap_i += 1
    next_snap = snap_order[snap_i] if snap_i < len(snap_order) else -1

    if first_event_raw is not None:
        decode_many = _decode_lines if locate else _decode_lines_light
        decode_one = _decode_line if locate else _decode_line_light
        seq_of = _canonical_seq_holder
        EventLine = _EventLine if locate else _EventLineLight
        absent = _ABSENT
        leaf_base, node_base = sha256(b"\x00").copy, sha256(b"\x01").copy
        cpop, cappend = cst.pop, cst.append
        # Invariant: fast == expected while the tree is intact, nothing waits in `ahead`
        # and expected < end; otherwise fast == -1 and every event takes the slow path.
        fast = expected if tree_ok and expected < end else -1
        read = getattr(lines, "read", None) if first_event_raw.__class__ is bytes else None
        for raw_lines, count in _line_batches(first_event_raw, it, read):
            # Decode a batch of lines in one call (much cheaper per line); if any line is
            # bad or blank, decode them one by one to report exactly which, on which line.
            try:
                decoded = decode_many(raw_lines if raw_lines.__class__ is not list else _join(raw_lines))
                if len(decoded) != count:
                    raise ValueError("blank lines")
            except (ValueError, TypeError):
                if raw_lines.__class__ is not list:
                    raw_lines = bytes(raw_lines).split(b"\n")
                decoded = [_decode_or_problem(raw, decode_one) for raw in raw_lines]
            events += len(decoded)
            for lineno, ev in enumerate(decoded, lineno + 1):  # noqa: B007 - lineno is used after the loop
                if ev.__class__ is not EventLine:
                    events -= 1
                    if ev.__class__ is _BadLine:
                        if ev.message:
                            add(None, "bad_line", f"line {lineno}: {ev.message}")
                    else:
                        add(None, "bad_line", f"line {lineno}: {_KIND_NAMES[ev.__class__]} line after the first event")
                    continue
                seq = ev.seq
                canonical = ev.canonical
                if canonical is not None:
                    try:
                        data = canonical.encode()
                        cseq = seq_of(data).seq
                    except ValueError as exc:
                        add(seq, "bad_event_json", f"line {lineno}: event text is not a JSON object ({exc})")
                        data = canonical.encode("utf-8", "surrogatepass")
                    else:
                        if cseq is not absent and (cseq.__class__ is not int or cseq != seq):
                            add(seq, "seq_mismatch", f"line {lineno}: event text says seq {cseq!r}, its line says {seq}")
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
                        fast = seq + 1
                        if fast == next_snap:
                            snapshot(fast)
                            snap_i += 1
                            next_snap = snap_order[snap_i] if snap_i < len(snap_order) else -1
                            if fast == end:
                                expected, fast = end, -1
                        continue
                    if seq & 1:
                        top = (seq ^ (seq + 1)).bit_length() - 1
                        if len(nodes) == top + 1:
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
                                snap_i += 1
                                next_snap = snap_order[snap_i] if snap_i < len(snap_order) else -1
                                if fast == end:
                                    expected, fast = end, -1
                            continue
                    elif len(nodes) == 1:
                        if h.hex() != nodes[0]:
                            mark(0, seq, nodes[0], h)
                        cappend(h)
                        fast = seq + 1
                        if fast == next_snap:
                            snapshot(fast)
                            snap_i += 1
                            next_snap = snap_order[snap_i] if snap_i < len(snap_order) else -1
                            if fast == end:
                                expected, fast = end, -1
                        continue
                if fast != -1:
                    expected = fast
                slow(seq, h, nodes, lineno)
                next_snap = snap_order[snap_i] if snap_i < len(snap_order) else -1
                fast = expected if tree_ok and not ahead and expected < end else -1
        if fast != -1:
            expected = fast
    report.events = events
    report.redacted = state["redacted"]
    if report.redacted:
        report.warnings.append(
            f"{report.redacted} event(s) are redacted (carried as their leaf hash only): their place in the log is "
            "verified, their content is not shown"
        )

    # end of input: whatever is still waiting, and the tail
    while ahead:
        declare_missing(min(ahead))
        drain()
    if expected < end:
        declare_missing(end)

    # ------------------------------------------------------------- root checks
    def computed_root(size: int) -> bytes | None:
        snap = snapshots.get(size)
        return merkle.fold(snap.computed) if snap is not None else None

    def localize(size: int, authentic_root: bytes, what: str = "the signed root") -> str:
        """Descend from an authentic root through carried hashes; report what it finds."""
        snap = snapshots.get(size)
        if snap is None or not locate:
            return ""
        refs = merkle.root_nodes(size)
        if any(s is None for s in snap.stated) or merkle.fold(snap.stated) != authentic_root:  # type: ignore[arg-type]
            first = state["first_leaf"]
            if first is not None and first < size:
                add(first, "event_hash_mismatch", f"event {first} is the first whose hash differs from the leaf hash the bundle "
                    f"carries for it (a hint only: those carried hashes do not match {what} either)")
            return f"; the node hashes carried in the bundle do not match {what} either, so the change cannot be located exactly"
        found = 0
        todo = [(ref, s) for ref, s, c in zip(refs, snap.stated, snap.computed, strict=True) if s != c]
        while todo:
            node, trusted_hash = todo.pop()
            found += 1
            level, index = node
            first, stop = merkle.node_range(node)
            if level == 0:
                add(index, "event_modified", f"event {index} differs from the event the log signed")
                continue
            rec = records.get(node)
            if rec is not None:
                sl, sr, cl, cr = rec
                if sl is not None and sr is not None and merkle.node_hash(sl, sr) == trusted_hash:
                    children = [((level - 1, 2 * index), sl, cl), ((level - 1, 2 * index + 1), sr, cr)]
                    todo.extend((ref, s) for ref, s, c in reversed(children) if s != c)
                    continue
            if stop <= start:
                add(None, "bad_prefix", "the prefix subtree hashes do not match the signed tree")
            else:
                first = max(first, start)
                add(first, "events_modified_in_range", f"events {first}..{min(stop, end) - 1} differ from what the log signed "
                    "(the carried hashes were altered too, so the change cannot be narrowed further)")
        if not found:
            return ""
        return "; see the located differences"

    if head is not None:
        H_size = head.size
        for size, cp in sorted(by_size.items()):
            if start <= size <= end:
                got = computed_root(size)
                if got is not None and got != cp.root_hash:
                    note = localize(size, cp.root_hash)
                    add(None, "root_mismatch", f"the events do not reproduce the signed root of size {size}{note}")
            elif size != H_size:
                _check_consistency(consistency, size, H_size, cp.root_hash, head.root_hash, add, f"checkpoint of size {size}")
        if H_size < end:
            add(H_size, "events_not_covered", f"events {H_size}..{end - 1} are not covered by any validly signed checkpoint")
        elif H_size > end:
            got = computed_root(end)
            proof = consistency.get((end, H_size))
            if got is not None:
                if proof is None:
                    add(None, "missing_consistency_proof", f"no consistency proof from size {end} (the bundle's end) to the head {H_size}")
                elif not merkle.verify_consistency(end, H_size, proof, got, head.root_hash):
                    roots = merkle.root_from_consistency_proof(end, H_size, proof, got)
                    note = ""
                    if roots is not None and roots[1] == head.root_hash and end & (end - 1):
                        note = localize(end, roots[0])
                    add(None, "root_mismatch", f"the events are not a prefix of the signed tree of size {H_size}{note}")
        if trusted is not None:
            T = trusted.size
            if T > H_size:
                add(H_size, "log_truncated", f"the trusted checkpoint has {T} events, the bundle's log only {H_size}: events {H_size}..{T - 1} are gone")
            elif T in by_size and by_size[T].root_hash != trusted.root_hash:
                add(None, "trusted_checkpoint_mismatch",
                    f"the log signed two different roots for size {T}, the trusted one and this bundle's: its history was forked or rewritten")
            elif start <= T <= end:
                got = computed_root(T)
                if got is not None and got != trusted.root_hash:
                    note = localize(T, trusted.root_hash, "the trusted root")
                    add(None, "trusted_checkpoint_mismatch",
                        f"the events before seq {T} do not reproduce the trusted checkpoint: they differ from the history it vouched for{note}")
            else:
                _check_consistency(consistency, T, H_size, trusted.root_hash, head.root_hash, add, "the trusted checkpoint",
                                   mismatch_code="trusted_checkpoint_mismatch")
    problems.finish()
    return report


def _line_batches(
    first: str | bytes, it: Iterator[str | bytes], read: Callable[[int], bytes] | None
) -> Iterator[tuple[list[str | bytes] | memoryview, int]]:
    """Group the event lines into batches of (lines, number of lines): a list of lines,
    or, from a binary file, a memoryview of whole lines separated by newlines."""
    if read is None:
        batch = [first, *islice(it, _BATCH - 1)]
        while batch:
            yield batch, len(batch)
            batch = list(islice(it, _BATCH))
        return
    # A binary file: the line iterator stopped right after `first`; read big blocks and
    # decode the whole lines of each in place (no copies), the partial ones separately.
    yield [first], 1
    rest = b""
    while True:
        block = read(_CHUNK)
        if not block:
            break
        start = block.find(b"\n")
        if start < 0:
            rest += block
            continue
        yield [rest + block[: start + 1]], 1
        stop = block.rfind(b"\n")
        if stop > start:
            yield memoryview(block)[start + 1 : stop], block.count(b"\n", start + 1, stop) + 1
        rest = block[stop + 1 :]
    if rest:
        yield [rest], 1


def _join(lines: list[str | bytes]) -> str | bytes:
    if lines[0].__class__ is bytes:
        return b"\n".join(lines)  # type: ignore[arg-type]
    return "\n".join(lines)  # type: ignore[arg-type]


class _BadLine:
    """A line that failed to decode (``message`` empty for a blank line)."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


def _decode_or_problem(raw: str | bytes, decode: Callable[[str | bytes], Any]) -> Any:
    try:
        return decode(raw)
    except ValueError as exc:
        return _BadLine("" if not raw.strip() else str(exc))


def _check_consistency(
    consistency: Mapping[tuple[int, int], list[bytes]],
    m: int,
    n: int,
    root_m: bytes,
    root_n: bytes,
    add: Callable[[int | None, str, str], None],
    what: str,
    mismatch_code: str = "consistency_proof_invalid",
) -> None:
    proof = consistency.get((m, n))
    if proof is None:
        add(None, "missing_consistency_proof", f"no consistency proof from {what} (size {m}) to the head (size {n})")
    elif not merkle.verify_consistency(m, n, proof, root_m, root_n):
        add(None, mismatch_code, f"{what} (size {m}) is not consistent with the head (size {n})")
