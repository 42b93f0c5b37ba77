"""Load-time checks of a workflow table: one initial state, every state reachable,
final states without exits, every other state with an exit, every role and guard known,
one row per action and source state, labels that keep the Mermaid output intact."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the table module calls these checks when it builds a Workflow
    from workflows.table import Workflow

NAME = re.compile(r"[a-z][a-z0-9_]*")  # states, roles, actions, guards, effects
_LABEL_FORBIDDEN = ('"', ":", ";", "\n", "\r")  # would break the Mermaid output


def definition_problems(wf: Workflow) -> list[str]:
    return [
        *_initial_problems(wf),
        *_state_problems(wf),
        *_reference_problems(wf),
        *_duplicate_problems(wf),
        *_exit_problems(wf),
        *_reachability_problems(wf),
        *_label_problems(wf),
    ]


def _initial_problems(wf: Workflow) -> list[str]:
    if not isinstance(wf.initial, str):
        found = sorted(map(str, wf.initial)) if isinstance(wf.initial, Iterable) else []
        return [f"exactly one initial state is required, got {len(found)}: {found}"]
    if wf.initial not in wf.states:
        return [f"initial state {wf.initial!r} is not a declared state"]
    if wf.initial in wf.final_states:
        return [f"initial state {wf.initial!r} must not be final"]
    return []


def _state_problems(wf: Workflow) -> list[str]:
    problems = [f"state {s!r} is declared more than once" for s in _duplicates(wf.states)]
    problems += [f"final state {s!r} is not a declared state" for s in sorted(wf.final_states - set(wf.states))]
    for state in wf.states:
        if not (isinstance(state, str) and NAME.fullmatch(state)):
            problems.append(f"state {state!r} is not a lower_snake_case name")
    problems += [f"role {r!r} is declared more than once" for r in _duplicates(wf.roles)]
    for role in wf.roles:
        if not (isinstance(role, str) and NAME.fullmatch(role)):
            problems.append(f"role {role!r} is not a lower_snake_case name")
    return problems


def _reference_problems(wf: Workflow) -> list[str]:
    problems: list[str] = []
    for t in wf.transitions:
        problems += [f"{t}: unknown state {s!r}" for s in (t.source, t.target) if s not in wf.states]
        problems += [f"{t}: unknown role {r!r}" for r in sorted(t.roles - set(wf.roles))]
        problems += [f"{t}: unknown guard {g.name!r}" for g in t.guards if wf.known_guards.get(g.name) is not g]
    return problems


def _duplicate_problems(wf: Workflow) -> list[str]:
    pairs = [(t.action, t.source) for t in wf.transitions]
    return [f"action {a!r} is declared more than once from state {s!r}" for a, s in _duplicates(pairs)]


def _exit_problems(wf: Workflow) -> list[str]:
    problems: list[str] = []
    for state in wf.states:
        exits = [t.action for t in wf.outgoing(state)]
        if state in wf.final_states and exits:
            problems.append(f"final state {state!r} must have no outgoing transitions, has: {exits}")
        if state not in wf.final_states and not exits:
            problems.append(f"state {state!r} is not final but has no outgoing transition")
    return problems


def _reachability_problems(wf: Workflow) -> list[str]:
    if not isinstance(wf.initial, str) or wf.initial not in wf.states:
        return []  # already reported; reachability is meaningless without a start
    reached = {wf.initial}
    frontier = [wf.initial]
    while frontier:
        for t in wf.outgoing(frontier.pop()):
            if t.target not in reached:
                reached.add(t.target)
                frontier.append(t.target)
    return [f"state {s!r} is unreachable from {wf.initial!r}" for s in wf.states if s not in reached]


def _label_problems(wf: Workflow) -> list[str]:
    problems = [f"label for unknown state {s!r}" for s in wf.state_labels if s not in wf.states]
    problems += [f"label for unknown action {a!r}" for a in wf.action_labels if a not in wf.actions]
    for key, label in (*wf.state_labels.items(), *wf.action_labels.items()):
        if not label.strip() or any(c in label for c in _LABEL_FORBIDDEN):
            problems.append(f"label {label!r} of {key!r} is empty or contains one of {_LABEL_FORBIDDEN}")
    return problems


def _duplicates(items: Iterable[Any]) -> list[Any]:
    seen: set[Any] = set()
    repeated: dict[Any, None] = {}
    for item in items:
        if item in seen:
            repeated[item] = None
        seen.add(item)
    return list(repeated)
