"""Resident ID number (居民身份证号码), GB 11643-1999.

18 chars: 6-digit address code, 8-digit birth date, 3-digit sequence (odd = male),
ISO 7064 MOD 11-2 check char (0-9 or X). Legacy 15-digit numbers (2-digit year, no
check char) are converted to 18 digits.

The address code is deliberately not checked: people keep their number for life, so
codes retired from GB/T 2260 decades ago are still valid, and stdnum's table lookup
(ric.validate) would reject them.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Literal

from stdnum.cn import ric

from service.identifiers._text import compact_upper
from service.identifiers.errors import InvalidIdentifier
from service.timeutil import CHINA_TZ

ERROR_CODE = "invalid_id_number"

# Birth dates are civil dates in China; fixed UTC+8 (no DST) avoids needing tzdata.

# [0-9], not \d: \d also matches other scripts' digits.
_MODERN = re.compile(r"[0-9]{17}[0-9X]")
_LEGACY = re.compile(r"[0-9]{15}")
# Nobody alive was born before this: a year like 0001 or 1800 is a typing error, not a person.
EARLIEST_BIRTH = date(1900, 1, 1)


def normalize_id_number(raw: str, *, today: date | None = None) -> str:
    """The 18-char upper-case form; raise `InvalidIdentifier` if it cannot be right.

    `today` defaults to the current date in China; tests pass it to stay stable.
    """
    number = compact_upper(raw)
    if _LEGACY.fullmatch(number):
        number = _upgrade_legacy(number)
    elif not _MODERN.fullmatch(number):
        raise _invalid("身份证号码应为18位（最后一位可为X）或15位数字")
    born = _embedded_birth_date(number)
    if born > (today or _china_today()):
        raise _invalid("身份证号码中的出生日期晚于今天")
    if born < EARLIEST_BIRTH:
        raise _invalid("身份证号码中的出生日期早于 1900 年，不可能有效")
    if check_digit(number[:17]) != number[17]:
        raise _invalid("身份证号码校验位不正确，请核对后重新输入")
    return number


def birth_date(number: str) -> date:
    """Birth date of a valid number (15 or 18 digits)."""
    return _embedded_birth_date(normalize_id_number(number))


def gender(number: str) -> Literal["male", "female"]:
    """From the sequence code's last digit (the 17th char): odd is male."""
    return describe_normalized(normalize_id_number(number))[1]


def describe_normalized(number: str) -> tuple[date, Literal["male", "female"]]:
    """Birth date and gender of a number `normalize_id_number` has already returned,
    without checking it again (bulk imports validate each number exactly once)."""
    return _embedded_birth_date(number), "male" if int(number[16]) % 2 else "female"


def mask_id_number(number: str) -> str:
    """Keep the first 6 and last 4 chars, star the rest: "360102********123X".

    For display and logs, so it never raises and never reveals more than that; a
    string too short to keep 10 chars is starred entirely.
    """
    text = compact_upper(number)
    if len(text) <= 10:
        return "*" * len(text)
    return text[:6] + "*" * (len(text) - 10) + text[-4:]


def check_digit(body17: str) -> str:
    """ISO 7064 MOD 11-2 check char for the first 17 digits."""
    # ric.calc_check_digit ignores the last char of its argument (it expects the
    # full number), so a placeholder stands in for the check char.
    return ric.calc_check_digit(body17 + "?")


def _upgrade_legacy(number15: str) -> str:
    """15 -> 18 digits: the 2-digit year was always 19xx; append the check char."""
    body = number15[:6] + "19" + number15[6:]
    return body + check_digit(body)


def _embedded_birth_date(number: str) -> date:
    """Characters 7-14 as a real calendar date (date() handles leap years)."""
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise _invalid("身份证号码中的出生日期不是有效日期") from None


def _china_today() -> date:
    return datetime.now(CHINA_TZ).date()


def _invalid(message: str) -> InvalidIdentifier:
    return InvalidIdentifier(ERROR_CODE, message)
