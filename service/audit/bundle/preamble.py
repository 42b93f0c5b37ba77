"""Reading a bundle's preamble, step by step: the header, the key to verify with, the
checkpoints, consistency proofs and prefix, then the trusted checkpoint."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from service.audit.bundle.lines import (
    FORMAT,
    KIND_NAMES,
    CheckpointLine,
    ConsistencyLine,
    EventLine,
    HeaderLine,
    PrefixLine,
    decode_line,
    hex_hashes,
)
from service.audit.bundle.report import VerifyReport
from service.audit.bundle.tree import AddProblem
from service.audit.checkpoint import (
    Checkpoint,
    CheckpointError,
    NoteVerifier,
    open_note,
    parse_vkey,
)
from service.audit.publickey import KeyFormatError, PublicKey


class _Stop(Exception):
    """The bundle cannot be read further (its header or key is unusable)."""


class Preamble:
    """What the lines before the first event say. `read()` consumes them from `it`
    (and the first event line, kept in `first_event_raw`); False when the bundle
    cannot be verified at all."""

    def __init__(
        self,
        it: Iterator[str | bytes],
        report: VerifyReport,
        add: AddProblem,
        given_key: NoteVerifier | PublicKey | None,
        trusted_note: str | None,
    ) -> None:
        self.it, self.report, self.add = it, report, add
        self.given_key, self.trusted_note = given_key, trusted_note
        self.lineno = 0
        self.start = self.end = 0
        self.origin = ""
        self.verifier: NoteVerifier | None = None
        self.checkpoints: list[Checkpoint] = []
        self.consistency: dict[tuple[int, int], list[bytes]] = {}
        self.prefix_line: PrefixLine | None = None
        self.prefix: list[bytes] = []
        self.tree_ok = True  # False: the prefix is unusable, so no root can be recomputed
        self.first_event_raw: str | bytes | None = None
        self.by_size: dict[int, Checkpoint] = {}
        self.head: Checkpoint | None = None
        self.trusted: Checkpoint | None = None

    def read(self) -> bool:
        try:
            header = self._read_header()
            self._choose_verifier(header)
        except _Stop:
            return False
        self._read_lines()
        self._index_checkpoints()
        self._open_trusted()
        self._read_prefix()
        return True

    # ------------------------------------------------------------------ the header

    def _decoded(self, code: str, unreadable: Callable[[ValueError], str]) -> Iterator[tuple[Any, Any]]:
        """Each line that is not blank, with what it decodes to, or None when it does not
        decode (the problem is reported under `code`, `unreadable` says it)."""
        for raw in self.it:
            self.lineno += 1
            try:
                obj = decode_line(raw)
            except ValueError as exc:
                if not raw.strip():
                    continue
                self.add(None, code, unreadable(exc))
                yield raw, None
                continue
            yield raw, obj

    def _read_header(self) -> HeaderLine:
        add, header = self.add, None
        for _raw, obj in self._decoded(
            "bad_header", lambda exc: f"line {self.lineno}: not a valid bundle header ({exc})"
        ):
            if obj is None:
                break
            if obj.__class__ is not HeaderLine:
                add(
                    None,
                    "bad_header",
                    f"line {self.lineno}: the first line must be the header, got a {KIND_NAMES[obj.__class__]} line",
                )
            else:
                header = obj
            break
        if header is None:
            if not self.report.problems:
                add(None, "bad_header", "the bundle is empty")
            raise _Stop
        if header.format != FORMAT:
            add(None, "bad_header", f"unsupported bundle format {header.format!r} (expected {FORMAT!r})")
            raise _Stop
        start, end = header.from_, header.to
        self.report.origin, self.report.from_seq, self.report.to_seq = header.origin, start, end
        if end < start:
            add(None, "bad_header", f"'to' ({end}) is before 'from' ({start})")
            raise _Stop
        self.start, self.end, self.origin = start, end, header.origin
        return header

    def _choose_verifier(self, header: HeaderLine) -> None:
        """The key given (a nameless one signs under the log's origin), else the header's."""
        add, report, given = self.add, self.report, self.given_key
        verifier: NoteVerifier | None
        if isinstance(given, PublicKey):
            try:
                verifier = given.verifier(self.origin)
            except KeyFormatError as exc:
                add(None, "bad_header", f"the origin {self.origin!r} cannot name a key: {exc}")
                raise _Stop from None
        else:
            verifier = given
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
            report.warnings.append(
                "the bundle header names a different public key than the one given; using the given key"
            )
        report.key_name = verifier.name if verifier else None
        self.verifier = verifier

    # ---------------------------------------------------------------- the preamble

    def _read_lines(self) -> None:
        """Checkpoints, consistency proofs and the prefix, up to the first event line."""
        add = self.add
        for raw, obj in self._decoded("bad_line", lambda exc: f"line {self.lineno}: {exc}"):
            if obj is None:
                continue
            cls = obj.__class__
            if cls is EventLine:
                self.first_event_raw = raw
                self.lineno -= 1
                break
            if cls is CheckpointLine:
                self._read_checkpoint(obj)
            elif cls is ConsistencyLine:
                proof = hex_hashes(obj.proof)
                if proof is None:
                    add(None, "bad_line", f"line {self.lineno}: consistency proof hashes must be 64 hex digits")
                    continue
                self.consistency[(obj.first, obj.second)] = proof
            elif cls is PrefixLine:
                if self.prefix_line is not None:
                    add(None, "bad_prefix", f"line {self.lineno}: more than one prefix line")
                self.prefix_line = obj
            else:
                add(None, "bad_line", f"line {self.lineno}: a second header line")

    def _read_checkpoint(self, line: CheckpointLine) -> None:
        if self.verifier is None:
            return
        try:
            text, _ = open_note(line.note, [self.verifier])
            cp = Checkpoint.parse_body(text)
        except CheckpointError as exc:
            code = "bad_checkpoint" if exc.code == "format" else "bad_checkpoint_signature"
            self.add(None, code, f"line {self.lineno}: checkpoint rejected: {exc}")
            return
        if cp.origin != self.origin:
            self.add(
                None, "bad_checkpoint", f"line {self.lineno}: checkpoint is for log {cp.origin!r}, not {self.origin!r}"
            )
            return
        self.checkpoints.append(cp)

    def _index_checkpoints(self) -> None:
        """One root per size (two: a fork); the head is the largest."""
        for cp in self.checkpoints:
            other = self.by_size.get(cp.size)
            if other is not None and other.root_hash != cp.root_hash:
                self.add(
                    None, "checkpoint_fork", f"two validly signed checkpoints of size {cp.size} with different roots"
                )
            self.by_size.setdefault(cp.size, cp)
        self.head = self.by_size[max(self.by_size)] if self.by_size else None
        self.report.head = self.head
        if self.verifier is not None and self.head is None:
            self.add(None, "no_valid_checkpoint", "the bundle has no checkpoint with a valid signature")

    def _open_trusted(self) -> None:
        verifier, note = self.verifier, self.trusted_note
        if note is None:
            self.report.warnings.append(
                "no trusted checkpoint given: a log cut back or rewritten together with its checkpoints cannot be "
                "told apart from a genuine one"
            )
            return
        if verifier is None:
            return
        try:
            text, _ = open_note(note, [verifier])
            trusted = Checkpoint.parse_body(text)
        except CheckpointError as exc:
            self.add(
                None, "bad_trusted_checkpoint", f"the trusted checkpoint does not verify with {verifier.name}: {exc}"
            )
            return
        if trusted.origin != self.origin:
            self.add(
                None,
                "bad_trusted_checkpoint",
                f"the trusted checkpoint is for log {trusted.origin!r}, not {self.origin!r}",
            )
            return
        self.trusted = trusted

    def _read_prefix(self) -> None:
        start, line = self.start, self.prefix_line
        if start:
            if line is None:
                self.add(None, "bad_prefix", f"the bundle starts at seq {start} but carries no prefix line")
                self.tree_ok = False
                return
            hashes = hex_hashes(line.nodes)
            if line.size != start or hashes is None or len(hashes) != start.bit_count():
                self.add(
                    None,
                    "bad_prefix",
                    f"the prefix line must carry the {start.bit_count()} subtree hashes of size {start}",
                )
                self.tree_ok = False
                return
            self.prefix = hashes
        elif line is not None and (line.size or line.nodes):
            self.add(None, "bad_prefix", "a bundle starting at seq 0 has an empty prefix")
