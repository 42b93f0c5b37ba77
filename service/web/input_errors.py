"""Document, on every route, the errors its input can produce at the edge.

A route that takes parameters or a body can answer 400 (malformed or too deeply nested
JSON) and 422 (the text rule, bounds, dates); one with a JSON body also 415 (another
content type). Litestar documents its own 400 body for such routes; ours replaces it,
since every error leaves as `ErrorBody` (service/web/errors.py).
"""

from __future__ import annotations

from litestar import Litestar
from litestar.enums import RequestEncodingType
from litestar.openapi import ResponseSpec
from litestar.params import BodyKwarg
from litestar.routes import HTTPRoute

from schemas.errors import ErrorBody

INPUT_ERRORS = {400: "请求格式错误（如 JSON 无法解析或嵌套过深）", 422: "数据校验失败"}
JSON_BODY_ERRORS = {415: "请求体须为 JSON"}
NOT_INPUT = {"request", "state", "scope", "headers", "cookies"}


def document_input_errors(app: Litestar) -> None:
    dependencies = set(app.dependencies)
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            skip = dependencies | set(handler.resolve_dependencies()) | NOT_INPUT
            inputs = {name: field for name, field in handler.parsed_fn_signature.parameters.items() if name not in skip}
            if not inputs:
                continue
            errors = dict(INPUT_ERRORS)
            if "data" in inputs and _is_json(inputs["data"].kwarg_definition):
                errors |= JSON_BODY_ERRORS
            responses = dict(handler.responses or {})
            for status, text in errors.items():
                responses.setdefault(status, ResponseSpec(data_container=ErrorBody, description=text))
            handler.responses = responses


def _is_json(kwarg_definition) -> bool:
    return not isinstance(kwarg_definition, BodyKwarg) or kwarg_definition.media_type == RequestEncodingType.JSON
