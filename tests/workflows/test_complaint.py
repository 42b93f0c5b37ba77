"""The complaint table: who may take which step, and the effects the service must run."""

from __future__ import annotations

import pytest

from workflows import decide
from workflows.complaint import COMPLAINT, DISMISSED, INVESTIGATING, RECEIVED, UPHELD
from workflows.roles import RoleTag

COUNTY = {RoleTag.COUNTY_REVIEWER}


@pytest.mark.parametrize(
    ("state", "action", "target", "effects"),
    [
        (RECEIVED, "investigate", INVESTIGATING, ()),
        (INVESTIGATING, "uphold", UPHELD, ("request_suspension",)),
        (INVESTIGATING, "dismiss", DISMISSED, ("lift_person_suspension",)),
        (RECEIVED, "dismiss", DISMISSED, ("lift_person_suspension",)),
    ],
)
def test_a_reviewer_takes_the_case_through_the_table(state, action, target, effects):
    decision = decide(COMPLAINT, state, action, COUNTY, {"reason": "经调查核实"})
    assert (decision.allowed, decision.target, decision.effects) == (True, target, effects)


def test_no_one_but_a_reviewer_decides_and_a_decision_needs_a_reason():
    for tags in ({RoleTag.SCHOOL}, {RoleTag.VENDOR}, {RoleTag.ADMIN}, set()):
        assert not decide(COMPLAINT, INVESTIGATING, "uphold", tags, {"reason": "x"}).allowed
    assert decide(COMPLAINT, INVESTIGATING, "uphold", COUNTY, {"reason": None}).code == "reason_required"
    assert not decide(COMPLAINT, RECEIVED, "uphold", COUNTY, {"reason": "未经调查"}).allowed  # investigate first
    for final in (UPHELD, DISMISSED):
        assert not decide(COMPLAINT, final, "dismiss", COUNTY, {"reason": "再议"}).allowed
