"""Telephone numbers as people type them: mobile or fixed line, with or without the
country code, spaces and dashes allowed. One rule for vendors' contacts and staff."""

from __future__ import annotations

import re

PHONE = re.compile(r"^\+?[0-9][0-9\- ]{5,19}$")


def is_phone(text: str) -> bool:
    return PHONE.match(text) is not None
