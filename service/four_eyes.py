"""The service side of the four-eyes flows that run on the workflow engine (whitelist
action requests and bar lifts, `workflows.four_eyes`): the role tags of the actor on a
pending request, and the facts the one four-eyes guard (`different_reviewer`) reads."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from service.errors import Forbidden
from service.security import Actor, Role
from workflows.roles import RoleTag

LEVEL_TAGS = {"county": RoleTag.COUNTY_REVIEWER, "city": RoleTag.CITY_REVIEWER, "province": RoleTag.PROVINCE_REVIEWER}


def request_tags(actor: Actor, requested_by: UUID | None) -> frozenset[str]:
    """A reviewer's level tag, and ``requester`` for whoever made the request."""
    tags: set[str] = set()
    level = actor.region_level
    if actor.role is Role.REVIEWER and level in LEVEL_TAGS:
        tags.add(LEVEL_TAGS[level])
    if requested_by is not None and requested_by == actor.account_id:
        tags.add(RoleTag.REQUESTER)
    return frozenset(tags)


def request_facts(actor: Actor, requested_by: UUID | None, reason: str | None) -> dict[str, Any]:
    """The requester is the first pair of eyes (`different_reviewer` reads it under
    the name it has in entry review)."""
    return {"preliminary_reviewer_id": requested_by, "actor_id": actor.account_id, "reason": reason}


def requester_id(actor: Actor) -> UUID:
    """Who opens a request: a person's account, never the service itself (the second
    pair of eyes must be able to tell the requester apart)."""
    if actor.account_id is None:
        raise Forbidden("申请须由审核人员本人提出", code="account_required")
    return actor.account_id
