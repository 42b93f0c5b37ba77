"""The one exception renderer: what a statement ran with never reaches the log, whoever
logs the exception (our lines or the standard library's), and an outage is one short line."""

from __future__ import annotations

import json
import logging

import asyncpg
import pytest

from service.logging import configure_logging, get_logger

NAME, PHONE = "欧阳雪樱", "13912345678"


def _logged(capsys) -> str:
    return capsys.readouterr().err


def _forms(*values: str) -> list[str]:
    return [*values, *(json.dumps(value)[1:-1] for value in values)]


@pytest.mark.parametrize("via", ["structlog", "stdlib"])
def test_quoted_parameters_and_details_are_cut_from_any_exception(capsys, via):
    configure_logging("json")
    _logged(capsys)
    try:
        try:
            raise KeyError("inner")
        except KeyError as inner:
            raise RuntimeError(
                f"insert failed\nDETAIL:  Key (contact_phone)=({PHONE}) already exists.\n"
                f"[parameters: ('{NAME}', '{PHONE}')]\n(Background on this error at: https://sqlalche.me)"
            ) from inner
    except RuntimeError as error:
        if via == "structlog":
            get_logger("test").error("failed", exc_info=error)
        else:
            logging.getLogger("some.library").error("failed", exc_info=error)
    logged = _logged(capsys)
    line = json.loads(logged.strip().splitlines()[-1])
    assert "RuntimeError: insert failed" in line["exception"] and "KeyError" in line["exception"]
    assert "direct cause" in line["exception"]
    for form in _forms(NAME, PHONE):
        assert form not in logged


async def test_a_driver_error_keeps_its_type_and_schema_names_but_not_its_text(capsys):
    configure_logging("json")
    _logged(capsys)
    error = asyncpg.exceptions.UniqueViolationError(f"duplicate key\nDETAIL: Key (phone)=({PHONE})")
    error.constraint_name = "uq_phone"
    error.sqlstate = "23505"
    try:
        raise error
    except asyncpg.exceptions.UniqueViolationError as raised:
        get_logger("test").error("failed", exc_info=raised)
    logged = _logged(capsys)
    assert "UniqueViolationError" in logged and "constraint_name=uq_phone" in logged
    assert PHONE not in logged and "duplicate key" not in logged


async def test_an_outage_is_logged_without_a_traceback(capsys):
    configure_logging("json")
    _logged(capsys)
    try:
        await asyncpg.connect("postgresql://postgres@/postgres?host=/nonexistent-socket-dir", timeout=1)
    except OSError as error:
        logging.getLogger("asyncpg.pool").warning("Failed to restore the pool connection floor", exc_info=error)
    line = json.loads(_logged(capsys).strip().splitlines()[-1])
    assert line["error_type"] == "FileNotFoundError" and "exception" not in line
