"""The whitelist action requests and the bar lifts are tables on the engine, and one
four-eyes guard serves them and entry review alike."""

from __future__ import annotations

import pytest

from workflows.engine import GUARD_FAILED, TRANSITION_NOT_ALLOWED, decide
from workflows.entry_review import ENTRY_REVIEW, ENTRY_REVIEW_COUNTY_ONLY
from workflows.four_eyes import BAR_LIFT, WHITELIST_REQUEST
from workflows.guards import different_reviewer
from workflows.roles import RoleTag

FIRST, SECOND = "reviewer-1", "reviewer-2"


def facts(actor: str, reason: str | None = "理由") -> dict:
    return {"preliminary_reviewer_id": FIRST, "actor_id": actor, "reason": reason}


def test_one_four_eyes_guard_serves_every_approval_flow():
    for workflow in (ENTRY_REVIEW, ENTRY_REVIEW_COUNTY_ONLY, WHITELIST_REQUEST, BAR_LIFT):
        assert [g for g in workflow.guards if "reviewer" in g.name] == [different_reviewer]


@pytest.mark.parametrize(
    "workflow, tag", [(WHITELIST_REQUEST, RoleTag.COUNTY_REVIEWER), (BAR_LIFT, RoleTag.PROVINCE_REVIEWER)]
)
def test_the_requester_cannot_confirm_and_another_reviewer_can(workflow, tag):
    own = decide(workflow, "pending", "confirm", {tag, RoleTag.REQUESTER}, facts(FIRST))
    assert not own.allowed and own.code == GUARD_FAILED and own.failed_guard == "different_reviewer"
    other = decide(workflow, "pending", "confirm", {tag}, facts(SECOND))
    assert other.allowed and other.target == "confirmed"
    assert not decide(workflow, "confirmed", "confirm", {tag}, facts(SECOND)).allowed  # decided once only


def test_a_whitelist_request_is_declined_by_anyone_in_scope_the_requester_included():
    own = decide(WHITELIST_REQUEST, "pending", "decline", {RoleTag.CITY_REVIEWER, RoleTag.REQUESTER}, facts(FIRST))
    assert own.allowed and own.target == "declined"
    assert (
        decide(WHITELIST_REQUEST, "pending", "decline", {RoleTag.CITY_REVIEWER}, facts(SECOND, None)).code
        == "reason_required"
    )


def test_a_bar_lift_is_withdrawn_by_its_requester_only_and_declined_by_another_province_reviewer():
    province = RoleTag.PROVINCE_REVIEWER
    assert decide(BAR_LIFT, "pending", "withdraw", {province, RoleTag.REQUESTER}, facts(FIRST, None)).allowed
    assert decide(BAR_LIFT, "pending", "withdraw", {province}, facts(SECOND)).code == TRANSITION_NOT_ALLOWED
    assert (
        decide(BAR_LIFT, "pending", "decline", {province, RoleTag.REQUESTER}, facts(FIRST)).failed_guard
        == "different_reviewer"
    )
    assert decide(BAR_LIFT, "pending", "decline", {RoleTag.CITY_REVIEWER}, facts(SECOND)).code == TRANSITION_NOT_ALLOWED
    assert decide(BAR_LIFT, "pending", "decline", {province}, facts(SECOND)).target == "declined"
    for closed in ("confirmed", "declined", "withdrawn"):
        assert not decide(BAR_LIFT, closed, "withdraw", {province, RoleTag.REQUESTER}, facts(FIRST)).allowed
