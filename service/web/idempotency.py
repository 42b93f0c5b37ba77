"""The HTTP side of idempotency: read the `Idempotency-Key` header, fingerprint the
request, and turn a stored or fresh reply into the response.

Every POST that creates or transitions uses these three pieces:

    key = idempotency_key(request, actor, idempotency_header, data)
    reply = await services.something(..., idempotency=Idempotency(key, encode_json, 201))
    return reply_response(reply)

A multipart upload is fingerprinted by what it carries: `form_payload(data, sha256)`
gives its text fields as sent and the file by SHA-256, name and declared type, so the
same key with another file (or another field) is another request → 422.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

import msgspec
from litestar import MediaType, Request, Response
from litestar.background_tasks import BackgroundTask
from litestar.datastructures import UploadFile
from litestar.params import HeaderParameter

from service.idempotency import IdempotencyKey, Reply, check_key, fingerprint
from service.security import Actor

IdempotencyHeader = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        description="重试安全：同一账号以同一个键重发相同请求，返回首次的结果且不重复执行",
    ),
]
IfMatchHeader = Annotated[
    str | None,
    HeaderParameter(name="If-Match", required=False, description="该申请的版本号（与请求体中的 version 二选一）"),
]
REPLAYED_HEADER = "Idempotent-Replayed"


def idempotency_key(
    request: Request, actor: Actor, header: str | None, payload: Any, preconditions: dict[str, str | None] | None = None
) -> IdempotencyKey | None:
    if header is None or actor.account_id is None:
        return None
    return IdempotencyKey(
        account_id=actor.account_id,
        key=check_key(header.strip()),
        fingerprint=fingerprint(request.method, request.url.path, msgspec.to_builtins(payload), preconditions),
    )


def public_idempotency_key(request: Request, scope: str, header: str | None, payload: Any) -> IdempotencyKey | None:
    """The key of a POST that needs no account, remembered under `scope` (shared by every
    anonymous caller, hence at least 16 characters: use a random UUID)."""
    if header is None:
        return None
    return IdempotencyKey.public(
        scope,
        check_key(header.strip(), public=True),
        fingerprint(request.method, request.url.path, msgspec.to_builtins(payload)),
    )


def form_payload(form: Any, file_sha256: str, **extra: Any) -> dict[str, Any]:
    """What a multipart request (a form dataclass with one file, whose SHA-256 in hex is
    `file_sha256`) asked, for its fingerprint: every text field as sent, the file by
    SHA-256, name and declared content type (never its bytes), and `extra` (e.g. query
    parameters). The caller hashes the file as it reads it, once."""
    payload: dict[str, Any] = dict(extra)
    for field in dataclasses.fields(form):
        value = getattr(form, field.name)
        if isinstance(value, UploadFile):
            value = {
                "sha256": file_sha256,
                "filename": value.filename,
                "content_type": value.content_type,
            }
        payload[field.name] = value
    return payload


def encode_json(value: Any) -> bytes:
    return msgspec.json.encode(value)


def reply_response(reply: Reply[Any], background: BackgroundTask | None = None) -> Response[Any]:
    """The stored or fresh answer; `background` runs only after a fresh one (a replay
    changes nothing, so starts nothing)."""
    headers = {REPLAYED_HEADER: "true"} if reply.replayed else {}
    return Response(
        reply.body,
        status_code=reply.status_code,
        media_type=MediaType.JSON,
        headers=headers,
        background=None if reply.replayed else background,
    )
