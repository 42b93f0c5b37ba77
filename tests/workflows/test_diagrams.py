"""The committed Mermaid docs match the tables; `python -m workflows.diagrams` rebuilds them."""

from __future__ import annotations

from pathlib import Path

import pytest

from workflows import to_mermaid
from workflows.diagrams import DIAGRAMS, main, render_all

REPO_ROOT = Path(__file__).resolve().parents[2]
RENDERED = render_all()


@pytest.mark.parametrize("path", sorted(RENDERED), ids=str)
def test_committed_diagram_is_up_to_date(path: Path) -> None:
    how = f"run `python -m workflows.diagrams` in {REPO_ROOT} and commit {path}"
    committed = REPO_ROOT / path
    assert committed.is_file(), f"{path} is missing: {how}"
    assert committed.read_text(encoding="utf-8") == RENDERED[path], f"{path} is stale: {how}"


def test_every_table_has_a_diagram_under_docs_workflows() -> None:
    assert [str(path) for path in RENDERED] == [
        "docs/workflows/entry_review.md",
        "docs/workflows/entry_review_county_only.md",
        "docs/workflows/school_order.md",
        "docs/workflows/timetable.md",
        "docs/workflows/complaint.md",
        "docs/workflows/whitelist_request.md",
        "docs/workflows/bar_lift.md",
    ]
    for diagram in DIAGRAMS:
        text = RENDERED[diagram.path]
        assert f"```mermaid\n{to_mermaid(diagram.workflow)}```" in text
        assert text.count("\n| `") == len(diagram.workflow.transitions) + len(diagram.workflow.guards)


def test_main_writes_then_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--check", str(tmp_path)]) == 1
    assert main([str(tmp_path)]) == 0
    assert main(["--check", str(tmp_path)]) == 0
    stale = tmp_path / "docs/workflows/entry_review.md"
    stale.write_text(stale.read_text(encoding="utf-8") + "edited by hand\n", encoding="utf-8")
    assert main(["--check", str(tmp_path)]) == 1
    assert "stale: docs/workflows/entry_review.md" in capsys.readouterr().err
