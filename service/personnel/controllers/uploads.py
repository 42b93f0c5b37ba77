"""What every personnel upload does the same way: read the one file (413 past its
limit), key a retry on the file and every field, and hand the file to the use case."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import IO, Any
from uuid import UUID

from litestar import Request, Response
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath

from service.db import Database
from service.documents import BlobStorage
from service.errors import InvalidInput, PayloadTooLarge
from service.idempotency import IdempotencyKey, Reply
from service.personnel.consents import Upload
from service.personnel.importfile import upload_digest
from service.security import Actor
from service.web.deps import DB, AppSettings, CurrentActor, Storage
from service.web.idempotency import IdempotencyHeader, form_payload, idempotency_key, reply_response

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


def too_large(max_bytes: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"文件不能超过 {max_bytes // (1024 * 1024)} MB", code="file_too_large")


async def read_upload(upload: UploadFile, max_bytes: int) -> bytes:
    content = await upload.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise too_large(max_bytes)
    return content


async def spooled_upload(upload: UploadFile, max_bytes: int) -> tuple[IO[bytes], str]:
    """The upload's spooled file, rewound, and its SHA-256, without reading it into
    memory (a large file was spooled to disk as it arrived). 413 past `max_bytes`."""
    size, digest = await asyncio.to_thread(upload_digest, upload.file)
    if size > max_bytes:
        raise too_large(max_bytes)
    return upload.file, digest


async def store_upload(
    request: Request, actor: Actor, header: str | None, form: Any, max_bytes: int, store: Store
) -> Response[Any]:
    """One scan upload (`form` is a multipart dataclass whose `file` is the scan): the
    file is read before any field is checked, so an oversized file is 413 first."""
    content = await read_upload(form.file, max_bytes)
    key = idempotency_key(request, actor, header, form_payload(form, hashlib.sha256(content).hexdigest()))
    upload = Upload(content=content, filename=form.file.filename, max_bytes=max_bytes)
    return reply_response(await store(upload, key))


@dataclass(frozen=True)
class PersonUpload:
    """What an upload for one person (a consent, a certificate) is handed: the request
    and its retry header, and whom and where the use case stores for."""

    request: Request
    db: Database
    storage: BlobStorage
    actor: Actor
    person_id: UUID
    max_bytes: int
    idempotency: str | None

    @property
    def target(self) -> tuple[Database, BlobStorage, Actor, UUID]:
        """The use case's leading arguments: `(db, storage, actor, person_id)`."""
        return self.db, self.storage, self.actor, self.person_id

    async def store(self, form: Any, store: Store) -> Response[Any]:
        return await store_upload(self.request, self.actor, self.idempotency, form, self.max_bytes, store)


async def _person_upload(
    request: Request,
    db: DB,
    storage: Storage,
    settings: AppSettings,
    actor: CurrentActor,
    person_id: FromPath[UUID],
    idempotency: IdempotencyHeader = None,
) -> PersonUpload:
    return PersonUpload(request, db, storage, actor, person_id, settings.max_upload_bytes, idempotency)


#: The dependency a person's upload route declares (`uploading: Uploading`).
PERSON_UPLOAD = {"uploading": Provide(_person_upload)}
Uploading = NamedDependency[PersonUpload]
