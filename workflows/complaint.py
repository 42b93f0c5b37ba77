"""A complaint about a school's after-school service (§3(3), the "five prohibitions").

Read top to bottom: a complaint is received (from a school, a vendor's staff, an
inspector, or a parent through the public form); a reviewer of the bureau in scope takes
it up (investigating); a reviewer decides it, with a reason: upheld or dismissed. A
received complaint may be dismissed at once (no investigation needed), with a reason.

An upheld serious complaint opens a whitelist suspension request of the item or the
vendor (effect `request_suspension`); the suspension still waits for a second
reviewer's confirmation in the whitelist request table (workflows/four_eyes.py). A
suspension of a person's entry pending the investigation is not a state of the
complaint: it is a person-level state (service/personnel), ended when the complaint is
dismissed (effect `lift_person_suspension`).
"""

from __future__ import annotations

from enum import StrEnum

from workflows.guards import GUARDS
from workflows.roles import RoleTag
from workflows.table import Transition, Workflow


class ComplaintState(StrEnum):
    RECEIVED = "received"
    INVESTIGATING = "investigating"
    UPHELD = "upheld"
    DISMISSED = "dismissed"


RECEIVED, INVESTIGATING, UPHELD, DISMISSED = ComplaintState
#: The states in which a case is still open (the dashboard counts them by age).
OPEN_STATES = frozenset({RECEIVED, INVESTIGATING})
REVIEWERS = frozenset({RoleTag.COUNTY_REVIEWER, RoleTag.CITY_REVIEWER, RoleTag.PROVINCE_REVIEWER})

T = Transition

COMPLAINT = Workflow(
    name="complaint",
    states=tuple(ComplaintState),
    initial=RECEIVED,
    final_states=frozenset({UPHELD, DISMISSED}),
    roles=tuple(RoleTag),
    known_guards=GUARDS,
    state_labels={RECEIVED: "已受理", INVESTIGATING: "调查中", UPHELD: "投诉属实", DISMISSED: "投诉不成立"},
    action_labels={"investigate": "开始调查", "uphold": "认定属实", "dismiss": "认定不成立"},
    transitions=(
        T("investigate", RECEIVED, INVESTIGATING, REVIEWERS),
        T("uphold", INVESTIGATING, UPHELD, REVIEWERS, requires_reason=True, effects=("request_suspension",)),
        T("dismiss", INVESTIGATING, DISMISSED, REVIEWERS, requires_reason=True, effects=("lift_person_suspension",)),
        T("dismiss", RECEIVED, DISMISSED, REVIEWERS, requires_reason=True, effects=("lift_person_suspension",)),
    ),
)
