"""The lines of a bundle as typed structs, decoded by msgspec (typed decoding in C is
the verifier's fast path; msgspec always comes with Litestar)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from itertools import islice
from typing import Annotated, Any, ClassVar

import msgspec

FORMAT = "schoolgate-audit-bundle/1"
_BATCH = 512  # event lines decoded per call
_CHUNK = 1 << 18  # bytes read per call from a binary file

#: A field that is not in a line (distinct from a JSON null).
ABSENT: Any = object()

_NonNeg = Annotated[int, msgspec.Meta(ge=0)]


class HeaderLine(msgspec.Struct, tag_field="type", tag="header"):
    format: str
    origin: str
    from_: _NonNeg = msgspec.field(name="from")
    to: _NonNeg = 0
    public_key: str | None = None


class CheckpointLine(msgspec.Struct, tag_field="type", tag="checkpoint"):
    note: str


class ConsistencyLine(msgspec.Struct, tag_field="type", tag="consistency"):
    first: _NonNeg
    second: _NonNeg
    proof: list[str]


class PrefixLine(msgspec.Struct, tag_field="type", tag="prefix"):
    size: _NonNeg
    nodes: list[str]


class EventLine(msgspec.Struct, tag_field="type", tag="event", gc=False):  # no cycles: skip GC tracking
    seq: _NonNeg
    canonical: str | None = None
    nodes: list[str] = []
    leaf: str | None = None


class EventLineLight(msgspec.Struct, tag_field="type", tag="event", gc=False):
    """An event line read without its carried node hashes (first pass)."""

    seq: _NonNeg
    canonical: str | None = None
    leaf: str | None = None
    nodes: ClassVar[None] = None


class _SeqOnly(msgspec.Struct):
    seq: Any = ABSENT


_AnyLine = HeaderLine | CheckpointLine | ConsistencyLine | PrefixLine | EventLine
_AnyLineLight = HeaderLine | CheckpointLine | ConsistencyLine | PrefixLine | EventLineLight

decode_line: Callable[[str | bytes], Any] = msgspec.json.Decoder(_AnyLine).decode
#: Newline-delimited, blank lines skipped.
decode_lines: Callable[[Any], list[Any]] = msgspec.json.Decoder(_AnyLine).decode_lines
decode_line_light: Callable[[str | bytes], Any] = msgspec.json.Decoder(_AnyLineLight).decode
decode_lines_light: Callable[[Any], list[Any]] = msgspec.json.Decoder(_AnyLineLight).decode_lines
#: The top-level "seq" of an event's canonical text (`.seq` of the result, ABSENT if none).
canonical_seq_holder: Callable[[str | bytes], Any] = msgspec.json.Decoder(_SeqOnly).decode

KIND_NAMES = {
    HeaderLine: "header",
    CheckpointLine: "checkpoint",
    ConsistencyLine: "consistency",
    PrefixLine: "prefix",
    EventLine: "event",
    EventLineLight: "event",
}


class BadLine:
    """A line that failed to decode (``message`` empty for a blank line)."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


def decode_or_problem(raw: str | bytes, decode: Callable[[str | bytes], Any]) -> Any:
    try:
        return decode(raw)
    except ValueError as exc:
        return BadLine("" if not raw.strip() else str(exc))


def hex_hashes(values: Sequence[str]) -> list[bytes] | None:
    try:
        out = [bytes.fromhex(v) for v in values]
    except ValueError:
        return None
    return out if all(len(h) == 32 for h in out) else None


def hex_hash(value: str) -> bytes | None:
    try:
        h = bytes.fromhex(value)
    except ValueError:
        return None
    return h if len(h) == 32 else None


def line_batches(
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


def join(lines: list[str | bytes]) -> str | bytes:
    # The lines of one bundle are all text or all bytes (one source), so the first says
    # which join applies; mypy cannot know that of the list, hence the two ignores.
    if lines[0].__class__ is bytes:
        return b"\n".join(lines)  # type: ignore[arg-type]
    return "\n".join(lines)  # type: ignore[arg-type]
