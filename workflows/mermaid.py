"""The Mermaid diagram of a workflow table."""

from __future__ import annotations

from workflows.table import Transition, Workflow


def to_mermaid(workflow: Workflow) -> str:
    """A Mermaid `stateDiagram-v2`: one arrow per row, labelled `action (roles)`."""
    lines = ["stateDiagram-v2"]
    for state in workflow.states:
        if state in workflow.state_labels:
            lines.append(f'    state "{workflow.state_labels[state]} ({state})" as {state}')
    lines.append(f"    [*] --> {workflow.initial}")
    for t in workflow.transitions:
        lines.append(f"    {t.source} --> {t.target}: {t.action} ({', '.join(ordered_roles(workflow, t))})")
    lines += [f"    {state} --> [*]" for state in workflow.states if state in workflow.final_states]
    return "\n".join(lines) + "\n"


def ordered_roles(workflow: Workflow, transition: Transition) -> list[str]:
    """The row's roles in the workflow's declaration order (stable across runs)."""
    return [role for role in workflow.roles if role in transition.roles]
