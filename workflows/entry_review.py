"""The entry review (入驻审核): how a vendor's application gets onto the whitelist.

Two tables, read each top to bottom:

- ``ENTRY_REVIEW``: county intake, preliminary review and verification, then a final
  review by the city (or province), a public notice, and admission.
- ``ENTRY_REVIEW_COUNTY_ONLY``: for regions whose setting ``city_review_required`` is
  false. There is no final-review stage: the county approves at verification.

Who acts: the vendor applies, resubmits and may withdraw at any stage before a final
outcome. The county bureau takes the application in and runs the preliminary review
and verification; the city and province may act at those stages too (taking a file
over). Only the city or province decides in the final review. The service itself
(``system``) concludes the public notice when the period is over with no objection open.

Four eyes: the person who passed the preliminary review may not make the final
decision. The service enforces it; the ``different_reviewer`` guard on the deciding
rows states the rule in the table and lets the engine check it from the facts.

Effects are names of what the service must do after the state change: the vendor or
reviewers are notified, the notice is started, paused or ended, the vendor is admitted.
"""

from __future__ import annotations

from enum import StrEnum

from workflows.guards import (
    GUARDS,
    different_reviewer,
    documents_complete,
    has_open_objection,
    no_open_objection,
    notice_period_over,
    personnel_cleared,
)
from workflows.roles import RoleTag
from workflows.table import Transition, Workflow


class EntryState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    PRELIMINARY_REVIEW = "preliminary_review"
    VERIFICATION = "verification"
    FINAL_REVIEW = "final_review"
    PUBLIC_NOTICE = "public_notice"
    OBJECTION_REVIEW = "objection_review"
    RETURNED = "returned"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class EntryAction(StrEnum):
    SUBMIT = "submit"
    WITHDRAW = "withdraw"
    ACCEPT = "accept"
    RETURN = "return"
    RESUBMIT = "resubmit"
    PASS_PRELIMINARY = "pass_preliminary"
    PASS_VERIFICATION = "pass_verification"
    APPROVE = "approve"
    REJECT = "reject"
    PAUSE_FOR_OBJECTION = "pause_for_objection"
    DISMISS_OBJECTION = "dismiss_objection"
    UPHOLD_OBJECTION = "uphold_objection"
    CONCLUDE_NOTICE = "conclude_notice"


DRAFT = EntryState.DRAFT
SUBMITTED = EntryState.SUBMITTED
PRELIMINARY_REVIEW = EntryState.PRELIMINARY_REVIEW
VERIFICATION = EntryState.VERIFICATION
FINAL_REVIEW = EntryState.FINAL_REVIEW
PUBLIC_NOTICE = EntryState.PUBLIC_NOTICE
OBJECTION_REVIEW = EntryState.OBJECTION_REVIEW
RETURNED = EntryState.RETURNED
APPROVED = EntryState.APPROVED
REJECTED = EntryState.REJECTED
WITHDRAWN = EntryState.WITHDRAWN

FINAL_STATES = frozenset({APPROVED, REJECTED, WITHDRAWN})

VENDOR = frozenset({RoleTag.VENDOR})
SYSTEM = frozenset({RoleTag.SYSTEM})
COUNTY_AND_UP = frozenset({RoleTag.COUNTY_REVIEWER, RoleTag.CITY_REVIEWER, RoleTag.PROVINCE_REVIEWER})
CITY_AND_UP = frozenset({RoleTag.CITY_REVIEWER, RoleTag.PROVINCE_REVIEWER})
SYSTEM_OR_REVIEWER = SYSTEM | COUNTY_AND_UP

STATE_LABELS: dict[str, str] = {
    DRAFT: "草稿",
    SUBMITTED: "已提交待受理",
    PRELIMINARY_REVIEW: "初审",
    VERIFICATION: "人员核查与实地核验",
    FINAL_REVIEW: "终审",
    PUBLIC_NOTICE: "公示",
    OBJECTION_REVIEW: "异议处理",
    RETURNED: "退回修改",
    APPROVED: "已通过并纳入白名单",
    REJECTED: "未通过",
    WITHDRAWN: "已撤回",
}

ACTION_LABELS: dict[str, str] = {
    EntryAction.SUBMIT: "提交申请",
    EntryAction.WITHDRAW: "撤回申请",
    EntryAction.ACCEPT: "受理",
    EntryAction.RETURN: "退回修改",
    EntryAction.RESUBMIT: "重新提交",
    EntryAction.PASS_PRELIMINARY: "初审通过",
    EntryAction.PASS_VERIFICATION: "核查通过",
    EntryAction.APPROVE: "审核通过并公示",
    EntryAction.REJECT: "不予通过",
    EntryAction.PAUSE_FOR_OBJECTION: "因异议暂停公示",
    EntryAction.DISMISS_OBJECTION: "异议不成立，恢复公示",
    EntryAction.UPHOLD_OBJECTION: "异议成立，重新审核",
    EntryAction.CONCLUDE_NOTICE: "公示期满，纳入白名单",
}

T = Transition

# The final decision needs documents and personnel still good, and a second reviewer.
DECISION_GUARDS = (documents_complete, personnel_cleared, different_reviewer)


# The rows both tables share, and the rows of the deciding stage and of objection
# review, which differ only in the stage and the level that decides.

#: The vendor prepares and submits (or gives up on) the application; the county takes
#: the file in (受理) or returns it at once; preliminary review checks the documents'
#: completeness and authenticity.
INTAKE = (
    T(
        "submit",
        DRAFT,
        SUBMITTED,
        VENDOR,
        guards=(documents_complete,),
        effects=("snapshot_application", "notify_reviewers"),
    ),
    T("withdraw", DRAFT, WITHDRAWN, VENDOR),
    T("accept", SUBMITTED, PRELIMINARY_REVIEW, COUNTY_AND_UP, effects=("notify_vendor",)),
    T("return", SUBMITTED, RETURNED, COUNTY_AND_UP, requires_reason=True, effects=("notify_vendor",)),
    T("withdraw", SUBMITTED, WITHDRAWN, VENDOR, effects=("notify_reviewers",)),
    T(
        "pass_preliminary",
        PRELIMINARY_REVIEW,
        VERIFICATION,
        COUNTY_AND_UP,
        guards=(documents_complete,),
        effects=("record_preliminary_reviewer",),
    ),
    T("return", PRELIMINARY_REVIEW, RETURNED, COUNTY_AND_UP, requires_reason=True, effects=("notify_vendor",)),
    T("reject", PRELIMINARY_REVIEW, REJECTED, COUNTY_AND_UP, requires_reason=True, effects=("notify_vendor",)),
    T("withdraw", PRELIMINARY_REVIEW, WITHDRAWN, VENDOR, effects=("notify_reviewers",)),
)

#: Verification by the county when the city decides: personnel checks and, if needed,
#: an on-site visit, then on to the city's final review.
VERIFICATION_BEFORE_FINAL_REVIEW = (
    T(
        "pass_verification",
        VERIFICATION,
        FINAL_REVIEW,
        COUNTY_AND_UP,
        guards=(personnel_cleared,),
        effects=("notify_reviewers",),
    ),
    T("return", VERIFICATION, RETURNED, COUNTY_AND_UP, requires_reason=True, effects=("notify_vendor",)),
    T("reject", VERIFICATION, REJECTED, COUNTY_AND_UP, requires_reason=True, effects=("notify_vendor",)),
    T("withdraw", VERIFICATION, WITHDRAWN, VENDOR, effects=("notify_reviewers",)),
)


def deciding(stage: str, roles: frozenset[str]) -> tuple[Transition, ...]:
    """The decision at the deciding stage, then the public notice."""
    return (
        T(
            "approve",
            stage,
            PUBLIC_NOTICE,
            roles,
            guards=DECISION_GUARDS,
            requires_reason=True,
            effects=("start_notice", "notify_vendor"),
        ),
        T("return", stage, RETURNED, roles, requires_reason=True, effects=("notify_vendor",)),
        T(
            "reject",
            stage,
            REJECTED,
            roles,
            guards=(different_reviewer,),
            requires_reason=True,
            effects=("notify_vendor",),
        ),
        T("withdraw", stage, WITHDRAWN, VENDOR, effects=("notify_reviewers",)),
    )


#: Public notice (公示): admitted when the period ends with no objection open.
NOTICE = (
    T(
        "conclude_notice",
        PUBLIC_NOTICE,
        APPROVED,
        SYSTEM,
        guards=(notice_period_over, no_open_objection),
        effects=("admit_to_whitelist", "notify_vendor"),
    ),
    T(
        "pause_for_objection",
        PUBLIC_NOTICE,
        OBJECTION_REVIEW,
        SYSTEM_OR_REVIEWER,
        guards=(has_open_objection,),
        effects=("pause_notice", "notify_vendor", "notify_reviewers"),
    ),
    T("withdraw", PUBLIC_NOTICE, WITHDRAWN, VENDOR, effects=("end_notice", "notify_reviewers")),
)


def objection_review(roles: frozenset[str], deciding_stage: str) -> tuple[Transition, ...]:
    """The deciding level settles every open objection; one upheld sends the
    application back to the deciding stage."""
    return (
        T(
            "dismiss_objection",
            OBJECTION_REVIEW,
            PUBLIC_NOTICE,
            roles,
            guards=(different_reviewer,),
            requires_reason=True,
            effects=("resume_notice", "notify_vendor", "notify_objector"),
        ),
        T(
            "uphold_objection",
            OBJECTION_REVIEW,
            deciding_stage,
            roles,
            requires_reason=True,
            effects=("end_notice", "notify_vendor", "notify_objector"),
        ),
        T(
            "reject",
            OBJECTION_REVIEW,
            REJECTED,
            roles,
            guards=(different_reviewer,),
            requires_reason=True,
            effects=("end_notice", "notify_vendor", "notify_objector"),
        ),
        T(
            "withdraw",
            OBJECTION_REVIEW,
            WITHDRAWN,
            VENDOR,
            effects=("end_notice", "notify_reviewers", "notify_objector"),
        ),
    )


#: Returned to the vendor with the list of required changes (the reason).
RETURNED_ROWS = (
    T(
        "resubmit",
        RETURNED,
        SUBMITTED,
        VENDOR,
        guards=(documents_complete,),
        effects=("snapshot_application", "notify_reviewers"),
    ),
    T("withdraw", RETURNED, WITHDRAWN, VENDOR),
)


ENTRY_REVIEW = Workflow(
    name="entry_review",
    states=tuple(EntryState),
    initial=DRAFT,
    final_states=FINAL_STATES,
    roles=tuple(RoleTag),
    known_guards=GUARDS,
    state_labels=STATE_LABELS,
    action_labels=ACTION_LABELS,
    transitions=(
        *INTAKE,
        *VERIFICATION_BEFORE_FINAL_REVIEW,
        *deciding(FINAL_REVIEW, CITY_AND_UP),
        *NOTICE,
        *objection_review(CITY_AND_UP, FINAL_REVIEW),
        *RETURNED_ROWS,
    ),
)

#: The same review where the county decides: verification is the deciding stage, and
#: there is no final review.
ENTRY_REVIEW_COUNTY_ONLY = Workflow(
    name="entry_review_county_only",
    states=tuple(s for s in EntryState if s is not FINAL_REVIEW),
    initial=DRAFT,
    final_states=FINAL_STATES,
    roles=tuple(RoleTag),
    known_guards=GUARDS,
    state_labels={s: label for s, label in STATE_LABELS.items() if s is not FINAL_REVIEW},
    action_labels={a: label for a, label in ACTION_LABELS.items() if a is not EntryAction.PASS_VERIFICATION},
    transitions=(
        *INTAKE,
        *deciding(VERIFICATION, COUNTY_AND_UP),
        *NOTICE,
        *objection_review(COUNTY_AND_UP, VERIFICATION),
        *RETURNED_ROWS,
    ),
)


def entry_review_for(city_review_required: bool) -> Workflow:
    """The table for a region, from its ``city_review_required`` setting."""
    return ENTRY_REVIEW if city_review_required else ENTRY_REVIEW_COUNTY_ONLY
