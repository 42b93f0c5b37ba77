"""What every request body shares beyond text (see schemas/text.py): bounded integers
and a sane range for dates.

- Integers from clients are bounded so that none overflows a PostgreSQL column:
  `Int32` for counts, amounts and versions, `BigCount` for log positions.
- Dates and instants must lie between 1900-01-01 and 50 years from today. Every
  request struct derives from `Input`, whose `__post_init__` checks each date field;
  a date outside answers 422 `date_out_of_range` naming the field.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, ClassVar

import msgspec

INT32_MAX = 2**31 - 1
BIGINT_MAX = 2**63 - 1
Int32 = Annotated[int, msgspec.Meta(ge=-(2**31), le=INT32_MAX)]
BigCount = Annotated[int, msgspec.Meta(ge=0, le=BIGINT_MAX)]

EARLIEST_YEAR = 1900
YEARS_AHEAD = 50
DATE_OUT_OF_RANGE = "date_out_of_range"
DATE_OUT_OF_RANGE_MESSAGE = f"日期须在 {EARLIEST_YEAR} 年之后、{YEARS_AHEAD} 年以内"


def latest_date() -> date:
    return date.today() + timedelta(days=365 * YEARS_AHEAD + YEARS_AHEAD // 4)


def date_in_range(value: date | datetime) -> bool:
    day = value.date() if isinstance(value, datetime) else value
    return day.year >= EARLIEST_YEAR and day <= latest_date()


class Input(msgspec.Struct):
    """The base of every request body."""

    __date_fields__: ClassVar[dict[type, tuple[str, ...]]] = {}

    def __post_init__(self) -> None:
        cls = type(self)
        fields = Input.__date_fields__.get(cls)
        if fields is None:
            fields = Input.__date_fields__[cls] = _date_fields(cls)
        for name in fields:
            value = getattr(self, name)
            if isinstance(value, date) and not date_in_range(value):
                # msgspec turns this into a ValidationError at the struct's path; the
                # error handler reads the field from it (service/web/errors.py).
                raise ValueError(f"{DATE_OUT_OF_RANGE}: {name}")


def _date_fields(cls: type) -> tuple[str, ...]:
    found = []
    for field in msgspec.structs.fields(cls):
        types = getattr(field.type, "__args__", None) or (field.type,)
        if any(isinstance(t, type) and issubclass(t, date) for t in types):
            found.append(field.name)
    return tuple(found)
