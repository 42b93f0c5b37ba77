"""Query and path parameters under the text rule (schemas/text.py).

Litestar reads constraints of a parameter from its `Parameter(...)`, not from an
`Annotated` type nested inside it, so text parameters carry the rule's pattern here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar.params import PathParameter, QueryParameter

from schemas.inputs import BIGINT_MAX, DATE_OUT_OF_RANGE, DATE_OUT_OF_RANGE_MESSAGE, date_in_range
from schemas.text import LINE_PATTERN
from service.errors import InvalidInput

QueryText = Annotated[str | None, QueryParameter(pattern=LINE_PATTERN)]
"""An optional single-line query parameter."""

PathText = Annotated[str, PathParameter(pattern=LINE_PATTERN)]
"""A single-line path segment."""


def query_text(description: str) -> QueryParameter:
    """A described query parameter under the text rule: `Annotated[str | None, query_text("...")]`."""
    return QueryParameter(description=description, pattern=LINE_PATTERN)


LogPosition = Annotated[int, PathParameter(ge=0, le=BIGINT_MAX)]
"""A position or size in the audit log, as a path segment: beyond 64 bits is 422, not 500."""


def bounded_query(*, ge: int = 0, le: int = BIGINT_MAX, name: str | None = None) -> QueryParameter:
    """An integer query parameter that fits a PostgreSQL bigint."""
    return QueryParameter(ge=ge, le=le, name=name) if name else QueryParameter(ge=ge, le=le)


RFC3339_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})\Z"
QueryInstant = Annotated[
    str | None,
    QueryParameter(pattern=RFC3339_PATTERN, description="RFC 3339 时刻，须带时区，例如 2026-09-01T08:00:00+08:00"),
]
"""An instant as a query parameter: RFC 3339 with a zone, nothing else (not a Unix time)."""


def instant(value: str | None, field: str) -> datetime | None:
    """The instant a `QueryInstant` names; a non-existent time or one outside the sane
    range (schemas/inputs.py) → 422 naming the field."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput.field(field, instant_code(field), "时刻须为带时区的 RFC 3339 格式") from None
    if not date_in_range(parsed):
        raise InvalidInput.field(field, DATE_OUT_OF_RANGE, DATE_OUT_OF_RANGE_MESSAGE)
    return parsed


def instant_code(field: str | None) -> str:
    """`as_of` keeps the code it always had; other instants share one."""
    return "invalid_as_of" if field == "as_of" else "invalid_datetime"
