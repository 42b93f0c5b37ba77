"""Resident ID number validation (GB 11643-1999), derived data and masking."""

from __future__ import annotations

from datetime import date

import pytest
from stdnum.cn import ric

from service.identifiers.errors import InvalidIdentifier
from service.identifiers.id_number import (
    birth_date,
    check_digit,
    gender,
    mask_id_number,
    normalize_id_number,
)
from tests.identifiers.make import make_id_number

GB_EXAMPLE = "11010519491231002X"  # the example printed in GB 11643-1999
GB_EXAMPLE_15 = "110105491231002"  # the same person's legacy 15-digit number
STDNUM_EXAMPLE = "360426199101010071"  # stdnum's doctest, a 德安县 number
TODAY = date(2025, 6, 1)


def normalized(raw: str) -> str:
    return normalize_id_number(raw, today=TODAY)


def rejected(raw: str) -> InvalidIdentifier:
    with pytest.raises(InvalidIdentifier) as info:
        normalize_id_number(raw, today=TODAY)
    error = info.value
    assert error.code == "invalid_id_number"
    # Personal data never goes into messages (they end up in logs and responses).
    digits = raw.strip().upper()[:14]
    if digits:
        assert digits not in error.message and digits not in str(error)
    return error


def test_helper_agrees_with_published_example_and_stdnum():
    assert make_id_number("110105", "19491231", "002") == GB_EXAMPLE
    for sequence in range(0, 1000, 37):
        number = make_id_number(born="19850704", sequence=f"{sequence:03d}")
        assert ric.calc_check_digit(number) == number[-1] == check_digit(number[:17])


@pytest.mark.parametrize("number", [GB_EXAMPLE, STDNUM_EXAMPLE, make_id_number()])
def test_valid_numbers_are_returned_unchanged(number):
    assert normalized(number) == number


def test_lowercase_x_and_surrounding_spaces_are_normalised():
    assert normalized(" 11010519491231002x ") == GB_EXAMPLE


def test_full_width_digits_are_folded():
    assert normalized("１１０１０５１９４９１２３１００２ｘ") == GB_EXAMPLE


def test_leap_day_in_a_leap_year_is_valid():
    number = make_id_number(born="20000229")
    assert birth_date(number) == date(2000, 2, 29)


@pytest.mark.parametrize("born", ["19000229", "20010229", "19990230"])
def test_leap_day_in_a_common_year_is_invalid(born):
    assert "出生日期" in rejected(make_id_number(born=born)).message


@pytest.mark.parametrize("born", ["19901301", "19900001", "19900100", "19900132", "00000101"])
def test_impossible_dates_are_invalid(born):
    assert "出生日期" in rejected(make_id_number(born=born)).message


@pytest.mark.parametrize("born", ["00010101", "18000101", "18991231"])
def test_birth_years_before_1900_are_invalid(born):
    assert "1900" in rejected(make_id_number(born=born)).message


def test_a_birth_date_of_1900_is_valid():
    number = make_id_number(born="19000101")
    assert normalized(number) == number


def test_birth_date_in_the_future_is_invalid():
    assert "晚于今天" in rejected(make_id_number(born="20250602")).message


def test_birth_date_today_is_valid():
    number = make_id_number(born="20250601")
    assert normalized(number) == number


def test_default_today_rejects_a_far_future_date():
    with pytest.raises(InvalidIdentifier):
        normalize_id_number(make_id_number(born="29991231"))


def test_every_wrong_check_character_is_rejected():
    number = make_id_number()
    for wrong in "0123456789X":
        if wrong != number[-1]:
            assert "校验位" in rejected(number[:17] + wrong).message


def test_any_single_digit_substitution_is_rejected():
    number = make_id_number(born="19880808")
    for position in range(17):
        for digit in "0123456789":
            if digit != number[position]:
                rejected(number[:position] + digit + number[position + 1 :])


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "36010219900101123",  # 17 digits
        "3601021990010112345",  # 19 digits
        "36010219900101X234",  # X not in last place
        "3601021990010112A4",
        "11010549123100X",  # 15-digit numbers have no check char
        "١١٠١٠٥١٩٤٩١٢٣١٠٠٢X",  # Arabic-Indic digits are digits, but not ASCII
    ],
)
def test_wrong_length_or_characters_are_rejected(raw):
    assert "位" in rejected(raw).message


def test_retired_address_code_is_accepted():
    # 362101 (赣州市 under the former 赣州地区) was retired in 1998; people keep it.
    number = make_id_number(address="362101", born="19990101")
    assert not ric.is_valid(number)
    assert normalized(number) == number


def test_unknown_address_code_is_accepted():
    number = make_id_number(address="999999")
    assert normalized(number) == number


def test_legacy_15_digit_number_is_converted():
    assert normalized(GB_EXAMPLE_15) == GB_EXAMPLE
    assert normalized("360102800101123") == make_id_number(born="19800101")


def test_legacy_number_with_bad_date_is_rejected():
    rejected("360102000229123")  # would be 1900-02-29


def test_birth_date_and_gender():
    assert birth_date(GB_EXAMPLE) == date(1949, 12, 31)
    assert gender(GB_EXAMPLE) == "female"
    assert gender(STDNUM_EXAMPLE) == "male"
    assert birth_date(GB_EXAMPLE_15) == date(1949, 12, 31)
    assert gender(GB_EXAMPLE_15) == "female"


@pytest.mark.parametrize("sequence, expected", [("001", "male"), ("010", "female"), ("999", "male"), ("998", "female")])
def test_gender_follows_the_seventeenth_digit(sequence, expected):
    assert gender(make_id_number(sequence=sequence)) == expected


def test_derived_data_requires_a_valid_number():
    with pytest.raises(InvalidIdentifier):
        birth_date(GB_EXAMPLE[:17] + "1")
    with pytest.raises(InvalidIdentifier):
        gender("not a number")


def test_mask_keeps_first_six_and_last_four():
    number = make_id_number(born="19900101", sequence="123")
    assert mask_id_number(number) == "360102********123" + number[-1]
    assert mask_id_number(GB_EXAMPLE) == "110105********002X"
    assert mask_id_number("11010519491231002x") == "110105********002X"


def test_mask_of_legacy_and_odd_input_reveals_nothing_extra():
    assert mask_id_number(GB_EXAMPLE_15) == "110105*****1002"
    assert mask_id_number("1234567890") == "**********"
    assert mask_id_number("") == ""
