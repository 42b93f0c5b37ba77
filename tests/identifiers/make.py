"""Build valid identifiers for tests.

The check characters are computed here independently of the service code (own
weight tables, not stdnum), so a shared mistake cannot make both sides agree.
"""

from __future__ import annotations

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
RIC_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
RIC_CHECK = "10X98765432"  # indexed by weighted sum mod 11 (GB 11643 table)


def make_credit_code(prefix17: str) -> str:
    """Append the GB 32100 check char (31 - sum mod 31, over a 31-char alphabet)."""
    assert len(prefix17) == 17
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(prefix17, USCC_WEIGHTS))
    return prefix17 + USCC_CHARS[(31 - total % 31) % 31]


def org_check_char(body8: str) -> str:
    """GB 11714: digits 0-9, letters A-Z as 10-35; 11 - sum mod 11, 10 -> X, 11 -> 0."""
    values = [int(c, 36) for c in body8]
    rest = 11 - sum(v * w for v, w in zip(values, ORG_WEIGHTS)) % 11
    return "X" if rest == 10 else "0" if rest == 11 else str(rest)


def make_credit_code_with_org(head8: str, org_body8: str, org_check: str | None = None) -> str:
    """A valid USCC around an organisation code; pass `org_check` to force a bad one."""
    check = org_check_char(org_body8) if org_check is None else org_check
    return make_credit_code(head8 + org_body8 + check)


def make_id_number(address: str = "360102", born: str = "19900101", sequence: str = "123") -> str:
    """An 18-digit number with a correct ISO 7064 MOD 11-2 check char."""
    body = address + born + sequence
    assert len(body) == 17
    return body + RIC_CHECK[sum(int(c) * w for c, w in zip(body, RIC_WEIGHTS)) % 11]
