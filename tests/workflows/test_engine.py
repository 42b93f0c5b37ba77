"""The pure workflow engine: load-time validation, decide, allowed_actions, Mermaid."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

import workflows
from workflows import (
    GUARD_FAILED,
    REASON_REQUIRED,
    TRANSITION_NOT_ALLOWED,
    Decision,
    Guard,
    GuardRegistry,
    MissingFactsError,
    Transition,
    UnknownStateError,
    Workflow,
    WorkflowDefinitionError,
    allowed_actions,
    decide,
    required_facts,
    to_mermaid,
)

GUARDS = GuardRegistry()


@GUARDS.guard("ready", "稿件尚未就绪", reads=("ready",))
def ready(facts: Any) -> bool:
    return facts["ready"]


@GUARDS.guard("checked", "尚未核对", reads=("checked", "ready"))
def checked(facts: Any) -> bool:
    return facts["checked"]


AUTHOR = frozenset({"author"})
EDITOR = frozenset({"editor"})

SEND = Transition("send", "open", "review", AUTHOR, guards=(ready, checked), effects=("notify_editor",))
DROP = Transition("drop", "open", "dropped", AUTHOR)
ACCEPT = Transition("accept", "review", "done", EDITOR, requires_reason=True, effects=("notify_author", "publish"))
BOUNCE = Transition("bounce", "review", "open", EDITOR | {"chief"}, requires_reason=True)


def toy(**changes: Any) -> Workflow:
    spec: dict[str, Any] = {
        "name": "toy",
        "states": ("open", "review", "done", "dropped"),
        "initial": "open",
        "final_states": {"done", "dropped"},
        "transitions": (SEND, DROP, ACCEPT, BOUNCE),
        "roles": ("author", "editor", "chief"),
        "known_guards": GUARDS,
        "state_labels": {"open": "草稿", "review": "审稿中"},
        "action_labels": {"send": "送审"},
    }
    return Workflow(**(spec | changes))


GOOD = {"ready": True, "checked": True, "reason": "同意"}


# ------------------------------------------------------------- load-time validation


def test_a_valid_table_loads() -> None:
    wf = toy()
    assert wf.actions == ("send", "drop", "accept", "bounce")
    assert wf.effects == ("notify_editor", "notify_author", "publish")
    assert wf.guards == (ready, checked)
    assert wf.transition("review", "accept") is ACCEPT
    assert wf.transition("open", "accept") is None
    assert wf.outgoing("review") == (ACCEPT, BOUNCE)


INVALID = {
    "two initial states": (
        {"initial": ("open", "review")},
        "exactly one initial state is required, got 2",
    ),
    "no initial state": ({"initial": ()}, "exactly one initial state is required, got 0"),
    "undeclared initial state": ({"initial": "nowhere"}, "initial state 'nowhere' is not a declared state"),
    "final initial state": (
        {"initial": "done", "states": ("done",), "final_states": {"done"}, "transitions": ()},
        "initial state 'done' must not be final",
    ),
    "unreachable state": (
        {
            "states": ("open", "review", "done", "dropped", "limbo"),
            "transitions": (SEND, DROP, ACCEPT, BOUNCE, Transition("leave", "limbo", "done", AUTHOR)),
        },
        "state 'limbo' is unreachable from 'open'",
    ),
    "final state with an exit": (
        {"transitions": (SEND, DROP, ACCEPT, BOUNCE, Transition("reopen", "done", "open", EDITOR))},
        "final state 'done' must have no outgoing transitions, has: ['reopen']",
    ),
    "non-final state without exit": (
        {
            "states": ("open", "review", "done", "dropped", "stuck"),
            "transitions": (SEND, DROP, ACCEPT, BOUNCE, Transition("park", "review", "stuck", EDITOR)),
        },
        "state 'stuck' is not final but has no outgoing transition",
    ),
    "unknown role": (
        {"transitions": (SEND, DROP, ACCEPT, BOUNCE, Transition("hijack", "open", "done", {"intruder"}))},
        "hijack (open -> done): unknown role 'intruder'",
    ),
    "unknown guard": (
        {
            "transitions": (
                SEND,
                DROP,
                Transition(
                    "accept", "review", "done", EDITOR, guards=(Guard("ghost", "未登记的条件", lambda facts: True),)
                ),
                BOUNCE,
            )
        },
        "accept (review -> done): unknown guard 'ghost'",
    ),
    "guard impersonating a registered one": (
        {
            "transitions": (
                SEND,
                DROP,
                Transition(
                    "accept", "review", "done", EDITOR, guards=(Guard("ready", "同名但不同的条件", lambda facts: True),)
                ),
                BOUNCE,
            )
        },
        "accept (review -> done): unknown guard 'ready'",
    ),
    "duplicate action from the same source": (
        {"transitions": (SEND, DROP, ACCEPT, BOUNCE, Transition("accept", "review", "dropped", EDITOR))},
        "action 'accept' is declared more than once from state 'review'",
    ),
    "unknown target state": (
        {"transitions": (SEND, DROP, ACCEPT, BOUNCE, Transition("fly", "open", "moon", AUTHOR))},
        "fly (open -> moon): unknown state 'moon'",
    ),
    "undeclared final state": (
        {"final_states": {"done", "dropped", "gone"}},
        "final state 'gone' is not a declared state",
    ),
    "state declared twice": (
        {"states": ("open", "review", "done", "dropped", "open")},
        "state 'open' is declared more than once",
    ),
    "badly named state": (
        {"states": ("open", "review", "done", "dropped", "Bad State")},
        "state 'Bad State' is not a lower_snake_case name",
    ),
    "role declared twice": (
        {"roles": ("author", "editor", "chief", "editor")},
        "role 'editor' is declared more than once",
    ),
    "label for an unknown state": ({"state_labels": {"nowhere": "无"}}, "label for unknown state 'nowhere'"),
    "label for an unknown action": ({"action_labels": {"fly": "飞"}}, "label for unknown action 'fly'"),
    "label that breaks Mermaid": ({"state_labels": {"open": '草稿"'}}, "label '草稿\"' of 'open'"),
}


@pytest.mark.parametrize(("changes", "message"), INVALID.values(), ids=INVALID.keys())
def test_an_invalid_table_is_refused_at_load_time(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(WorkflowDefinitionError) as excinfo:
        toy(**changes)
    assert message in str(excinfo.value)
    assert str(excinfo.value).startswith("workflow 'toy' is invalid:")


def test_every_problem_is_listed_at_once() -> None:
    with pytest.raises(WorkflowDefinitionError) as excinfo:
        toy(
            final_states={"done", "dropped", "gone"},
            transitions=(SEND, DROP, ACCEPT, BOUNCE, Transition("hijack", "open", "done", {"intruder"})),
        )
    message = str(excinfo.value)
    assert "final state 'gone' is not a declared state" in message
    assert "unknown role 'intruder'" in message


BAD_ROWS = {
    "roles given as a string": (lambda: Transition("send", "open", "review", "author"), "not the string 'author'"),
    "no roles": (lambda: Transition("send", "open", "review", frozenset()), "at least one role"),
    "bad action name": (lambda: Transition("Send!", "open", "review", AUTHOR), "action 'Send!'"),
    "bad state name": (lambda: Transition("send", "open", "In Review", AUTHOR), "target 'In Review'"),
    "guard not a Guard": (lambda: Transition("send", "open", "review", AUTHOR, guards=("ready",)), "is not a Guard"),
    "bad effect name": (lambda: Transition("send", "open", "review", AUTHOR, effects=("Notify",)), "effect 'Notify'"),
    "guard without message": (lambda: Guard("silent", " ", lambda facts: True), "needs a message"),
}


@pytest.mark.parametrize(("build", "message"), BAD_ROWS.values(), ids=BAD_ROWS.keys())
def test_a_malformed_row_or_guard_is_refused(build: Any, message: str) -> None:
    with pytest.raises(WorkflowDefinitionError) as excinfo:
        build()
    assert message in str(excinfo.value)


def test_a_table_needs_rows_and_final_states_of_the_right_type() -> None:
    with pytest.raises(WorkflowDefinitionError, match="is not a Transition"):
        toy(transitions=(SEND, ("drop", "open", "dropped")))
    with pytest.raises(WorkflowDefinitionError, match="not the string 'done'"):
        toy(final_states="done")


def test_a_guard_name_is_registered_once() -> None:
    registry = GuardRegistry()
    registry.register(Guard("once", "一次", lambda facts: True))
    with pytest.raises(WorkflowDefinitionError, match="registered twice"):
        registry.register(Guard("once", "两次", lambda facts: True))
    assert list(registry) == ["once"] and len(registry) == 1


def test_rows_and_tables_are_immutable() -> None:
    wf = toy()
    with pytest.raises(dataclasses.FrozenInstanceError):
        wf.initial = "review"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        SEND.target = "done"  # type: ignore[misc]
    with pytest.raises(TypeError):
        wf.state_labels["open"] = "x"  # type: ignore[index]


# ------------------------------------------------------------------------- decide


def test_an_allowed_step_gives_target_and_effects() -> None:
    assert decide(toy(), "open", "send", {"author"}, GOOD) == Decision(
        allowed=True, target="review", effects=("notify_editor",)
    )


def test_one_matching_role_among_several_is_enough() -> None:
    assert decide(toy(), "review", "bounce", {"author", "chief"}, GOOD).allowed


@pytest.mark.parametrize(
    ("state", "action", "roles", "message"),
    [
        ("open", "accept", {"editor"}, "当前状态“草稿”下不能执行“accept”操作"),
        ("open", "fly", {"author"}, "当前状态“草稿”下不能执行“fly”操作"),
        ("done", "send", {"author"}, "当前状态“done”下不能执行“送审”操作"),
        ("open", "send", {"editor"}, "您的角色无权执行“送审”操作"),
        ("open", "send", set(), "您的角色无权执行“送审”操作"),
        ("open", "send", {"nobody"}, "您的角色无权执行“送审”操作"),
    ],
)
def test_an_impossible_or_unauthorised_step_is_not_allowed(
    state: str, action: str, roles: set[str], message: str
) -> None:
    decision = decide(toy(), state, action, roles, GOOD)
    assert decision == Decision(allowed=False, code=TRANSITION_NOT_ALLOWED, message=message)


def test_a_failing_guard_is_named() -> None:
    decision = decide(toy(), "open", "send", {"author"}, GOOD | {"checked": False})
    assert (decision.allowed, decision.code, decision.failed_guard) == (False, GUARD_FAILED, "checked")
    assert decision.message == "尚未核对"
    assert decision.target is None and decision.effects == ()


def test_the_first_failing_guard_in_table_order_is_reported() -> None:
    decision = decide(toy(), "open", "send", {"author"}, {"ready": False, "checked": False})
    assert decision.failed_guard == "ready"


@pytest.mark.parametrize("facts", [{}, {"reason": None}, {"reason": ""}, {"reason": " \n\t"}, {"reason": 42}])
def test_a_reason_is_required_where_the_row_says_so(facts: dict[str, Any]) -> None:
    decision = decide(toy(), "review", "accept", {"editor"}, facts)
    assert (decision.allowed, decision.code) == (False, REASON_REQUIRED)
    assert decision.message == "“accept”操作必须填写理由"


def test_guards_are_checked_before_the_reason() -> None:
    decision = decide(toy(), "open", "send", {"author"}, {"ready": False, "checked": True})
    assert decision.code == GUARD_FAILED


def test_missing_facts_fail_loudly() -> None:
    with pytest.raises(MissingFactsError, match=r"send \(open -> review\): facts missing \['checked'\]"):
        decide(toy(), "open", "send", {"author"}, {"ready": True})


def test_facts_are_not_needed_for_a_refused_role() -> None:
    assert decide(toy(), "open", "send", {"editor"}, {}).code == TRANSITION_NOT_ALLOWED


def test_an_unknown_state_is_an_error() -> None:
    with pytest.raises(UnknownStateError, match="workflow 'toy' has no state 'limbo'"):
        decide(toy(), "limbo", "send", {"author"}, GOOD)
    with pytest.raises(UnknownStateError):
        allowed_actions(toy(), "limbo", {"author"})


def test_roles_given_as_a_string_are_an_error() -> None:
    with pytest.raises(TypeError, match="not the string 'author'"):
        decide(toy(), "open", "send", "author", GOOD)


def test_required_facts_lists_guard_reads_and_reason() -> None:
    assert required_facts(toy(), "open", "send") == {"ready", "checked"}
    assert required_facts(toy(), "review", "accept") == {"reason"}
    assert required_facts(toy(), "open", "drop") == set()
    assert required_facts(toy(), "done", "send") == set()


# ---------------------------------------------------------------- allowed_actions


@pytest.mark.parametrize(
    ("state", "roles", "expected"),
    [
        ("open", {"author"}, ["send", "drop"]),
        ("open", {"editor"}, []),
        ("review", {"editor"}, ["accept", "bounce"]),
        ("review", {"chief"}, ["bounce"]),
        ("review", {"author", "chief"}, ["bounce"]),
        ("done", {"author", "editor", "chief"}, []),
    ],
)
def test_allowed_actions_in_table_order(state: str, roles: set[str], expected: list[str]) -> None:
    assert allowed_actions(toy(), state, roles) == expected


def test_allowed_actions_ignore_guards() -> None:
    assert "send" in allowed_actions(toy(), "open", {"author"})  # facts are not even consulted


# ------------------------------------------------------------------------ Mermaid


def test_mermaid_has_one_arrow_per_row() -> None:
    assert to_mermaid(toy()) == (
        "stateDiagram-v2\n"
        '    state "草稿 (open)" as open\n'
        '    state "审稿中 (review)" as review\n'
        "    [*] --> open\n"
        "    open --> review: send (author)\n"
        "    open --> dropped: drop (author)\n"
        "    review --> done: accept (editor)\n"
        "    review --> open: bounce (editor, chief)\n"
        "    done --> [*]\n"
        "    dropped --> [*]\n"
    )


def test_the_package_reexports_the_engine() -> None:
    for name in workflows.__all__:
        assert hasattr(workflows, name), name
    assert workflows.decide is decide
