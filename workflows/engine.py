"""A tiny, pure workflow engine: review workflows as data.

The tables are built from `workflows.table` (checked by `workflows.validation` when they
load). The engine answers one question, :func:`decide`: may an actor holding these role
tags take this action from this state, given these facts? It does no I/O. The service
gathers the facts (a plain mapping), asks, and then acts on the :class:`Decision`
(changes the state, appends the audit event, runs the named effects).

Standard library only: an import-linter contract keeps this package pure.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from workflows.table import Facts, MissingFactsError, Transition, Workflow

#: Decision codes (stable, machine-readable; the service maps them to API errors).
TRANSITION_NOT_ALLOWED = "transition_not_allowed"
REASON_REQUIRED = "reason_required"
GUARD_FAILED = "guard_failed"

#: The facts key holding the actor's free-text reason, checked when a row requires one.
REASON_FACT = "reason"


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
