"""The shared per-request path: every response, whatever answered it, carries the request
id and gets one log line; only public routes go without the access guard, and the app
refuses to start with a route that is neither."""

from __future__ import annotations

import asyncio
import json

import pytest
from litestar import Litestar, get

from service.app import _declare_preflight_public, _refuse_unguarded_routes
from service.web.access import public


def request_lines(captured: str) -> list[dict]:
    lines = [json.loads(line) for line in captured.splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("event") == "request"]


async def logged(capsys) -> list[dict]:
    """The request lines written so far: they are written at the event loop's next turn."""
    await asyncio.sleep(0)
    return request_lines(capsys.readouterr().err)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/healthz", 200),
        ("GET", "/no/such/route", 404),
        ("PUT", "/healthz", 405),
        ("GET", "/api/v1/me", 401),
    ],
)
async def test_every_response_has_the_request_id_and_one_log_line(client, capsys, method, path, status):
    capsys.readouterr()
    response = await client.request(method, path)
    assert response.status_code == status
    request_id = response.headers["x-request-id"]
    assert len(request_id) == 32
    lines = await logged(capsys)
    assert len(lines) == 1, lines
    line = lines[0]
    assert line["request_id"] == request_id and line["status"] == status and line["method"] == method
    assert set(line) == {"method", "path", "status", "ms", "event", "request_id", "level", "timestamp"}
    assert line["level"] == "info" and line["timestamp"].endswith("Z")


async def test_concurrent_requests_each_get_their_own_line(client, capsys):
    """Lines of requests that end in the same turn of the loop are written together,
    none lost or doubled."""
    capsys.readouterr()
    responses = await asyncio.gather(
        *(client.get("/healthz") for _ in range(40)), *(client.get("/no/such/route") for _ in range(10))
    )
    lines = await logged(capsys)
    sent = {r.headers["x-request-id"]: r.status_code for r in responses}
    assert len(sent) == 50
    assert {line["request_id"]: line["status"] for line in lines} == sent and len(lines) == 50


async def test_route_paths_are_logged_as_templates_not_as_sent(client, accounts, capsys):
    headers = await accounts.headers("auditor", region_code="360000")
    capsys.readouterr()
    await client.get("/api/v1/audit/events/12345", headers=headers)
    (line,) = await logged(capsys)
    assert "12345" not in line["path"] and line["path"].startswith("/api/v1/audit/events/")


def test_public_routes_run_no_guard_and_the_others_the_access_guard(app):
    from litestar.routes import HTTPRoute

    from service.web.access import PUBLIC, authorize

    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                guards = handler.resolve_guards()
                if handler.opt.get("access") == PUBLIC:
                    assert guards == [], route.path
                else:
                    assert authorize in guards, route.path


def test_an_app_with_an_undeclared_route_does_not_start():
    @get("/declared", **public())
    async def declared() -> str:
        return "ok"

    @get("/forgotten")
    async def forgotten() -> str:
        return "open?"

    def check(*handlers):
        app = Litestar(route_handlers=list(handlers), openapi_config=None)
        _declare_preflight_public(app)  # as create_app does first
        _refuse_unguarded_routes(app)

    check(declared)
    with pytest.raises(RuntimeError, match="/forgotten"):
        check(declared, forgotten)


def test_a_forked_worker_draws_its_own_request_ids():
    """granian forks its workers: ids drawn before the fork must not be handed out again
    in the child (the id pool starts afresh there)."""
    import os

    from service.web.requestid import new_request_id

    new_request_id()  # the pool is drawn in the parent
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        os.write(write, new_request_id().encode())
        os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    in_child = os.read(read, 64).decode()
    os.close(read)
    assert len(in_child) == 32 and in_child != new_request_id()
