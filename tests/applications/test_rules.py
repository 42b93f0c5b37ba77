"""The pure rules between accounts and the workflow tables (no database)."""

from __future__ import annotations

import uuid

import pytest

from service.applications.effects import EFFECTS
from service.applications.rules import (
    DIRECT_ACTIONS,
    GUARD_ERRORS,
    WORKFLOWS,
    can_see,
    parse_version,
    role_tags,
)
from service.errors import InvalidInput
from service.security.actor import Actor, Role
from workflows import GUARDS

CODE = "91360104MA38XK3Q60"


def actor(role: Role, **scope) -> Actor:
    return Actor(account_id=uuid.uuid4(), role=role, **scope)


@pytest.mark.parametrize(
    ("who", "tags"),
    [
        (actor(Role.VENDOR, vendor_credit_code=CODE), {"vendor"}),
        (actor(Role.VENDOR, vendor_credit_code="91360104MA38XK2Q1X"), set()),
        (actor(Role.REVIEWER, region_code="360104"), {"county_reviewer"}),
        (actor(Role.REVIEWER, region_code="360100"), {"city_reviewer"}),
        (actor(Role.REVIEWER, region_code="360000"), {"province_reviewer"}),
        (actor(Role.REVIEWER, region_code="360102"), set()),  # a sibling county
        (actor(Role.REVIEWER, region_code="360400"), set()),  # another city
        (actor(Role.ADMIN), {"admin"}),
        (actor(Role.AUDITOR, region_code="360000"), set()),
        (actor(Role.SCHOOL, region_code="360104"), set()),
    ],
)
def test_role_tags_for_an_application_in_a_county(who: Actor, tags: set[str]) -> None:
    assert role_tags(who, "360104", CODE) == tags


def test_a_reviewer_of_the_city_itself_is_a_city_reviewer_there() -> None:
    assert role_tags(actor(Role.REVIEWER, region_code="360100"), "360100", CODE) == {"city_reviewer"}
    assert role_tags(actor(Role.REVIEWER, region_code="360104"), "360100", CODE) == set()


def test_visibility() -> None:
    vendor = actor(Role.VENDOR, vendor_credit_code=CODE)
    assert can_see(vendor, region_code="360104", vendor_credit_code=CODE, submitted=False)
    reviewer = actor(Role.REVIEWER, region_code="360100")
    assert not can_see(reviewer, region_code="360104", vendor_credit_code=CODE, submitted=False)
    assert can_see(reviewer, region_code="360104", vendor_credit_code=CODE, submitted=True)
    school = actor(Role.SCHOOL, region_code="360104")
    assert not can_see(school, region_code="360104", vendor_credit_code=CODE, submitted=True)


@pytest.mark.parametrize(
    ("body", "header", "expected"),
    [(3, None, 3), (None, "3", 3), (None, '"3"', 3), (None, 'W/"3"', 3), (3, '"3"', 3), (None, None, None)],
)
def test_parse_version(body, header, expected) -> None:
    assert parse_version(body, header) == expected


@pytest.mark.parametrize(
    ("body", "header", "code"),
    [(3, "4", "version_mismatch"), (None, "*", "invalid_if_match"), (None, "abc", "invalid_if_match")],
)
def test_parse_version_refuses(body, header, code) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        parse_version(body, header)
    assert excinfo.value.code == code


def test_the_service_handles_every_effect_and_guard_the_tables_name() -> None:
    for workflow in WORKFLOWS.values():
        assert set(workflow.effects) <= set(EFFECTS), workflow.name
        assert {guard.name for guard in workflow.guards} <= set(GUARD_ERRORS), workflow.name
    # Guards of other domains' tables (the timetable's) are mapped by their own services.
    assert set(GUARD_ERRORS) <= set(GUARDS)


def test_the_transition_endpoint_takes_the_issue_vocabulary() -> None:
    assert {
        "submit",
        "accept",
        "pass_preliminary",
        "pass_verification",
        "approve",
        "return",
        "resubmit",
        "reject",
        "withdraw",
    } == set(DIRECT_ACTIONS)
