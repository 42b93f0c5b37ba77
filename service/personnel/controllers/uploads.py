"""What every personnel upload does the same way: read the one file (413 past its
limit), key a retry on the file and every field, and hand the file to the use case."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from litestar import Request, Response
from litestar.datastructures import UploadFile

from service.errors import InvalidInput, PayloadTooLarge
from service.idempotency import IdempotencyKey, Reply
from service.personnel.consents import Upload
from service.security import Actor
from service.web.idempotency import form_payload, idempotency_key, reply_response

#: The use case an upload feeds: the file read, and the retry's key (None without a header).
Store = Callable[[Upload, IdempotencyKey | None], Awaitable[Reply[Any]]]


def form_uuid(value: str | None, field: str) -> UUID | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        return UUID(text)
    except ValueError:
        raise InvalidInput.field(field, "invalid_uuid", "编号格式不正确") from None


async def read_upload(upload: UploadFile, max_bytes: int) -> bytes:
    content = await upload.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise PayloadTooLarge(f"文件不能超过 {max_bytes // (1024 * 1024)} MB", code="file_too_large")
    return content


async def store_upload(
    request: Request, actor: Actor, header: str | None, form: Any, max_bytes: int, store: Store
) -> Response[Any]:
    """One scan upload (`form` is a multipart dataclass whose `file` is the scan): the
    file is read before any field is checked, so an oversized file is 413 first."""
    content = await read_upload(form.file, max_bytes)
    key = idempotency_key(request, actor, header, form_payload(form, content))
    upload = Upload(content=content, filename=form.file.filename, max_bytes=max_bytes)
    return reply_response(await store(upload, key))
