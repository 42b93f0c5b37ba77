"""The workflow table: guards, transitions and the workflow they make up.

A :class:`Workflow` is a table of :class:`Transition` rows that a person can read top
to bottom. The table is checked when it is built (see `workflows.validation`) and
raises :class:`WorkflowDefinitionError` listing every problem it found.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from workflows.validation import NAME, definition_problems

Facts = Mapping[str, Any]
Predicate = Callable[[Facts], bool]


class WorkflowError(Exception):
    """Base class of the engine's errors."""


class WorkflowDefinitionError(WorkflowError, ValueError):
    """The workflow table (or one of its rows or guards) is malformed."""


class UnknownStateError(WorkflowError, ValueError):
    """`decide` or `allowed_actions` was asked about a state the workflow does not have."""


class MissingFactsError(WorkflowError, LookupError):
    """The facts lack keys that a guard of the requested transition reads."""


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
        problems = definition_problems(self)
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


def _check_name(what: str, name: object) -> None:
    if not (isinstance(name, str) and NAME.fullmatch(name)):
        raise WorkflowDefinitionError(f"{what} {name!r} must be a lower_snake_case name")


def _name_set(owner: object, what: str, names: Collection[str]) -> frozenset[str]:
    if isinstance(names, str):
        raise WorkflowDefinitionError(f"{owner}: {what} must be a collection of names, not the string {names!r}")
    return frozenset(names)
