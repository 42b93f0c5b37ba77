"""Request ids: taken from a well-formed `X-Request-ID` or made up, bound to every log
line, written into every error body, and returned on every response.

One pure-ASGI wrapper around the whole Litestar app does it all, with one log line per
request. It sits outside Litestar's exception handling and routing, so it sees every
response — errors, 404s and 405s included — and needs no `before_send` hook (with one,
Litestar wraps every `send` in another coroutine) and no second wrapper for the status.
The profile behind this layout is in docs/performance.md.
"""

from __future__ import annotations

import os
import re
import time

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from service.context import request_id_var
from service.logging import log_request

HEADER = b"x-request-id"
WELL_FORMED = re.compile(r"[A-Za-z0-9._-]{8,64}")


def _incoming(scope: Scope) -> str | None:
    for name, value in scope.get("headers") or ():
        if name == HEADER:  # ASGI servers give header names in lower case
            text = value.decode("latin-1")
            return text if WELL_FORMED.fullmatch(text) else None
    return None


def request_id_for(scope: Scope) -> str:
    """The request's id, created on first use and kept in the scope's state."""
    state = scope.setdefault("state", {})
    request_id = state.get("request_id")
    if request_id is None:
        request_id = state["request_id"] = _incoming(scope) or os.urandom(16).hex()
    return request_id


def with_request_context(app: ASGIApp) -> ASGIApp:
    """Wrap the app: bind the request id for logs and services, return it in a header, and
    log one line per request — method, route path, status and duration; no query
    strings, bodies or tokens."""

    async def handle(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        request_id = request_id_for(scope)
        header = (HEADER, request_id.encode())
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500  # if nothing was sent, the client saw the connection fail

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            log_request(scope["method"], scope.get("path_template") or scope["path"], status,
                        round((time.perf_counter() - started) * 1000, 2))
            request_id_var.reset(token)

    return handle
