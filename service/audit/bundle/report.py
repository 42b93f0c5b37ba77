"""What a verification found: the report, its problems, and the collector that caps
them per code (memory stays bounded on a badly damaged bundle)."""

from __future__ import annotations

from dataclasses import dataclass, field

from service.audit.checkpoint import Checkpoint

MAX_PROBLEMS_PER_CODE = 100


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


class Problems:
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
