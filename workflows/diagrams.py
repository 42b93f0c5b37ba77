"""Render the workflow tables into Markdown + Mermaid under ``docs/workflows/``.

    python -m workflows.diagrams [REPO_ROOT] [--check]

writes (or, with ``--check``, only compares) every diagram below REPO_ROOT (default:
the current directory). ``tests/workflows/test_diagrams.py`` fails when a committed
file differs from what :func:`render_all` produces.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from workflows.complaint import COMPLAINT
from workflows.entry_review import ENTRY_REVIEW, ENTRY_REVIEW_COUNTY_ONLY
from workflows.four_eyes import BAR_LIFT, WHITELIST_REQUEST
from workflows.mermaid import ordered_roles, to_mermaid
from workflows.school_order import SCHOOL_ORDER
from workflows.table import Transition, Workflow
from workflows.timetable import TIMETABLE

DOCS_DIR = Path("docs/workflows")
REGENERATE = "python -m workflows.diagrams"


@dataclass(frozen=True)
class Diagram:
    workflow: Workflow
    source: str
    title: str
    summary: str

    @property
    def path(self) -> Path:
        return DOCS_DIR / f"{self.workflow.name}.md"


DIAGRAMS = (
    Diagram(
        ENTRY_REVIEW,
        "workflows/entry_review.py",
        "入驻审核（县级初审、市级终审）",
        "The entry review of a vendor's application when the region requires a city review.",
    ),
    Diagram(
        ENTRY_REVIEW_COUNTY_ONLY,
        "workflows/entry_review.py",
        "入驻审核（县级审核，无需市级终审）",
        "The entry review when the region's `city_review_required` setting is false: "
        "the county decides at verification.",
    ),
    Diagram(
        SCHOOL_ORDER,
        "workflows/school_order.py",
        "学校点单",
        "A school's order of a whitelisted service item for a term; its standing is derived when read.",
    ),
    Diagram(
        TIMETABLE,
        "workflows/timetable.py",
        "课后服务安排表",
        "A school's after-school timetable for a term: filed with the county bureau once it conforms, then published.",
    ),
    Diagram(
        COMPLAINT,
        "workflows/complaint.py",
        "投诉处理",
        "A complaint about a school's after-school service: received, investigated, upheld or dismissed with a reason; "
        "an upheld serious complaint opens a whitelist suspension request that still needs four eyes.",
    ),
    Diagram(
        WHITELIST_REQUEST,
        "workflows/four_eyes.py",
        "白名单撤销与恢复（四眼确认）",
        "A request to revoke or reinstate whitelist entries: it takes effect only when a second reviewer confirms it.",
    ),
    Diagram(
        BAR_LIFT,
        "workflows/four_eyes.py",
        "解除禁入（四眼确认）",
        "A request that an adverse criminal-record or sexual-offence result stop barring a person: "
        "a second province-level reviewer confirms or declines it.",
    ),
)


def render_all() -> dict[Path, str]:
    """Every generated file: path relative to the repo root -> its full text."""
    return {diagram.path: render_markdown(diagram) for diagram in DIAGRAMS}


def render_markdown(diagram: Diagram) -> str:
    wf = diagram.workflow
    parts = [
        f"<!-- Generated from {diagram.source} by `{REGENERATE}`. Do not edit by hand. -->",
        f"# {diagram.title}",
        f"`{wf.name}`: {diagram.summary} Initial state `{wf.initial}`; final states "
        + ", ".join(f"`{s}`" for s in wf.states if wf.is_final(s))
        + ".",
        f"```mermaid\n{to_mermaid(wf)}```",
        "## Transitions",
        _transition_table(wf),
        "## Guards",
        _guard_table(wf),
    ]
    return "\n\n".join(parts) + "\n"


def _transition_table(wf: Workflow) -> str:
    rows = [
        "| action | from | to | roles | guards | reason | effects |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    rows += [_transition_row(wf, t) for t in wf.transitions]
    return "\n".join(rows)


def _transition_row(wf: Workflow, t: Transition) -> str:
    cells = [
        f"`{t.action}` {wf.action_label(t.action)}",
        f"`{t.source}` {wf.state_label(t.source)}",
        f"`{t.target}` {wf.state_label(t.target)}",
        ", ".join(ordered_roles(wf, t)),
        ", ".join(g.name for g in t.guards),
        "required" if t.requires_reason else "",
        ", ".join(t.effects),
    ]
    return "| " + " | ".join(cells) + " |"


def _guard_table(wf: Workflow) -> str:
    rows = ["| guard | facts read | message when it fails |", "| --- | --- | --- |"]
    rows += [f"| `{g.name}` | {', '.join(f'`{k}`' for k in g.reads)} | {g.message} |" for g in wf.guards]
    return "\n".join(rows)


def stale_files(root: Path) -> list[Path]:
    """Generated files under `root` that are missing or differ from a fresh render."""
    return [path for path, text in render_all().items() if _read(root / path) != text]


def write_all(root: Path) -> list[Path]:
    written = []
    for path, text in render_all().items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8", newline="\n")
        written.append(path)
    return written


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workflows.diagrams", description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", type=Path, default=Path.cwd(), help="repository root (default: cwd)")
    parser.add_argument("--check", action="store_true", help="only report stale files; exit 1 if any")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files(args.root)
        for path in stale:
            print(f"stale: {path} (regenerate with `{REGENERATE}`)", file=sys.stderr)
        return 1 if stale else 0
    for path in write_all(args.root):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
