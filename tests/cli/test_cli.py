"""The `schoolgate` command, run as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import func, select

from service.accounts.services import authenticate
from service.service_items.models import ServiceItem
from service.vendors.models import Vendor

SCHOOLGATE = str(Path(sys.executable).with_name("schoolgate"))


def run(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "SCHOOLGATE_LOG_FORMAT": "json", **(env or {})}
    return subprocess.run([SCHOOLGATE, *args], capture_output=True, text=True, env=full_env, timeout=timeout)


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["serve"],
        ["db"],
        ["db", "upgrade"],
        ["accounts"],
        ["accounts", "create"],
        ["accounts", "revoke"],
        ["accounts", "set-password"],
        ["accounts", "disable"],
        ["demo"],
    ],
)
def test_help_for_every_command(args):
    result = run(*args, "--help")
    assert result.returncode == 0, result.stderr
    assert "usage: schoolgate" in result.stdout


async def test_accounts_create_prints_the_token_last(database_url, db, tmp_path):
    env = {"SCHOOLGATE_DATABASE_URL": database_url, "SCHOOLGATE_DATA_DIR": str(tmp_path)}
    result = run(
        "accounts",
        "create",
        "--role",
        "school",
        "--name",
        "实验小学门卫",
        "--region",
        "360104",
        "--school",
        "2136010499",
        "--school-name",
        "青云谱区实验小学",
        env=env,
    )
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip().splitlines()[-1]
    actor = await authenticate(db, token)
    assert actor is not None and actor.role == "school" and actor.region_code == "360104"
    assert token not in result.stderr


async def test_accounts_create_rejects_bad_scope(database_url, tmp_path):
    env = {"SCHOOLGATE_DATABASE_URL": database_url, "SCHOOLGATE_DATA_DIR": str(tmp_path)}
    result = run("accounts", "create", "--role", "reviewer", "--name", "x", "--region", "999999", env=env)
    assert result.returncode == 2
    assert "unknown_region" in result.stderr
    bad_vendor = run("accounts", "create", "--role", "vendor", "--name", "x", "--vendor", "123", env=env)
    assert bad_vendor.returncode == 2
    assert "invalid_credit_code" in bad_vendor.stderr


async def test_demo_loads_once_and_prints_working_tokens(database_url, db, tmp_path):
    env = {"SCHOOLGATE_DATABASE_URL": database_url, "SCHOOLGATE_DATA_DIR": str(tmp_path)}
    first = run("demo", env=env)
    assert first.returncode == 0, first.stderr
    second = run("demo", env=env)
    assert second.returncode == 0, second.stderr
    async with db.transaction() as session:
        assert (await session.exec(select(func.count()).select_from(Vendor))).one() == 5
        assert (await session.exec(select(func.count()).select_from(ServiceItem))).one() == 7
    tokens = [line.split()[-1] for line in second.stdout.splitlines() if line.strip().split()[-1].startswith("sg_")]
    assert len(tokens) == 11
    for token in tokens:
        assert await authenticate(db, token) is not None
    await _the_demo_shows_the_loop(db)


async def _the_demo_shows_the_loop(db):
    """A current term, orders in each standing, a published timetable, and the open
    complaint behind the blocked order on the county's dashboard (loaded once)."""
    from service.demo_loop import _actor
    from service.orders import list_school_orders
    from service.orders.terms import list_terms
    from service.security.actor import Actor
    from service.timetables.services import public_timetable

    [term] = await list_terms(db, Actor.system(), "360104")
    orders = await list_school_orders(db, Actor.system(), "2136010401", term_id=term.id)
    assert sorted(v.standing.standing for v in orders) == ["at_risk", "blocked", "in_force"]
    published = await public_timetable(db, "2136010401", term.id)
    assert published.published["numbers"]["conforms"] is True
    from service.supervision.dashboard import region_dashboard

    board = await region_dashboard(db, await _actor(db, "qingyunpu"), "360104")
    assert [(code, c.category, c.state) for code, c in board.open_complaints] == [
        ("2136010401", "fee_overcharge", "received")
    ]
    assert board.complaints_by_age()["within_7_days"] == 1


def run_input(*args: str, stdin: str, env: dict) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "SCHOOLGATE_LOG_FORMAT": "json", **env}
    return subprocess.run([SCHOOLGATE, *args], capture_output=True, text=True, env=full_env, timeout=120, input=stdin)


async def test_accounts_login_set_password_and_disable(database_url, db, tmp_path):
    from service.accounts import SignInPolicy, Throttle, sign_in
    from service.errors import Unauthenticated

    env = {"SCHOOLGATE_DATABASE_URL": database_url, "SCHOOLGATE_DATA_DIR": str(tmp_path)}
    created = run(
        "accounts",
        "create",
        "--role",
        "reviewer",
        "--name",
        "青云谱区 王审核",
        "--region",
        "360104",
        "--login",
        "wang.sh",
        env=env,
    )
    assert created.returncode == 0, created.stderr
    initial = next(line for line in created.stdout.splitlines() if line.startswith("login wang.sh"))
    password = initial.split("initial password ")[1].split()[0]
    throttle = Throttle(b"k" * 32, SignInPolicy(delay_seconds=0))
    first = await sign_in(db, throttle, "wang.sh", password, "127.0.0.1")
    assert first.must_change_password  # an initial password must be changed

    reset = run_input("accounts", "set-password", "wang.sh", stdin="a-brand-new-secret\n", env=env)
    assert reset.returncode == 0, reset.stderr
    again = await sign_in(db, throttle, "wang.sh", "a-brand-new-secret", "127.0.0.1")
    assert again.must_change_password
    weak = run_input("accounts", "set-password", "wang.sh", stdin="short\n", env=env)
    assert weak.returncode == 2 and "weak_password" in weak.stderr

    disabled = run("accounts", "disable", "wang.sh", env=env)
    assert disabled.returncode == 0, disabled.stderr
    with pytest.raises(Unauthenticated):
        await sign_in(db, throttle, "wang.sh", "a-brand-new-secret", "127.0.0.1")
    unknown = run("accounts", "disable", "nobody.here", env=env)
    assert unknown.returncode == 2 and "account_not_found" in unknown.stderr


async def test_demo_prints_a_login_and_password_per_role(database_url, db, tmp_path):
    from service.accounts import SignInPolicy, Throttle, sign_in

    env = {"SCHOOLGATE_DATABASE_URL": database_url, "SCHOOLGATE_DATA_DIR": str(tmp_path)}
    result = run("demo", env=env)
    assert result.returncode == 0, result.stderr
    logins = [line.split("login ")[1].split() for line in result.stdout.splitlines() if " login " in line]
    assert len(logins) == 11
    throttle = Throttle(b"k" * 32, SignInPolicy(delay_seconds=0))
    for login, _, password in logins:
        signed = await sign_in(db, throttle, login, password, "127.0.0.1")
        assert not signed.must_change_password
    await _each_role_has_something_to_do(db)


async def _each_role_has_something_to_do(db):
    """An application waiting in each review stage (the county's three, the city's final
    review), one in its public notice, the school's past vendor and person checks, a
    suspended item and a person whose check ends soon."""
    from service.applications import count_waiting_for, public_notices
    from service.applications.deadlines import REVIEW_STAGES
    from service.applications.queries import list_applications
    from service.demo_loop import _actor
    from service.lookup.records import own_lookups
    from service.personnel import vendor_roster
    from service.timeutil import today_in_china
    from service.whitelist.models import WhitelistEntryStatus

    county, city = await _actor(db, "qingyunpu"), await _actor(db, "nanchang")
    queue = await list_applications(db, county, stages=REVIEW_STAGES, with_total=True)
    assert {row.application.stage for row in queue.items} == {
        "submitted",
        "preliminary_review",
        "verification",
        "final_review",
    }
    assert await count_waiting_for(db, county, stages=REVIEW_STAGES) == 3  # the final review is the city's
    assert await count_waiting_for(db, city, stages=REVIEW_STAGES) >= 1
    notices = (await public_notices(db)).items
    assert [(n.vendor.name, [i.activity for i in n.items]) for n in notices] == [
        ("南昌启明星科技教育服务有限公司", ["无人机编程与航拍"])
    ]
    checks = await own_lookups(db, await _actor(db, "school"))
    assert sorted((c.kind, c.result) for c in checks) == [
        ("person", "cleared"),
        ("person", "cleared"),
        ("vendor", "active"),
        ("vendor", "not_listed"),
    ]
    async with db.transaction() as session:
        current = select(WhitelistEntryStatus.status).where(WhitelistEntryStatus.valid_to == None)  # noqa: E711
        assert "suspended" in set((await session.exec(current)).all())
        admitted = (await session.exec(select(Vendor.id).where(Vendor.name == "南昌启明星科技教育服务有限公司"))).one()
    roster = await vendor_roster(db, county, admitted)
    ends = [e.clearance.cleared_until for e in roster if e.clearance.expiring()]
    assert ends and all(0 < (end - today_in_china()).days <= 30 for end in ends if end)
