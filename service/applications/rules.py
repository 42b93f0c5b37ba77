"""The pure rules between the Actor and the workflow tables: role tags, visibility,
which actions go through which door, and how an engine refusal becomes an API error.
No I/O here."""

from __future__ import annotations

from datetime import datetime

from service.errors import Conflict, DomainError, Forbidden, InvalidInput
from service.security import Actor, Role
from workflows import (
    GUARD_FAILED,
    REASON_REQUIRED,
    TRANSITION_NOT_ALLOWED,
    Decision,
    Workflow,
    allowed_actions,
)
from workflows.entry_review import (
    ENTRY_REVIEW,
    ENTRY_REVIEW_COUNTY_ONLY,
    EntryAction,
    EntryState,
    entry_review_for,
)
from workflows.roles import RoleTag

WORKFLOWS: dict[str, Workflow] = {wf.name: wf for wf in (ENTRY_REVIEW, ENTRY_REVIEW_COUNTY_ONLY)}
EDITABLE_STAGES = frozenset({EntryState.DRAFT, EntryState.RETURNED})
NOTICE_STAGES = frozenset({EntryState.PUBLIC_NOTICE, EntryState.OBJECTION_REVIEW})
APPLICATION_LEVELS = ("county", "city")
#: The longest reason kept with a decision or an objection.
REASON_LIMIT = 2000

#: Actions taken through their own endpoints rather than POST .../transitions.
OBJECTION_ACTIONS = frozenset(
    {EntryAction.PAUSE_FOR_OBJECTION, EntryAction.DISMISS_OBJECTION, EntryAction.UPHOLD_OBJECTION}
)
SYSTEM_ACTIONS = frozenset({EntryAction.CONCLUDE_NOTICE})
ALL_ACTIONS = frozenset(a for wf in WORKFLOWS.values() for a in wf.actions)
DIRECT_ACTIONS = ALL_ACTIONS - OBJECTION_ACTIONS - SYSTEM_ACTIONS

REVIEWER_TAGS = {
    "county": RoleTag.COUNTY_REVIEWER,
    "city": RoleTag.CITY_REVIEWER,
    "province": RoleTag.PROVINCE_REVIEWER,
}

#: Engine guard failures → (HTTP error class, code).
GUARD_ERRORS: dict[str, tuple[type[DomainError], str]] = {
    "different_reviewer": (Forbidden, "four_eyes_violation"),
    "documents_complete": (Conflict, "documents_incomplete"),
    "personnel_cleared": (Conflict, "personnel_not_cleared"),
    "notice_period_over": (Conflict, "notice_not_over"),
    "no_open_objection": (Conflict, "open_objection"),
    "has_open_objection": (Conflict, "no_open_objection"),
}


def application_number(region_code: str, year: int, seq: int) -> str:
    """`赣白申〔2026〕360104-0017`: the province, 白名单, 申请; the China year of creation;
    the region's code (short names repeat: 南昌市 and 南昌县 are both 南昌) and the
    application's place in that region's year, four digits or more. Migration 0030
    wrote the same for the rows made before it."""
    return f"赣白申〔{year}〕{region_code}-{seq:04d}"


def notice_due(stage: str, notice_ends_at: datetime | None, now: datetime) -> bool:
    """A public notice whose period is over at `now`: it ends with admission (conclude)."""
    return stage == EntryState.PUBLIC_NOTICE and notice_ends_at is not None and notice_ends_at <= now


def notice_running_sql(alias: str) -> str:
    """SQL: application `alias` is in a running public notice (paused ones are in
    objection review); it is due once `notice_due_sql` holds, at its `notice_ends_at`."""
    return f"({alias}.stage = '{EntryState.PUBLIC_NOTICE.value}' AND {alias}.notice_ends_at IS NOT NULL)"


def notice_due_sql(alias: str, now: str) -> str:
    """SQL of `notice_due` for application `alias` at instant `now` (an SQL expression)."""
    return f"({notice_running_sql(alias)} AND {alias}.notice_ends_at <= {now})"


def workflow_for(city_review_required: bool) -> str:
    return entry_review_for(city_review_required).name


def role_tags(actor: Actor, region_code: str, vendor_credit_code: str) -> frozenset[str]:
    """The workflow role tags of an actor for one application.

    - the vendor's own accounts: ``vendor`` (and never a reviewer tag);
    - a reviewer whose region contains the application's region: the tag of the
      reviewer region's level (``county_reviewer``, ``city_reviewer``, ``province_reviewer``);
    - an administrator: ``admin`` (the tables give it no decisions);
    - anyone else: no tag.
    The service's own automatic steps use ``system`` directly.
    """
    if actor.role is Role.VENDOR:
        return frozenset({RoleTag.VENDOR}) if actor.vendor_credit_code == vendor_credit_code else frozenset()
    if actor.role is Role.REVIEWER and actor.covers_region(region_code):
        tag = REVIEWER_TAGS.get(actor.region_level or "")
        return frozenset({tag}) if tag else frozenset()
    if actor.role is Role.ADMIN:
        return frozenset({RoleTag.ADMIN})
    return frozenset()


def table_actions_for(actor: Actor, workflow: str, stage: str, region_code: str, vendor_credit_code: str) -> list[str]:
    """The actions the workflow table gives this actor at an application's stage, before
    any guard (a list's 办理 or 查看: is this one waiting for me, or for another level?)."""
    table = WORKFLOWS.get(workflow)
    if table is None:  # a draft has no table yet
        return []
    tags = role_tags(actor, region_code, vendor_credit_code)
    return [a for a in allowed_actions(table, stage, tags) if a not in SYSTEM_ACTIONS]


def can_see(actor: Actor, *, region_code: str, vendor_credit_code: str, submitted: bool) -> bool:
    """The vendor sees its own applications, drafts included; reviewers, auditors and
    admins see applications in their region once they have been submitted."""
    if actor.role is Role.VENDOR:
        return actor.vendor_credit_code == vendor_credit_code
    if actor.role in (Role.REVIEWER, Role.AUDITOR, Role.ADMIN):
        return submitted and actor.covers_region(region_code)
    return False


def is_review_action(workflow: Workflow, action: str) -> bool:
    """True when no row of `action` lets the vendor take it (a reviewer's decision)."""
    rows = [t for t in workflow.transitions if t.action == action]
    return bool(rows) and all(RoleTag.VENDOR not in t.roles for t in rows)


def parse_version(body_version: int | None, if_match: str | None) -> int | None:
    """The version the request is based on, from the body or `If-Match` (N, "N" or W/"N")."""
    header_version = None
    if if_match is not None:
        raw = if_match.strip()
        raw = raw[2:] if raw.startswith("W/") else raw
        raw = raw.strip('"')
        if not raw.isdigit():
            raise InvalidInput.field("If-Match", "invalid_if_match", "If-Match 须为申请的版本号，例如 3")
        header_version = int(raw)
    if body_version is not None and header_version is not None and body_version != header_version:
        raise InvalidInput.field("version", "version_mismatch", "请求体中的 version 与 If-Match 不一致")
    return body_version if body_version is not None else header_version


def refusal(
    decision: Decision,
    workflow: Workflow,
    stage: str,
    action: str,
    actor: Actor,
    allowed: list[str],
    details: dict | None = None,
) -> DomainError:
    """The API error for a refused decision."""
    if decision.code == TRANSITION_NOT_ALLOWED:
        if actor.role is Role.VENDOR and is_review_action(workflow, action):
            return Forbidden("机构账号不能参与审核", code="vendor_cannot_review")
        return Conflict(
            decision.message,
            code="transition_not_allowed",
            details=[
                {
                    "field": "action",
                    "code": "transition_not_allowed",
                    "message": decision.message,
                    "stage": stage,
                    "allowed_actions": allowed,
                }
            ],
        )
    if decision.code == REASON_REQUIRED:
        return InvalidInput.field("reason", "reason_required", decision.message or "")
    if decision.code == GUARD_FAILED:
        error_class, code = GUARD_ERRORS.get(decision.failed_guard or "", (Conflict, "guard_failed"))
        detail = {"field": "action", "code": code, "message": decision.message, "guard": decision.failed_guard}
        return error_class(decision.message, code=code, details=[detail | (details or {})])
    return Conflict(decision.message or "不能执行该操作", code=decision.code or "transition_not_allowed")
