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
from collections.abc import Awaitable

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from service.context import request_id_var
from service.logging import log_request

HEADER = b"x-request-id"
WELL_FORMED = re.compile(r"[A-Za-z0-9._-]{8,64}")


def _incoming(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == HEADER:  # ASGI servers give header names in lower case
            text = value.decode("latin-1")
            return text if WELL_FORMED.fullmatch(text) else None
    return None


class _RandomIds:
    """Random 128-bit ids, drawn from the OS 1,024 at a time: one system call per request
    cost more than the rest of the id's work (a sixth of `/healthz` in a py-spy profile,
    docs/performance.md). A forked child starts with a fresh draw, so no two workers
    hand out the same ids."""

    BATCH = 1024

    def __init__(self) -> None:
        self._drawn = b""
        self._at = 0
        os.register_at_fork(after_in_child=self._forget)

    def _forget(self) -> None:
        self._drawn, self._at = b"", 0

    def next(self) -> str:
        at = self._at
        if at >= len(self._drawn):
            self._drawn, at = os.urandom(16 * self.BATCH), 0
        self._at = at + 16
        return self._drawn[at : at + 16].hex()


new_request_id = _RandomIds().next


def request_id_for(scope: Scope) -> str:
    """The request's id, created on first use and kept in the scope's state."""
    # Not scope.setdefault: granian's scope is a mapping whose setdefault is Python code.
    try:
        state = scope["state"]
    except KeyError:
        state = scope["state"] = {}
    request_id = state.get("request_id")
    if request_id is None:
        request_id = state["request_id"] = _incoming(scope) or new_request_id()
    return request_id


def with_request_context(app: ASGIApp) -> ASGIApp:
    """Wrap the app: bind the request id for logs and services, return it in a header, and
    log one line per request — method, route path, status and duration; no query
    strings, bodies or tokens. The line is written at the event loop's next turn, with
    the others of requests that ended in the same turn (service/logging.py)."""

    async def handle(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        request_id = request_id_for(scope)
        header = (HEADER, request_id.encode())
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500  # if nothing was sent, the client saw the connection fail

        def send_with_id(message: Message) -> Awaitable[None]:
            # A plain function returning the server's awaitable: no coroutine of our own
            # per message.
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            return send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            log_request(
                scope["method"], scope.get("path_template") or scope["path"], status, time.perf_counter() - started
            )
            request_id_var.reset(token)

    return handle
