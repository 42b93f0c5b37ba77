"""A tiny, pure workflow engine: review workflows as data.

A :class:`Workflow` is a table of :class:`Transition` rows that a person can read top
to bottom. The table is checked when it is built (one initial state, every state
reachable, final states without exits, every other state with an exit, every role and
guard known, one row per action and source state) and raises
:class:`WorkflowDefinitionError` listing every problem it found.

The engine answers one question, :func:`decide`: may an actor holding these role tags
take this action from this state, given these facts? It does no I/O. The service
gathers the facts (a plain mapping), asks, and then acts on the :class:`Decision`
(changes the state, appends the audit event, runs the named effects).

Standard library only: an import-linter contract keeps this package pure.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

Facts = Mapping[str, Any]
Predicate = Callable[[Facts], bool]

#: Decision codes (stable, machine-readable; the service maps them to API errors).
TRANSITION_NOT_ALLOWED = "transition_not_allowed"
REASON_REQUIRED = "reason_required"
GUARD_FAILED = "guard_failed"

#: The facts key holding the actor's free-text reason, checked when a row requires one.
REASON_FACT = "reason"

_NAME = re.compile(r"[a-z][a-z0-9_]*")
_LABEL_FORBIDDEN = ('"', ":", ";", "\n", "\r")  # would break the Mermaid output


class WorkflowError(Exception):
    """Base class of the engine's errors."""


class WorkflowDefinitionError(WorkflowError, ValueError):
    """The workflow table (or one of its rows or guards) is malformed."""


class UnknownStateError(WorkflowError, ValueError):
    """`decide` or `allowed_actions` was asked about a state the workflow does not have."""


class MissingFactsError(WorkflowError, LookupError):
    """The facts lack keys that a guard of the requested transition reads."""


# --------------------------------------------------------------------------- guards


@dataclass(frozen=True)
class Guard:
    """A named, pure condition over the facts, with the message shown when it fails.

    `reads` names the facts keys the predicate uses; `decide` refuses to evaluate the
    guard (raises :class:`MissingFactsError`) when any of them is absent, so a service
    that forgot to gather a fact fails loudly instead of deciding on a default.
    """

    name: str
    message: str
    predicate: Predicate = field(repr=False)
    reads: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_name("guard name", self.name)
        object.__setattr__(self, "reads", tuple(self.reads))
        if not self.message.strip():
            raise WorkflowDefinitionError(f"guard {self.name!r} needs a message")

    def holds(self, facts: Facts) -> bool:
        return bool(self.predicate(facts))


class GuardRegistry(Mapping[str, Guard]):
    """Every guard a workflow may use, by name; workflows reject guards not in it."""

    def __init__(self) -> None:
        self._guards: dict[str, Guard] = {}

    def register(self, guard: Guard) -> Guard:
        if guard.name in self._guards:
            raise WorkflowDefinitionError(f"guard {guard.name!r} is registered twice")
        self._guards[guard.name] = guard
        return guard

    def guard(self, name: str, message: str, *, reads: Iterable[str]) -> Callable[[Predicate], Guard]:
        """Decorator: turn a predicate function into a registered :class:`Guard`."""

        def register(predicate: Predicate) -> Guard:
            return self.register(Guard(name, message, predicate, tuple(reads)))

        return register

    def __getitem__(self, name: str) -> Guard:
        return self._guards[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._guards)

    def __len__(self) -> int:
        return len(self._guards)


# ---------------------------------------------------------------------- transitions


@dataclass(frozen=True)
class Transition:
    """One row of the table: `action` moves `source` to `target` for these role tags."""

    action: str
    source: str
    target: str
    roles: frozenset[str]
    guards: tuple[Guard, ...] = ()
    effects: tuple[str, ...] = ()
    requires_reason: bool = False

    def __post_init__(self) -> None:
        for what, name in (("action", self.action), ("source", self.source), ("target", self.target)):
            _check_name(what, name)
        object.__setattr__(self, "roles", _name_set(self, "roles", self.roles))
        object.__setattr__(self, "guards", tuple(self.guards))
        object.__setattr__(self, "effects", tuple(self.effects))
        if not self.roles:
            raise WorkflowDefinitionError(f"{self}: at least one role must be allowed")
        for guard in self.guards:
            if not isinstance(guard, Guard):
                raise WorkflowDefinitionError(f"{self}: {guard!r} is not a Guard")
        for effect in self.effects:
            _check_name(f"{self}: effect", effect)

    def __str__(self) -> str:
        return f"{self.action} ({self.source} -> {self.target})"


# ------------------------------------------------------------------------ workflows


@dataclass(frozen=True, eq=False)
class Workflow:
    """A validated workflow table. Construction raises WorkflowDefinitionError."""

    name: str
    states: tuple[str, ...]
    initial: str
    final_states: frozenset[str]
    transitions: tuple[Transition, ...]
    roles: tuple[str, ...]
    known_guards: Mapping[str, Guard] = field(default_factory=dict)
    state_labels: Mapping[str, str] = field(default_factory=dict)
    action_labels: Mapping[str, str] = field(default_factory=dict)
    _index: Mapping[tuple[str, str], Transition] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_name("workflow name", self.name)
        for attr in ("states", "transitions", "roles"):
            object.__setattr__(self, attr, tuple(getattr(self, attr)))
        object.__setattr__(self, "final_states", _name_set(self.name, "final_states", self.final_states))
        for row in self.transitions:
            if not isinstance(row, Transition):
                raise WorkflowDefinitionError(f"workflow {self.name!r}: {row!r} is not a Transition")
        for attr in ("state_labels", "action_labels"):
            object.__setattr__(self, attr, MappingProxyType(dict(getattr(self, attr))))
        index = {(t.source, t.action): t for t in self.transitions}
        object.__setattr__(self, "_index", MappingProxyType(index))
        problems = _definition_problems(self)
        if problems:
            listing = "\n  - ".join(problems)
            raise WorkflowDefinitionError(f"workflow {self.name!r} is invalid:\n  - {listing}")

    @property
    def actions(self) -> tuple[str, ...]:
        """Every action name, in order of first appearance in the table."""
        return tuple(dict.fromkeys(t.action for t in self.transitions))

    @property
    def effects(self) -> tuple[str, ...]:
        """Every effect name, in order of first appearance (the service must handle each)."""
        return tuple(dict.fromkeys(e for t in self.transitions for e in t.effects))

    @property
    def guards(self) -> tuple[Guard, ...]:
        """Every guard used, in order of first appearance."""
        return tuple(dict.fromkeys(g for t in self.transitions for g in t.guards))

    def transition(self, state: str, action: str) -> Transition | None:
        """The row for `action` from `state`, or None."""
        return self._index.get((state, action))

    def outgoing(self, state: str) -> tuple[Transition, ...]:
        """The rows leaving `state`, in table order."""
        return tuple(t for t in self.transitions if t.source == state)

    def is_final(self, state: str) -> bool:
        return state in self.final_states

    def state_label(self, state: str) -> str:
        return self.state_labels.get(state, state)

    def action_label(self, action: str) -> str:
        return self.action_labels.get(action, action)

    def require_state(self, state: str) -> None:
        if state not in self.states:
            raise UnknownStateError(f"workflow {self.name!r} has no state {state!r}")


# ------------------------------------------------------------- load-time validation


def _definition_problems(wf: Workflow) -> list[str]:
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
        if not (isinstance(state, str) and _NAME.fullmatch(state)):
            problems.append(f"state {state!r} is not a lower_snake_case name")
    problems += [f"role {r!r} is declared more than once" for r in _duplicates(wf.roles)]
    for role in wf.roles:
        if not (isinstance(role, str) and _NAME.fullmatch(role)):
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


def _check_name(what: str, name: object) -> None:
    if not (isinstance(name, str) and _NAME.fullmatch(name)):
        raise WorkflowDefinitionError(f"{what} {name!r} must be a lower_snake_case name")


def _name_set(owner: object, what: str, names: Collection[str]) -> frozenset[str]:
    if isinstance(names, str):
        raise WorkflowDefinitionError(f"{owner}: {what} must be a collection of names, not the string {names!r}")
    return frozenset(names)


# ------------------------------------------------------------------------ decisions


@dataclass(frozen=True)
class Decision:
    """The engine's answer. When refused, `code` says why and `message` is for the user."""

    allowed: bool
    target: str | None = None
    code: str | None = None
    message: str | None = None
    effects: tuple[str, ...] = ()
    failed_guard: str | None = None

    @classmethod
    def allow(cls, transition: Transition) -> Decision:
        return cls(allowed=True, target=transition.target, effects=transition.effects)

    @classmethod
    def refuse(cls, code: str, message: str, failed_guard: str | None = None) -> Decision:
        return cls(allowed=False, code=code, message=message, failed_guard=failed_guard)


def decide(workflow: Workflow, state: str, action: str, actor_roles: Collection[str], facts: Facts) -> Decision:
    """May an actor with `actor_roles` take `action` from `state`, given `facts`?

    Checks, in order: the table has the row and one of its roles is the actor's
    (else ``transition_not_allowed``); every guard holds (else ``guard_failed`` with
    `failed_guard` set to the first failing guard); a non-blank ``facts["reason"]``
    when the row requires a reason (else ``reason_required``).
    """
    roles = _actor_roles(actor_roles)
    workflow.require_state(state)
    transition = workflow.transition(state, action)
    if transition is None:
        return Decision.refuse(TRANSITION_NOT_ALLOWED, _not_possible_message(workflow, state, action))
    if not transition.roles & roles:
        return Decision.refuse(TRANSITION_NOT_ALLOWED, f"您的角色无权执行“{workflow.action_label(action)}”操作")
    _require_facts(transition, facts)
    failed = next((g for g in transition.guards if not g.holds(facts)), None)
    if failed is not None:
        return Decision.refuse(GUARD_FAILED, failed.message, failed_guard=failed.name)
    if transition.requires_reason and not _has_reason(facts):
        return Decision.refuse(REASON_REQUIRED, f"“{workflow.action_label(action)}”操作必须填写理由")
    return Decision.allow(transition)


def allowed_actions(workflow: Workflow, state: str, actor_roles: Collection[str]) -> list[str]:
    """The actions these role tags may take from `state`, ignoring guards, in table order."""
    roles = _actor_roles(actor_roles)
    workflow.require_state(state)
    return [t.action for t in workflow.outgoing(state) if t.roles & roles]


def required_facts(workflow: Workflow, state: str, action: str) -> frozenset[str]:
    """The facts keys `decide` needs for this row (the guards' reads, plus the reason)."""
    transition = workflow.transition(state, action)
    if transition is None:
        return frozenset()
    keys = {key for guard in transition.guards for key in guard.reads}
    return frozenset(keys | ({REASON_FACT} if transition.requires_reason else set()))


def _actor_roles(actor_roles: Collection[str]) -> frozenset[str]:
    if isinstance(actor_roles, str):
        raise TypeError(f"actor_roles must be a collection of role tags, not the string {actor_roles!r}")
    return frozenset(actor_roles)


def _require_facts(transition: Transition, facts: Facts) -> None:
    missing = sorted({key for guard in transition.guards for key in guard.reads if key not in facts})
    if missing:
        raise MissingFactsError(f"{transition}: facts missing {missing}")


def _has_reason(facts: Facts) -> bool:
    reason = facts.get(REASON_FACT)
    return isinstance(reason, str) and bool(reason.strip())


def _not_possible_message(workflow: Workflow, state: str, action: str) -> str:
    return f"当前状态“{workflow.state_label(state)}”下不能执行“{workflow.action_label(action)}”操作"


# -------------------------------------------------------------------------- diagram


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
