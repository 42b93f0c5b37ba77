"""Masking of personal data for display, audit and anything else a person may read."""

from __future__ import annotations


def mask_name(name: str | None) -> str | None:
    """Keep the family name (first character): enough to recognise, not to identify."""
    if not name:
        return name
    return name[0] + "*" * max(1, len(name) - 1)


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    if len(phone) <= 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def mask_id_number(number: str | None) -> str | None:
    """Resident ID numbers: first 6 (birth place) and last 4 characters kept."""
    if not number:
        return number
    return number[:6] + "*" * (len(number) - 10) + number[-4:]
