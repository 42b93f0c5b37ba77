"""Request ids: taken from a well-formed `X-Request-ID` or made up, bound to every log
line, written into every error body, and returned on every response."""

from __future__ import annotations

import re
import time
import uuid

from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from service.context import request_id_var
from service.logging import get_logger

HEADER = "x-request-id"
WELL_FORMED = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
log = get_logger("schoolgate.http")


def request_id_for(scope: Scope) -> str:
    """The request's id, created on first use and kept in the scope's state."""
    state = scope.setdefault("state", {})
    if "request_id" not in state:
        incoming = dict(scope.get("headers") or []).get(HEADER.encode(), b"").decode("latin-1")
        state["request_id"] = incoming if WELL_FORMED.match(incoming) else uuid.uuid4().hex
    return state["request_id"]


async def add_request_id_header(message: Message, scope: Scope) -> None:
    """App-level before_send hook, so responses made by error handlers get it too."""
    if message["type"] == "http.response.start":
        MutableScopeHeaders.from_message(message)[HEADER] = request_id_for(scope)


def request_context_middleware(app: ASGIApp) -> ASGIApp:
    """Binds the request id for logs and services, and logs one line per request:
    method, route path, status and duration — no query strings, bodies or tokens."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        token = request_id_var.set(request_id_for(scope))
        started = time.perf_counter()
        status = {"code": 500}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await app(scope, receive, capture)
        finally:
            log.info("request", method=scope["method"], path=scope.get("path_template") or scope["path"],
                     status=status["code"], ms=round((time.perf_counter() - started) * 1000, 2))
            request_id_var.reset(token)

    return middleware
