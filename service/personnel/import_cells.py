"""The cells of a results file: their text, their dates, and the key a header or a
spelled-out value is matched by (NFKC, no spaces, no `*`, lower case)."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Any

DATE_TEXT = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def cell_key(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).replace("*", "").lower().lstrip("\ufeff")


def cell_text(value: Any) -> str:  # a cell: whatever the csv or xlsx reader gives
    if value is None:
        return ""
    if type(value) is str:
        return value.strip()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def parse_date(value: Any) -> date | None:
    """A date cell: a spreadsheet date, or text as 2025-03-01, 2025/3/1, 2025.03.01,
    20250301 or 2025年3月1日. None if it is none of these."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = cell_text(value)
    try:
        if len(text) == 10 and text[4] == "-":
            return date.fromisoformat(text)
        match = DATE_TEXT.match(text) or DATE_COMPACT.match(text)
        if match:
            return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None
    return None
