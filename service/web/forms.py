"""Parsing multipart form fields, which arrive as text, into typed service arguments."""

from __future__ import annotations

from datetime import date
from typing import Literal, overload

from schemas.inputs import DATE_OUT_OF_RANGE, DATE_OUT_OF_RANGE_MESSAGE, date_in_range
from service.errors import InvalidInput


@overload
def form_date(value: str | None, field: str, *, required: Literal[True] = True) -> date: ...
@overload
def form_date(value: str | None, field: str, *, required: bool) -> date | None: ...


def form_date(value: str | None, field: str, *, required: bool = True) -> date | None:
    """An ISO date (YYYY-MM-DD) in the sane range (schemas/inputs.py); empty → 422
    `required` (or None when optional)."""
    text = (value or "").strip()
    if not text:
        if required:
            raise InvalidInput.field(field, "required", "此项不能为空")
        return None
    try:
        parsed = date.fromisoformat(text)
    except ValueError:
        raise InvalidInput.field(field, "invalid_date", "日期格式应为 YYYY-MM-DD") from None
    if not date_in_range(parsed):
        raise InvalidInput.field(field, DATE_OUT_OF_RANGE, DATE_OUT_OF_RANGE_MESSAGE)
    return parsed
