"""An application's timeline as it happened: the workflow's steps and the objections
(filed, then decided) in one list, newest first, for the vendor's and the reviewer's page."""

from __future__ import annotations

from datetime import datetime

from service.applications import WORKFLOWS

OUTCOME_WORDS = {"upheld": "异议成立", "dismissed": "异议不成立", "closed": "异议随公示结束关闭"}


def timeline(view) -> list[dict]:
    """Each entry: `at`, `kind` (step | objection_filed | objection_decided), `label`,
    the stage reached (steps), the reason or the objection's text, and who acted (steps)."""
    workflow = WORKFLOWS[view.application.workflow]
    entries: list[tuple[datetime, int, dict]] = []
    for order, h in enumerate(view.history):
        change = h.change
        entries.append(
            (
                change.occurred_at,
                order,
                {
                    "kind": "step",
                    "at": change.occurred_at,
                    "label": workflow.action_label(change.action),
                    "to_stage": change.to_stage,
                    "reason": change.reason,
                    "actor": h.actor_name,
                },
            )
        )
    for o in view.objections:
        entries.append(
            (
                o.filed_at,
                -1,
                {
                    "kind": "objection_filed",
                    "at": o.filed_at,
                    "label": "收到异议",
                    "reason": o.reason,
                    "status": o.status,
                },
            )
        )
        if o.resolved_at is not None:
            entries.append(
                (
                    o.resolved_at,
                    -1,
                    {
                        "kind": "objection_decided",
                        "at": o.resolved_at,
                        "label": OUTCOME_WORDS.get(o.status, o.status),
                        "reason": o.resolution_reason,
                        "status": o.status,
                    },
                )
            )
    # An objection filed pauses the notice in the same instant: the objection comes first.
    entries.sort(key=lambda e: (e[0], e[1]), reverse=True)
    return [e[2] for e in entries]
