"""Sign-in through the console's forms: passwords, sessions, cookies, CSRF, lockout."""

from __future__ import annotations

import json

from sqlalchemy import text

from service.accounts import account_id_by_login, set_disabled
from service.accounts.services import create_account
from service.security.actor import Actor
from tests.console.conftest import PASSWORD


async def test_sign_in_page_then_home_shows_who_is_signed_in(new_browser, people):
    login = await people("reviewer", name="青云谱区教育局 张敏", region_code="360104")
    browser = new_browser()
    page = await browser.get("/")
    assert page.status_code == 200 and 'name="login"' in page.text and 'name="password"' in page.text
    response = await browser.sign_in(login)
    assert response.status_code == 303 and response.headers["location"] == "/"
    home = await browser.get("/", follow_redirects=True)
    assert home.status_code == 200
    assert "青云谱区教育局 张敏" in home.text and "县级审核员" in home.text and "青云谱区" in home.text
    assert "退出" in home.text


async def test_session_cookie_flags(new_browser, people):
    login = await people("school", region_code="360104", school_code="2136010499")
    browser = new_browser()
    response = await browser.sign_in(login)
    cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and v.startswith("sg_session="))
    flags = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in flags and "samesite=lax" in flags and "secure" not in flags
    https = new_browser("https://testserver")
    response = await https.sign_in(login)
    cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and v.startswith("sg_session="))
    assert "secure" in [part.strip().lower() for part in cookie.split(";")]


async def test_wrong_password_and_unknown_login_answer_alike(new_browser, people):
    login = await people("auditor", region_code="360100")
    browser = new_browser()
    wrong = await browser.sign_in(login, "not-the-password")
    unknown = await browser.sign_in("nobody-here", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert "登录名或密码错误" in wrong.text and "登录名或密码错误" in unknown.text
    assert "sg_session=" not in wrong.headers.get("set-cookie", "")


async def test_lockout_after_repeated_failures_even_with_the_right_password(new_browser, people, db):
    login = await people("reviewer", region_code="360104")
    browser = new_browser()
    answers = [(await browser.sign_in(login, f"wrong-password-{n}")).status_code for n in range(5)]
    assert answers == [401, 401, 401, 401, 429]
    locked = await browser.sign_in(login, PASSWORD)
    assert locked.status_code == 429 and "锁定" in locked.text
    # Another address is refused too: the lock is on the account.
    elsewhere = await new_browser().sign_in(login, PASSWORD)
    assert elsewhere.status_code == 429
    async with db.transaction() as session:
        keys = (await session.exec(text("SELECT key FROM sign_in_throttle"))).scalars().all()
    assert keys and all(login not in key and "10.0.0" not in key for key in keys)  # keyed hashes only


async def test_lockout_per_address_across_many_logins(new_browser, people):
    browser = new_browser()
    answers = [(await browser.sign_in(f"someone{n}", "wrong-password-x")).status_code for n in range(20)]
    assert answers[-1] == 429 and set(answers[:-1]) == {401}
    login = await people("auditor", region_code="360100")
    assert (await browser.sign_in(login, PASSWORD)).status_code == 429
    assert (await new_browser().sign_in(login, PASSWORD)).status_code == 303


async def test_csrf_refused_without_the_token(new_browser, people):
    login = await people("auditor", region_code="360100")
    browser = new_browser()
    await browser.get("/")
    refused = await browser.http.post("/login", data={"login": login, "password": PASSWORD})
    assert refused.status_code == 403
    forged = await browser.http.post("/login", data={"login": login, "password": PASSWORD, "_csrf_token": "x.y"})
    assert forged.status_code == 403
    signed = await browser.sign_in(login)
    assert signed.status_code == 303
    no_token = await browser.http.post("/logout")
    assert no_token.status_code == 403


async def test_api_bearer_tokens_are_unchanged_by_the_csrf_check(client, accounts):
    headers = await accounts.headers("reviewer", region_code="360100")
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
    response = await client.delete("/api/v1/tokens/current", headers=headers)
    assert response.status_code == 204


async def test_signed_out_user_is_redirected_to_sign_in(new_browser, signed_in):
    anonymous = new_browser()
    response = await anonymous.get("/reviewer")
    assert response.status_code == 303 and response.headers["location"] == "/?next=/reviewer"
    browser = await signed_in("reviewer", region_code="360104")
    assert (await browser.get("/reviewer")).status_code == 200
    assert (await browser.post("/logout")).status_code == 303
    again = await browser.get("/reviewer")
    assert again.status_code == 303


async def test_initial_password_must_be_changed_at_first_sign_in(new_browser, db):
    await create_account(
        db,
        Actor.system(),
        role="reviewer",
        name="南昌市教育局 李老师",
        region_code="360100",
        login="li.dx",
        password="first-password-1",
    )
    browser = new_browser()
    response = await browser.sign_in("li.dx", "first-password-1")
    assert response.status_code == 303 and response.headers["location"] == "/account/password"
    assert (await browser.get("/reviewer")).headers["location"] == "/account/password"
    page = await browser.get("/account/password")
    assert "首次登录" in page.text
    weak = await browser.post(
        "/account/password",
        {"current_password": "first-password-1", "new_password": "short", "confirm_password": "short"},
    )
    assert weak.status_code == 422 and "密码长度" in weak.text
    done = await browser.post(
        "/account/password",
        {
            "current_password": "first-password-1",
            "new_password": "a-new-pass-phrase",
            "confirm_password": "a-new-pass-phrase",
        },
    )
    assert done.status_code == 303
    assert (await browser.get("/reviewer")).status_code == 200
    assert (await new_browser().sign_in("li.dx", "first-password-1")).status_code == 401
    assert (await new_browser().sign_in("li.dx", "a-new-pass-phrase")).status_code == 303
    async with db.transaction() as session:
        canonical = (
            await session.exec(text("SELECT canonical FROM audit_events WHERE action = 'accounts:password:change'"))
        ).one()[0]
    # The trail says the change lifted the first-sign-in requirement.
    assert json.loads(canonical)["changes"] == {"must_change_password": {"before": True, "after": False}}


async def test_disabled_account_is_signed_out_and_its_tokens_refused(new_browser, signed_in, db, client):
    browser = await signed_in("reviewer", region_code="360104")
    account_id = await account_id_by_login(db, browser.login)
    await set_disabled(db, Actor.system(), account_id, True)
    assert (await browser.get("/reviewer")).status_code == 303
    assert (await new_browser().sign_in(browser.login)).status_code == 401


async def test_sessions_live_in_postgresql(signed_in, app, db, settings):
    """A new app process (same database) still knows the session."""
    import httpx

    from service.app import create_app

    browser = await signed_in("reviewer", region_code="360100")
    cookie = browser.http.cookies.get("sg_session")
    other = create_app(settings, db=db)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=other), base_url="http://testserver", cookies={"sg_session": cookie}
    ) as http:
        assert (await http.get("/reviewer")).status_code == 200


async def test_admin_resets_a_password_and_disables_an_account(signed_in, new_browser, people):
    import re

    admin = await signed_in("admin")
    login = await people("reviewer", region_code="360104")
    page = await admin.get("/admin/accounts")
    assert page.status_code == 200 and login in page.text
    account_id = re.search(
        r'action="/admin/accounts/([^/]+)/reset"[^>]*>.{0,600}?name="login" value="' + login, page.text, re.S
    )
    account_id = account_id.group(1)
    reset = await admin.post(f"/admin/accounts/{account_id}/reset", {"login": login})
    temporary = re.search(r"一次性密码：(\S+?)（", reset.text).group(1)
    assert (await new_browser().sign_in(login, PASSWORD)).status_code == 401
    fresh = await new_browser().sign_in(login, temporary)
    assert fresh.status_code == 303 and fresh.headers["location"] == "/account/password"
    await admin.post(f"/admin/accounts/{account_id}/disable", {})
    assert (await new_browser().sign_in(login, temporary)).status_code == 401
    reviewer = await signed_in("reviewer", region_code="360104")
    assert (await reviewer.get("/admin/accounts")).status_code == 404
