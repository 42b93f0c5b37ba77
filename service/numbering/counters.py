"""Taking the next number of a series, per region and year."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

SERIES = ("letter", "application")

_NEXT = text(
    "INSERT INTO document_number_counters (series, region_code, year, last) VALUES (:series, :region, :year, 1) "
    "ON CONFLICT (series, region_code, year) DO UPDATE SET last = document_number_counters.last + 1 "
    "RETURNING last"
)


async def next_number(session: AsyncSession, series: str, region_code: str, year: int) -> int:
    """The next number (1, 2, …) of `series` in `region_code` for `year`. The counter row
    stays locked until the caller's transaction ends: numbers of one region and year
    are handed out one transaction at a time, and a rollback gives its number back."""
    if series not in SERIES:
        raise ValueError(f"unknown number series {series!r}")
    bound = _NEXT.bindparams(series=series, region=region_code, year=year)
    return int((await session.exec(bound)).one()[0])  # type: ignore[call-overload]
