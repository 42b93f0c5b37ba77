"""Browser tests: the service on a real port (uvicorn in a thread), driven by Debian's
Chromium through Playwright (async API, on the tests' loop). Every page a journey opens
is saved as a screenshot under test-artifacts/screenshots, and each journey checks that
no request left the service's origin and that the browser console stayed clean."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn

from service.app import create_app
from service.config import Settings

CHROMIUM = os.environ.get("SCHOOLGATE_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "screenshots"

NO_CHROMIUM = not shutil.which(CHROMIUM)
# .ci/run sets this: there a missing browser is a broken install, and must fail, not skip.
BROWSER_REQUIRED = os.environ.get("SCHOOLGATE_REQUIRE_BROWSER") == "1"
HERE = Path(__file__).resolve().parent


def _has_chinese_font() -> bool:
    """The pages name the system's CJK fonts (bureau PCs and phones have them); without
    one, Chromium draws every Chinese character of a screenshot as a box."""
    found = subprocess.run(["fc-list", ":lang=zh-cn", "family"], capture_output=True, text=True, check=False)
    return bool(found.stdout.strip())


def pytest_collection_modifyitems(config, items):
    """One rule for every browser test: without Chromium they are skipped where a
    developer runs the suite, and fail the run where CI requires the browser."""
    if not NO_CHROMIUM:
        if BROWSER_REQUIRED and not _has_chinese_font():
            raise pytest.UsageError("SCHOOLGATE_REQUIRE_BROWSER=1 but no Chinese font: install fonts-noto-cjk")
        return
    if BROWSER_REQUIRED:
        raise pytest.UsageError(f"SCHOOLGATE_REQUIRE_BROWSER=1 but {CHROMIUM} is missing: install Debian's chromium")
    skip = pytest.mark.skip(reason="Chromium is not installed (.ci/run installs it)")
    for item in items:
        if HERE in Path(item.fspath).resolve().parents:
            item.add_marker(skip)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def live_settings() -> dict:
    """Extra settings of the live server; a journey module overrides this fixture."""
    return {}


@pytest.fixture
def live_server(database_url, tmp_path, live_settings):
    """The app on 127.0.0.1:<free port>, owning its own engine (its own loop)."""
    settings = Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        log_format="json",
        sign_in_delay_seconds=0.01,
        **live_settings,
    )
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)


@pytest.fixture
async def api(live_server):
    """The API of the live server, for setting a journey up (bearer tokens)."""
    async with httpx.AsyncClient(base_url=live_server, timeout=60) as http:
        yield http


@pytest.fixture(scope="session")
async def chromium():
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--lang=zh-CN"],
            env={**os.environ, "LANGUAGE": "zh_CN"},  # native controls (date, file) in Chinese
        )
        yield browser
        await browser.close()


class Watched:
    """A page with the journey's checks: requests stay on the origin, no console errors."""

    def __init__(self, page, origin: str) -> None:
        self.page, self.origin = page, origin
        self.foreign: list[str] = []
        self.errors: list[str] = []
        self.refusals: set[int] = set()
        page.on(
            "request",
            lambda request: None if request.url.startswith((origin, "data:")) else self.foreign.append(request.url),
        )
        page.on("console", lambda message: self.errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    async def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        # A full-page capture would paint the sticky action bar over the middle of the page.
        # The style goes through the screenshot, not `add_style_tag`: that one waits for the
        # <style>'s load event, which never fires with JavaScript off, and hung the capture.
        await self.page.screenshot(
            path=str(ARTIFACTS / f"{name}.png"), full_page=True, style=".actions-bar { position: static !important; }"
        )

    def expect_refusals(self, *statuses: int) -> None:
        """A page that refuses a form (422, 409) makes Chromium log the status as a
        console error; a step that is meant to be refused says so here."""
        self.refusals.update(statuses)

    def assert_clean(self) -> None:
        assert self.foreign == [], f"requests left the origin: {self.foreign}"
        errors = [e for e in self.errors if not any(f"status of {s} " in e for s in self.refusals)]
        assert errors == [], f"browser console errors: {errors}"


@pytest.fixture
async def open_page(chromium, live_server):
    contexts = []

    async def make(*, phone: bool = False, javascript: bool = True) -> Watched:
        options = (
            {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True}
            if phone
            else {"viewport": {"width": 1366, "height": 900}}
        )
        context = await chromium.new_context(
            locale="zh-CN", timezone_id="Asia/Shanghai", java_script_enabled=javascript, **options
        )
        contexts.append(context)
        return Watched(await context.new_page(), live_server)

    yield make
    for context in contexts:
        await context.close()


async def sign_in(watched: Watched, login: str, password: str) -> None:
    page = watched.page
    await page.goto(watched.origin + "/")
    await page.get_by_label("登录名").fill(login)
    await page.get_by_label("密码").fill(password)
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_load_state()


async def sign_out(watched: Watched) -> None:
    await watched.page.get_by_role("button", name="退出").click()
    await watched.page.wait_for_load_state()
    await asyncio.sleep(0)
