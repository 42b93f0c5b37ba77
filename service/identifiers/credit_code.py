"""Unified social credit code (统一社会信用代码), GB 32100-2015.

Layout: 1 registration-authority char, 1 entity-type char, 6-digit region code,
9-char organisation code (GB 11714: 8 body chars + its own check char), 1 check char.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stdnum.cn import uscc

from service.identifiers._text import compact_upper
from service.identifiers.errors import InvalidIdentifier

ERROR_CODE = "invalid_credit_code"
ORGANIZATION_CODE_CHECK_FAILED = "organization_code_check_failed"

# GB 32100 excludes I, O, S, V, Z. Positions 1-2 may be letters (authorities A, N, Y
# exist since the 2016 amendment), which stdnum's validate() wrongly rejects, so the
# format is checked here and only the check-character arithmetic comes from stdnum.
_CHARS = "0-9A-HJ-NPQRTUWXY"
_FORMAT = re.compile(rf"[{_CHARS}]{{2}}[0-9]{{6}}[{_CHARS}]{{10}}")

_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_VALUES = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class CreditCodeCheck:
    """A code that passed validation, normalised, with non-fatal findings."""

    code: str
    warnings: tuple[str, ...] = ()


def validate_credit_code(raw: str) -> CreditCodeCheck:
    """Normalise and validate; raise `InvalidIdentifier` if the code cannot be right."""
    code = compact_upper(raw)
    if not _FORMAT.fullmatch(code):
        raise InvalidIdentifier(
            ERROR_CODE,
            "统一社会信用代码格式不正确：应为18位数字或大写字母（不含I、O、S、V、Z），第3至8位为数字",
        )
    if uscc.calc_check_digit(code) != code[-1]:
        raise InvalidIdentifier(ERROR_CODE, "统一社会信用代码校验位不正确，请核对后重新输入")
    return CreditCodeCheck(code=code, warnings=_warnings(code))


def _warnings(code: str) -> tuple[str, ...]:
    """Findings that do not reject the code.

    The embedded organisation code comes from legacy registers; some codes issued in
    practice carry a bad GB 11714 check char yet are valid USCCs, so a mismatch is
    only reported, never fatal.
    """
    if not organization_code_check_ok(code[8:17]):
        return (ORGANIZATION_CODE_CHECK_FAILED,)
    return ()


def organization_code_check_ok(org_code: str) -> bool:
    """GB 11714 check on a 9-char organisation code (8 body chars + check char)."""
    body, check = org_code[:8], org_code[8:]
    if len(body) != 8 or any(c not in _ORG_VALUES for c in body):
        return False
    return organization_check_char(body) == check


def organization_check_char(body: str) -> str:
    """GB 11714 check char: 11 - (weighted sum mod 11); 10 is 'X', 11 is '0'."""
    total = sum(_ORG_VALUES.index(c) * w for c, w in zip(body, _ORG_WEIGHTS))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))
