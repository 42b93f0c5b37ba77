"""Console tests over HTTP: a signed-in client per role, with the CSRF token of the page."""

from __future__ import annotations

import itertools
import re
import uuid

import httpx
import pytest

from service.accounts import set_password
from service.accounts.services import create_account
from service.config import Settings
from service.security.actor import Actor

PASSWORD = "correct-horse-battery"
CSRF_FIELD = re.compile(r'name="_csrf_token" value="([^"]+)"')
_logins = itertools.count(1)


@pytest.fixture
def settings(tmp_path) -> Settings:
    # Failed sign-ins slow down by a hundredth of a second here, not half a second.
    return Settings(database_url=None, data_dir=tmp_path / "data", log_format="json", sign_in_delay_seconds=0.01)


def csrf_of(html: str) -> str:
    found = CSRF_FIELD.search(html)
    assert found, "the page has no CSRF field"
    return found.group(1)


class Browser:
    """An httpx client that keeps cookies and posts forms with the page's CSRF token."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.token: str | None = None

    async def get(self, path: str, **kwargs) -> httpx.Response:
        response = await self.http.get(path, **kwargs)
        found = CSRF_FIELD.search(response.text)
        if found:
            self.token = found.group(1)
        return response

    async def post(self, path: str, data: dict | None = None, **kwargs) -> httpx.Response:
        if self.token is None:
            await self.get("/")
        return await self.http.post(path, data={"_csrf_token": self.token, **(data or {})}, **kwargs)

    async def sign_in(self, login: str, password: str = PASSWORD) -> httpx.Response:
        await self.get("/")
        return await self.post("/login", {"login": login, "password": password})


@pytest.fixture
def new_browser(app):
    clients = []

    def make(base_url: str = "http://testserver") -> Browser:
        http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=(f"10.0.0.{len(clients) + 1}", 5000)), base_url=base_url
        )
        clients.append(http)
        return Browser(http)

    yield make


@pytest.fixture
async def people(db):
    """Makes accounts with a console login and a password that needs no change."""

    async def make(role: str, **scope) -> str:
        login = f"user{next(_logins)}{uuid.uuid4().hex[:4]}"
        scope.setdefault("name", f"测试{role}{login}")
        await create_account(db, Actor.system(), role=role, login=login, password="initial-password-1", **scope)
        await set_password(db, Actor.system(), login, PASSWORD, must_change=False)
        return login

    return make


@pytest.fixture
async def signed_in(people, new_browser):
    async def make(role: str, **scope) -> Browser:
        browser = new_browser()
        login = await people(role, **scope)
        response = await browser.sign_in(login)
        assert response.status_code == 303, response.text
        browser.login = login
        return browser

    return make
