"""The entry-review tables, checked against an independent spec, step by step.

`FULL_SPEC` restates the table from the requirements; `COUNTY_ONLY_SPEC` states how
the county-only variant differs. Every (state, action, role) combination of each
table goes through `decide`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import product
from typing import Any

import pytest

from workflows import (
    GUARD_FAILED,
    REASON_REQUIRED,
    TRANSITION_NOT_ALLOWED,
    MissingFactsError,
    allowed_actions,
    decide,
)
from workflows.engine import Workflow
from workflows.entry_review import (
    ENTRY_REVIEW,
    ENTRY_REVIEW_COUNTY_ONLY,
    EntryAction,
    EntryState,
    entry_review_for,
)
from workflows.roles import ROLE_LABELS, RoleTag

VENDOR = frozenset({RoleTag.VENDOR})
SYSTEM = frozenset({RoleTag.SYSTEM})
COUNTY_UP = frozenset({RoleTag.COUNTY_REVIEWER, RoleTag.CITY_REVIEWER, RoleTag.PROVINCE_REVIEWER})
CITY_UP = frozenset({RoleTag.CITY_REVIEWER, RoleTag.PROVINCE_REVIEWER})
DECISION = ("documents_complete", "personnel_cleared", "different_reviewer")
FOUR_EYES = ("different_reviewer",)

# (state, action): (target, roles, guard names in order, reason required)
FULL_SPEC: dict[tuple[str, str], tuple[str, frozenset[str], tuple[str, ...], bool]] = {
    ("draft", "submit"): ("submitted", VENDOR, ("documents_complete",), False),
    ("draft", "withdraw"): ("withdrawn", VENDOR, (), False),
    ("submitted", "accept"): ("preliminary_review", COUNTY_UP, (), False),
    ("submitted", "return"): ("returned", COUNTY_UP, (), True),
    ("submitted", "withdraw"): ("withdrawn", VENDOR, (), False),
    ("preliminary_review", "pass_preliminary"): ("verification", COUNTY_UP, ("documents_complete",), False),
    ("preliminary_review", "return"): ("returned", COUNTY_UP, (), True),
    ("preliminary_review", "reject"): ("rejected", COUNTY_UP, (), True),
    ("preliminary_review", "withdraw"): ("withdrawn", VENDOR, (), False),
    ("verification", "pass_verification"): ("final_review", COUNTY_UP, ("personnel_cleared",), False),
    ("verification", "return"): ("returned", COUNTY_UP, (), True),
    ("verification", "reject"): ("rejected", COUNTY_UP, (), True),
    ("verification", "withdraw"): ("withdrawn", VENDOR, (), False),
    ("final_review", "approve"): ("public_notice", CITY_UP, DECISION, True),
    ("final_review", "return"): ("returned", CITY_UP, (), True),
    ("final_review", "reject"): ("rejected", CITY_UP, FOUR_EYES, True),
    ("final_review", "withdraw"): ("withdrawn", VENDOR, (), False),
    ("public_notice", "conclude_notice"): ("approved", SYSTEM, ("notice_period_over", "no_open_objection"), False),
    ("public_notice", "pause_for_objection"): ("objection_review", SYSTEM | COUNTY_UP, ("has_open_objection",), False),
    ("public_notice", "withdraw"): ("withdrawn", VENDOR, (), False),
    ("objection_review", "dismiss_objection"): ("public_notice", CITY_UP, FOUR_EYES, True),
    ("objection_review", "uphold_objection"): ("final_review", CITY_UP, (), True),
    ("objection_review", "reject"): ("rejected", CITY_UP, FOUR_EYES, True),
    ("objection_review", "withdraw"): ("withdrawn", VENDOR, (), False),
    ("returned", "resubmit"): ("submitted", VENDOR, ("documents_complete",), False),
    ("returned", "withdraw"): ("withdrawn", VENDOR, (), False),
}

# No final review: the county decides at verification and settles objections.
COUNTY_ONLY_SPEC = {
    key: row
    for key, row in FULL_SPEC.items()
    if key[0] != "final_review" and key != ("verification", "pass_verification")
} | {
    ("verification", "approve"): ("public_notice", COUNTY_UP, DECISION, True),
    ("verification", "reject"): ("rejected", COUNTY_UP, FOUR_EYES, True),
    ("objection_review", "dismiss_objection"): ("public_notice", COUNTY_UP, FOUR_EYES, True),
    ("objection_review", "uphold_objection"): ("verification", COUNTY_UP, (), True),
    ("objection_review", "reject"): ("rejected", COUNTY_UP, FOUR_EYES, True),
}

SPECS = {ENTRY_REVIEW.name: FULL_SPEC, ENTRY_REVIEW_COUNTY_ONLY.name: COUNTY_ONLY_SPEC}
TABLES = (ENTRY_REVIEW, ENTRY_REVIEW_COUNTY_ONLY)

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
FIRST_REVIEWER, SECOND_REVIEWER = "reviewer-1", "reviewer-2"

# Facts under which every guard holds (except has_open_objection, see good_facts).
GOOD_FACTS: dict[str, Any] = {
    "missing_documents": [],
    "expired_documents": [],
    "not_yet_valid_documents": [],
    "uncleared_personnel": [],
    "preliminary_reviewer_id": FIRST_REVIEWER,
    "actor_id": SECOND_REVIEWER,
    "now": NOW,
    "notice_ends_at": NOW - timedelta(days=1),
    "open_objections": [],
    "reason": "材料齐全，核查无异常",
}

# For each guard, the ways the facts make it fail.
BREAKING_FACTS: dict[str, list[dict[str, Any]]] = {
    "documents_complete": [
        {"missing_documents": ["business_licence"]},
        {"expired_documents": ["school_permit"]},
        {"not_yet_valid_documents": ["business_licence"]},
    ],
    "personnel_cleared": [{"uncleared_personnel": ["person-7"]}],
    "different_reviewer": [
        {"actor_id": FIRST_REVIEWER},
        {"preliminary_reviewer_id": None},
        {"actor_id": None},
    ],
    "notice_period_over": [{"notice_ends_at": NOW + timedelta(seconds=1)}],
    "no_open_objection": [{"open_objections": ["objection-1"]}],
    "has_open_objection": [{"open_objections": []}],
}


def good_facts(action: str) -> dict[str, Any]:
    if action == "pause_for_objection":
        return GOOD_FACTS | {"open_objections": ["objection-1"]}
    return dict(GOOD_FACTS)


# ---------------------------------------------------------------- the table itself


@pytest.mark.parametrize("wf", TABLES, ids=lambda wf: wf.name)
def test_the_table_has_exactly_the_specified_rows(wf: Workflow) -> None:
    rows = {
        (t.source, t.action): (t.target, t.roles, tuple(g.name for g in t.guards), t.requires_reason)
        for t in wf.transitions
    }
    assert rows == SPECS[wf.name]


def test_states_actions_and_roles() -> None:
    assert ENTRY_REVIEW.states == tuple(EntryState)
    assert set(ENTRY_REVIEW_COUNTY_ONLY.states) == set(EntryState) - {EntryState.FINAL_REVIEW}
    assert set(ENTRY_REVIEW.actions) == set(EntryAction)
    assert set(ENTRY_REVIEW_COUNTY_ONLY.actions) == set(EntryAction) - {EntryAction.PASS_VERIFICATION}
    for wf in TABLES:
        assert wf.initial == "draft"
        assert wf.final_states == {"approved", "rejected", "withdrawn"}
        assert wf.roles == tuple(RoleTag)


@pytest.mark.parametrize("wf", TABLES, ids=lambda wf: wf.name)
def test_every_state_and_action_has_a_chinese_label(wf: Workflow) -> None:
    assert set(wf.state_labels) == set(wf.states)
    assert set(wf.action_labels) == set(wf.actions)
    assert set(ROLE_LABELS) == set(RoleTag)


@pytest.mark.parametrize("wf", TABLES, ids=lambda wf: wf.name)
def test_the_vendor_may_withdraw_from_every_open_stage(wf: Workflow) -> None:
    for state in wf.states:
        expected = [] if wf.is_final(state) else ["withdraw"]
        assert [a for a in allowed_actions(wf, state, VENDOR) if a == "withdraw"] == expected


def test_the_region_setting_picks_the_table() -> None:
    assert entry_review_for(city_review_required=True) is ENTRY_REVIEW
    assert entry_review_for(city_review_required=False) is ENTRY_REVIEW_COUNTY_ONLY


@pytest.mark.parametrize(
    ("wf", "state", "action", "effects"),
    [
        (ENTRY_REVIEW, "draft", "submit", ("snapshot_application", "notify_reviewers")),
        (ENTRY_REVIEW, "preliminary_review", "pass_preliminary", ("record_preliminary_reviewer",)),
        (ENTRY_REVIEW, "final_review", "approve", ("start_notice", "notify_vendor")),
        (ENTRY_REVIEW_COUNTY_ONLY, "verification", "approve", ("start_notice", "notify_vendor")),
        (ENTRY_REVIEW, "verification", "return", ("notify_vendor",)),
        (ENTRY_REVIEW, "public_notice", "conclude_notice", ("admit_to_whitelist", "notify_vendor")),
        (ENTRY_REVIEW, "public_notice", "pause_for_objection", ("pause_notice", "notify_vendor", "notify_reviewers")),
        (ENTRY_REVIEW, "objection_review", "dismiss_objection", ("resume_notice", "notify_vendor", "notify_objector")),
    ],
)
def test_effects_are_named_on_the_rows(wf: Workflow, state: str, action: str, effects: tuple[str, ...]) -> None:
    assert decide(wf, state, action, _any_role_for(wf, state, action), good_facts(action)).effects == effects


# ----------------------------------------- every (state, action, role) combination


def _combinations() -> list[Any]:
    cases: list[Any] = []
    for wf in TABLES:
        for state, action, role in product(wf.states, EntryAction, RoleTag):
            cases.append(pytest.param(wf, state, str(action), role, id=f"{wf.name}-{state}-{action}-{role}"))
    return cases


@pytest.mark.parametrize(("wf", "state", "action", "role"), _combinations())
def test_every_state_action_role_combination(wf: Workflow, state: str, action: str, role: str) -> None:
    decision = decide(wf, state, action, {role}, good_facts(action))
    row = SPECS[wf.name].get((state, action))
    if row is not None and role in row[1]:
        assert (decision.allowed, decision.target, decision.code) == (True, row[0], None)
    else:
        assert (decision.allowed, decision.target, decision.code) == (False, None, TRANSITION_NOT_ALLOWED)
        assert decision.message


# ----------------------------------------------------------- guards and reasons


def _guard_cases() -> list[Any]:
    cases: list[Any] = []
    for wf in TABLES:
        for (state, action), (_, _, guards, _) in SPECS[wf.name].items():
            for guard in guards:
                for number, breaking in enumerate(BREAKING_FACTS[guard]):
                    case_id = f"{wf.name}-{state}-{action}-{guard}-{number}"
                    cases.append(pytest.param(wf, state, action, guard, breaking, id=case_id))
    return cases


@pytest.mark.parametrize(("wf", "state", "action", "guard", "breaking"), _guard_cases())
def test_each_guard_fails_with_its_code(wf: Workflow, state: str, action: str, guard: str, breaking: dict) -> None:
    decision = decide(wf, state, action, _any_role_for(wf, state, action), good_facts(action) | breaking)
    assert (decision.allowed, decision.code, decision.failed_guard) == (False, GUARD_FAILED, guard)
    assert decision.message == wf.known_guards[guard].message


def _reason_cases() -> list[Any]:
    cases: list[Any] = []
    for wf in TABLES:
        for (state, action), (_, _, _, needs_reason) in SPECS[wf.name].items():
            cases.append(pytest.param(wf, state, action, needs_reason, id=f"{wf.name}-{state}-{action}"))
    return cases


@pytest.mark.parametrize(("wf", "state", "action", "needs_reason"), _reason_cases())
def test_a_reason_is_required_exactly_where_specified(
    wf: Workflow, state: str, action: str, needs_reason: bool
) -> None:
    roles = _any_role_for(wf, state, action)
    for reason in (None, "", "   "):
        decision = decide(wf, state, action, roles, good_facts(action) | {"reason": reason})
        assert decision.code == (REASON_REQUIRED if needs_reason else None)


def test_the_notice_period_is_over_at_its_end_instant() -> None:
    facts = GOOD_FACTS | {"notice_ends_at": NOW}
    assert decide(ENTRY_REVIEW, "public_notice", "conclude_notice", SYSTEM, facts).target == "approved"


def test_a_decision_without_the_facts_its_guards_read_raises() -> None:
    with pytest.raises(MissingFactsError, match="preliminary_reviewer_id"):
        decide(ENTRY_REVIEW, "final_review", "approve", CITY_UP, {"reason": "同意", "missing_documents": []})


def test_four_eyes_the_preliminary_reviewer_cannot_decide_in_final_review() -> None:
    facts = GOOD_FACTS | {"preliminary_reviewer_id": "city-7", "actor_id": "city-7"}
    decision = decide(ENTRY_REVIEW, "final_review", "approve", {RoleTag.CITY_REVIEWER}, facts)
    assert decision.failed_guard == "different_reviewer"
    assert decision.message == "初审人员不得作出终审决定，请由其他审核人员办理"


# ------------------------------------------------------------------ walkthroughs


Step = tuple[str, RoleTag, dict[str, Any]]

FULL_PATH_WITH_OBJECTION: list[Step] = [
    ("submit", RoleTag.VENDOR, {}),
    ("accept", RoleTag.COUNTY_REVIEWER, {}),
    ("pass_preliminary", RoleTag.COUNTY_REVIEWER, {"actor_id": FIRST_REVIEWER, "preliminary_reviewer_id": None}),
    ("pass_verification", RoleTag.COUNTY_REVIEWER, {"actor_id": FIRST_REVIEWER}),
    ("approve", RoleTag.CITY_REVIEWER, {}),
    ("pause_for_objection", RoleTag.SYSTEM, {"open_objections": ["objection-1"]}),
    ("dismiss_objection", RoleTag.PROVINCE_REVIEWER, {}),
    ("conclude_notice", RoleTag.SYSTEM, {}),
]

COUNTY_PATH_WITH_RETURN: list[Step] = [
    ("submit", RoleTag.VENDOR, {}),
    ("accept", RoleTag.COUNTY_REVIEWER, {}),
    ("return", RoleTag.COUNTY_REVIEWER, {"reason": "请补充营业执照副本"}),
    ("resubmit", RoleTag.VENDOR, {}),
    ("accept", RoleTag.COUNTY_REVIEWER, {}),
    ("pass_preliminary", RoleTag.COUNTY_REVIEWER, {"actor_id": FIRST_REVIEWER}),
    ("approve", RoleTag.COUNTY_REVIEWER, {"actor_id": SECOND_REVIEWER}),
    ("conclude_notice", RoleTag.SYSTEM, {}),
]


@pytest.mark.parametrize(
    ("wf", "steps", "end"),
    [
        (ENTRY_REVIEW, FULL_PATH_WITH_OBJECTION, "approved"),
        (ENTRY_REVIEW_COUNTY_ONLY, COUNTY_PATH_WITH_RETURN, "approved"),
        (
            ENTRY_REVIEW,
            [*FULL_PATH_WITH_OBJECTION[:6], ("uphold_objection", RoleTag.CITY_REVIEWER, {})],
            "final_review",
        ),
        (ENTRY_REVIEW_COUNTY_ONLY, [*COUNTY_PATH_WITH_RETURN[:7], ("withdraw", RoleTag.VENDOR, {})], "withdrawn"),
    ],
    ids=["full-with-objection", "county-only-with-return", "objection-upheld", "withdrawn-in-notice"],
)
def test_walkthrough(wf: Workflow, steps: list[Step], end: str) -> None:
    state = wf.initial
    for action, role, extra in steps:
        decision = decide(wf, state, action, {role}, GOOD_FACTS | extra)
        assert decision.allowed, (state, action, role, decision)
        state = decision.target
    assert state == end


@pytest.mark.parametrize(
    ("state", "roles", "expected"),
    [
        ("final_review", {RoleTag.CITY_REVIEWER}, ["approve", "return", "reject"]),
        ("final_review", {RoleTag.COUNTY_REVIEWER}, []),
        ("final_review", {RoleTag.VENDOR}, ["withdraw"]),
        ("public_notice", {RoleTag.SYSTEM}, ["conclude_notice", "pause_for_objection"]),
        ("public_notice", {RoleTag.ADMIN}, []),
        ("approved", set(RoleTag), []),
    ],
)
def test_allowed_actions_per_stage(state: str, roles: set[str], expected: list[str]) -> None:
    assert allowed_actions(ENTRY_REVIEW, state, roles) == expected


def _any_role_for(wf: Workflow, state: str, action: str) -> set[str]:
    transition = wf.transition(state, action)
    assert transition is not None
    return {min(transition.roles)}
