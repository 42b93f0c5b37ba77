"""Validation of Chinese identifiers: unified social credit codes and resident ID numbers."""

from service.identifiers.credit_code import validate_credit_code
from service.identifiers.errors import InvalidIdentifier
from service.identifiers.id_number import (
    birth_date,
    check_digit,
    describe_normalized,
    gender,
    mask_id_number,
    normalize_id_number,
)
from service.identifiers.phone import is_phone

__all__ = [
    "birth_date",
    "check_digit",
    "describe_normalized",
    "gender",
    "InvalidIdentifier",
    "is_phone",
    "mask_id_number",
    "normalize_id_number",
    "validate_credit_code",
]
