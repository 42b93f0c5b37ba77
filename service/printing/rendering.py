"""Rendering bounds and the one call that renders: the render pool's size and time limit,
the row limit every document builder checks before it renders, and how long a request
waits for a published list another worker is rendering."""

from __future__ import annotations

from service.errors import InvalidInput
from service.printing.engine import Job
from service.printing.pool import POOL

DEFAULT_MAX_ROWS = 5000
DEFAULT_PUBLICATION_WAIT_SECONDS = 10.0


def configure(
    *,
    workers: int,
    timeout: float,
    max_rows: int = DEFAULT_MAX_ROWS,
    publication_wait: float = DEFAULT_PUBLICATION_WAIT_SECONDS,
) -> None:
    global _max_rows, _publication_wait
    POOL.configure(workers=workers, timeout=timeout)
    _max_rows = max_rows
    _publication_wait = publication_wait


_max_rows = DEFAULT_MAX_ROWS
_publication_wait = DEFAULT_PUBLICATION_WAIT_SECONDS


def publication_wait() -> float:
    """How long a request for a published list waits for another worker's render of it."""
    return _publication_wait


def max_rows() -> int:
    return _max_rows


def check_size(rows: int, field: str) -> None:
    """Refuse a document over the size bound before it is rendered (422, never a stuck worker)."""
    if rows > _max_rows:
        raise InvalidInput(
            f"文档过大（{rows} 行，上限 {_max_rows} 行），请缩小查询范围",
            code="document_too_large",
            details=[
                {"field": field, "code": "document_too_large", "message": f"文档最多 {_max_rows} 行，请缩小查询范围"}
            ],
        )


async def render(job: Job, *, timeout: float | None = None) -> bytes:
    return await POOL.render(job, timeout=timeout)
