"""Printing: the documents a bureau publishes and a school keeps, as PDF/A-3b.

The front door for the document edge (service/printing/controllers.py) and anyone who
needs a PDF: build a `Job` (a template and plain data), `await render(job)`.
Rendering happens in the render pool's processes with a time limit (`pool.py`); the
one renderer is `engine.py`; how documents write dates, money and roles is `words.py`.
"""

from __future__ import annotations

from service.errors import InvalidInput
from service.printing.engine import Attachment, Job
from service.printing.pool import POOL, RenderUnavailable

__all__ = ["Attachment", "Job", "RenderUnavailable", "check_size", "configure", "render"]

DEFAULT_MAX_ROWS = 5000


def configure(*, workers: int, timeout: float, max_rows: int = DEFAULT_MAX_ROWS) -> None:
    global _max_rows
    POOL.configure(workers=workers, timeout=timeout)
    _max_rows = max_rows


_max_rows = DEFAULT_MAX_ROWS


def check_size(rows: int, field: str) -> None:
    """Refuse a document over the size bound before it is rendered (422, never a stuck worker)."""
    if rows > _max_rows:
        raise InvalidInput(f"文档过大（{rows} 行，上限 {_max_rows} 行），请缩小查询范围", code="document_too_large",
                           details=[{"field": field, "code": "document_too_large",
                                     "message": f"文档最多 {_max_rows} 行，请缩小查询范围"}])


async def render(job: Job, *, timeout: float | None = None) -> bytes:
    return await POOL.render(job, timeout=timeout)
