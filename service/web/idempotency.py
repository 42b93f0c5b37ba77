"""The HTTP side of idempotency: read the `Idempotency-Key` header, fingerprint the
request, and turn a stored or fresh reply into the response.

Every POST that creates or transitions uses these three pieces:

    key = idempotency_key(request, actor, idempotency_header, data)
    reply = await services.something(..., idempotency=Idempotency(key, encode_json, 201))
    return reply_response(reply)
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import MediaType, Request, Response
from litestar.params import HeaderParameter

from service.idempotency.services import IdempotencyKey, Reply, check_key, fingerprint
from service.security.actor import Actor

IdempotencyHeader = Annotated[
    str | None,
    HeaderParameter(name="Idempotency-Key", required=False,
                    description="重试安全：同一账号以同一个键重发相同请求，返回首次的结果且不重复执行"),
]
IfMatchHeader = Annotated[
    str | None,
    HeaderParameter(name="If-Match", required=False, description="该申请的版本号（与请求体中的 version 二选一）"),
]
REPLAYED_HEADER = "Idempotent-Replayed"


def idempotency_key(request: Request, actor: Actor, header: str | None, payload: Any,
                    preconditions: dict[str, str | None] | None = None) -> IdempotencyKey | None:
    if header is None or actor.account_id is None:
        return None
    return IdempotencyKey(
        account_id=actor.account_id,
        key=check_key(header.strip()),
        fingerprint=fingerprint(request.method, request.url.path, msgspec.to_builtins(payload), preconditions),
    )


def encode_json(value: Any) -> bytes:
    return msgspec.json.encode(value)


def reply_response(reply: Reply[Any]) -> Response[Any]:
    headers = {REPLAYED_HEADER: "true"} if reply.replayed else {}
    return Response(reply.body, status_code=reply.status_code, media_type=MediaType.JSON, headers=headers)
