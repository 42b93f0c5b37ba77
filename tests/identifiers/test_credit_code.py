"""Unified social credit code validation (GB 32100-2015) and the GB 11714 warning."""

from __future__ import annotations

import pytest
from stdnum.cn import uscc

from service.errors import InvalidInput
from service.identifiers.credit_code import (
    ORGANIZATION_CODE_CHECK_FAILED,
    CreditCodeCheck,
    validate_credit_code,
)
from service.identifiers.errors import InvalidIdentifier
from tests.identifiers.make import make_credit_code, make_credit_code_with_org, org_check_char

# Published examples: stdnum's doctest, and an individual business listed in the
# national register (cited in jaywcjlove/regexp-example#23) whose organisation code
# contains letters.
PUBLISHED = ["91110000600037341L", "92141127MA0KD1Y64A"]


def rejected(raw: str) -> InvalidIdentifier:
    with pytest.raises(InvalidIdentifier) as info:
        validate_credit_code(raw)
    assert info.value.code == "invalid_credit_code"
    return info.value


@pytest.mark.parametrize("code", PUBLISHED)
def test_published_codes_are_valid_without_warnings(code):
    assert validate_credit_code(code) == CreditCodeCheck(code=code, warnings=())


def test_test_helper_agrees_with_published_codes():
    assert [make_credit_code(c[:17]) for c in PUBLISHED] == PUBLISHED
    assert org_check_char("60003734") == "1"


@pytest.mark.parametrize(
    "head, org_body",
    [
        ("91360100", "MA35ABCD"),  # enterprise in 南昌
        ("52360102", "50012345"),  # private non-enterprise unit (民办非企业单位)
        ("12360000", "49100000"),  # public institution (事业单位)
        ("N2360121", "MA39XY12"),  # rural collective: a letter authority code
        ("Y1360000", "MA00000Q"),
    ],
)
def test_constructed_codes_are_valid(head, org_body):
    code = make_credit_code_with_org(head, org_body)
    assert validate_credit_code(code) == CreditCodeCheck(code=code, warnings=())


def test_letter_authority_code_accepted_although_stdnum_rejects_it():
    code = make_credit_code_with_org("N2360121", "MA39XY12")
    assert not uscc.is_valid(code)
    assert validate_credit_code(code).code == code


def test_lowercase_and_spaces_are_normalised():
    assert validate_credit_code("  9111 0000 6000 3734 1l ").code == "91110000600037341L"
    assert validate_credit_code("92141127ma0kd1y64a").code == "92141127MA0KD1Y64A"


def test_full_width_input_is_folded():
    assert validate_credit_code("９１１１００００６０００３７３４１Ｌ").code == "91110000600037341L"


@pytest.mark.parametrize("position", [0, 1, 8, 12, 17])
def test_any_single_substitution_fails_the_check_character(position):
    # 31 is prime, so GB 32100 catches every single-character substitution.
    code = PUBLISHED[1]
    for replacement in "0123456789ABCDEFGHJKLMNPQRTUWXY":
        if replacement == code[position]:
            continue
        altered = code[:position] + replacement + code[position + 1 :]
        error = rejected(altered)
        assert "校验位" in error.message


@pytest.mark.parametrize("raw", ["", "9111000060003734", "91110000600037341", "91110000600037341L0"])
def test_wrong_length_is_rejected(raw):
    assert "18位" in rejected(raw).message


@pytest.mark.parametrize("letter", list("IOSVZ"))
@pytest.mark.parametrize("position", [0, 9, 17])
def test_excluded_letters_are_rejected(letter, position):
    code = PUBLISHED[0]
    error = rejected(code[:position] + letter + code[position + 1 :])
    assert "格式" in error.message


@pytest.mark.parametrize("raw", ["9111000A600037341L", "91110000600037341*", "91110000-600037341"])
def test_other_bad_characters_are_rejected(raw):
    rejected(raw)


def test_error_is_a_422_and_does_not_echo_the_input():
    raw = "91110000600037341A"
    error = rejected(raw)
    assert isinstance(error, InvalidInput)
    assert error.status_code == 422
    assert raw not in error.message and raw not in str(error)


def test_bad_embedded_organisation_code_only_warns():
    good = org_check_char("MA35ABCD")
    wrong = "0" if good != "0" else "1"
    code = make_credit_code_with_org("91360100", "MA35ABCD", org_check=wrong)
    result = validate_credit_code(code)
    assert result.code == code
    assert result.warnings == (ORGANIZATION_CODE_CHECK_FAILED,)


def test_organisation_check_letter_other_than_x_warns():
    # GB 11714 check chars are 0-9 or X only; any other letter cannot verify.
    code = make_credit_code_with_org("91360100", "MA35ABCD", org_check="A")
    assert validate_credit_code(code).warnings == (ORGANIZATION_CODE_CHECK_FAILED,)


def test_organisation_check_x_and_zero_cases():
    bodies = {org_check_char(f"MA35{n:04d}"): f"MA35{n:04d}" for n in range(200)}
    assert {"X", "0"} <= bodies.keys()
    for check in ("X", "0"):
        code = make_credit_code_with_org("91360100", bodies[check])
        assert validate_credit_code(code).warnings == ()


def test_result_is_frozen():
    result = validate_credit_code(PUBLISHED[0])
    with pytest.raises(AttributeError):
        result.code = "x"  # type: ignore[misc]
