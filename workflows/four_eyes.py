"""The four-eyes approval flows besides entry review, as tables.

- **Whitelist action requests** (revoke, reinstate): one reviewer requests; a
  *different* reviewer in scope confirms, and only then does the action take effect. A
  pending request can be declined with a reason by any reviewer in scope — the
  requester withdrawing it included.
- **Bar lifts**: a province-level reviewer requests that an adverse criminal-record or
  sexual-offence result stop barring a person; another province-level reviewer
  confirms or declines (with a reason); the requester may withdraw it.

Both use the one four-eyes guard, ``different_reviewer`` (``workflows.guards``), that
also guards the deciding steps of entry review: the facts name the first reviewer (here
the requester) as ``preliminary_reviewer_id``.
"""

from __future__ import annotations

from enum import StrEnum

from workflows.guards import GUARDS, different_reviewer
from workflows.roles import RoleTag
from workflows.table import Transition, Workflow


class RequestState(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


PENDING, CONFIRMED, DECLINED, WITHDRAWN = RequestState
REVIEWERS = frozenset({RoleTag.COUNTY_REVIEWER, RoleTag.CITY_REVIEWER, RoleTag.PROVINCE_REVIEWER})
PROVINCE = frozenset({RoleTag.PROVINCE_REVIEWER})
REQUESTER = frozenset({RoleTag.REQUESTER})
STATE_LABELS: dict[str, str] = {PENDING: "待确认", CONFIRMED: "已确认", DECLINED: "已驳回", WITHDRAWN: "已撤回"}

T = Transition

WHITELIST_REQUEST = Workflow(
    name="whitelist_request",
    states=(PENDING, CONFIRMED, DECLINED),
    initial=PENDING,
    final_states=frozenset({CONFIRMED, DECLINED}),
    roles=tuple(RoleTag),
    known_guards=GUARDS,
    state_labels={s: STATE_LABELS[s] for s in (PENDING, CONFIRMED, DECLINED)},
    action_labels={"confirm": "确认（另一名审核人员）", "decline": "驳回或撤回"},
    transitions=(
        T("confirm", PENDING, CONFIRMED, REVIEWERS, guards=(different_reviewer,), effects=("apply_action",)),
        T("decline", PENDING, DECLINED, REVIEWERS, requires_reason=True),
    ),
)

BAR_LIFT = Workflow(
    name="bar_lift",
    states=tuple(RequestState),
    initial=PENDING,
    final_states=frozenset({CONFIRMED, DECLINED, WITHDRAWN}),
    roles=tuple(RoleTag),
    known_guards=GUARDS,
    state_labels=STATE_LABELS,
    action_labels={"confirm": "确认解除（另一名省级审核人员）", "decline": "驳回解除申请", "withdraw": "撤回申请"},
    transitions=(
        T("confirm", PENDING, CONFIRMED, PROVINCE, guards=(different_reviewer,)),
        T("decline", PENDING, DECLINED, PROVINCE, guards=(different_reviewer,), requires_reason=True),
        T("withdraw", PENDING, WITHDRAWN, REQUESTER),
    ),
)
