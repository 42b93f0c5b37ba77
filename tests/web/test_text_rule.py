"""The text rule holds by construction: no route takes a plain `str` from a client.

Walks every route handler's parameters (body, query, path), into structs,
dataclasses, lists and unions, and fails on a string that is not declared with one of
the types in schemas/text.py.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import date, datetime
from uuid import UUID

import msgspec
import pytest
from litestar import Litestar
from litestar.datastructures import UploadFile
from litestar.params import HeaderParameter
from litestar.routes import HTTPRoute

from schemas.text import TEXT_PATTERNS
from service.app import create_app
from service.config import Settings
from service.web.params import RFC3339_PATTERN

# An RFC 3339 instant admits only ASCII digits, letters T and Z, and punctuation: stricter than the rule.
PARAMETER_PATTERNS = TEXT_PATTERNS | {RFC3339_PATTERN}
LEAVES = (int, float, bool, bytes, date, datetime, UUID, UploadFile, type(None))


def _is_text(annotation) -> bool:
    if typing.get_origin(annotation) is not typing.Annotated:
        return False
    base, *extras = typing.get_args(annotation)
    return base is str and any(isinstance(e, msgspec.Meta) and e.pattern in TEXT_PATTERNS for e in extras)


def plain_strings(annotation, where: str, seen: set) -> list[str]:
    """Every place under `annotation` where a plain `str` would be accepted."""
    if _is_text(annotation):
        return []
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return plain_strings(typing.get_args(annotation)[0], where, seen)
    if annotation is str:
        return [where]
    if origin is typing.Literal or annotation in LEAVES or annotation is typing.Any:
        return []
    if origin in (typing.Union, types.UnionType, list, tuple, set, frozenset, dict):
        found = []
        for i, arg in enumerate(a for a in typing.get_args(annotation) if a is not Ellipsis):
            found += plain_strings(arg, f"{where}[{i}]" if origin is dict else where, seen)
        return found
    if isinstance(annotation, type) and (
        issubclass(annotation, msgspec.Struct) or dataclasses.is_dataclass(annotation)
    ):
        if annotation in seen:
            return []
        seen.add(annotation)
        hints = typing.get_type_hints(annotation, include_extras=True)
        return [
            p
            for name, hint in hints.items()
            if not name.startswith("_")
            for p in plain_strings(hint, f"{where}.{name}", seen)
        ]
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct | int | str):
        return [] if not issubclass(annotation, str) else [where]
    return []


def client_inputs(app: Litestar):
    dependencies = set(app.dependencies)
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            names = dependencies | set(handler.resolve_dependencies())
            if route.path.startswith("/schema"):
                continue  # Litestar's own OpenAPI pages
            for name, field in handler.parsed_fn_signature.parameters.items():
                if name in names or name in {"request", "state", "scope", "self"}:
                    continue
                if isinstance(field.kwarg_definition, HeaderParameter):
                    continue  # the HTTP parser refuses control characters in header values
                if getattr(field.kwarg_definition, "pattern", None) in PARAMETER_PATTERNS:
                    continue  # a query or path parameter declared under the rule (service/web/params.py)
                yield f"{sorted(handler.http_methods)[0]} {route.path} {name}", field.raw


@pytest.fixture(scope="module")
def bare_app(tmp_path_factory):
    return create_app(Settings(database_url=None, data_dir=tmp_path_factory.mktemp("data")))


def test_no_route_takes_a_plain_string(bare_app):
    offenders = [p for where, annotation in client_inputs(bare_app) for p in plain_strings(annotation, where, set())]
    assert offenders == []


class Inner(msgspec.Struct):
    note: str


class Outer(msgspec.Struct):
    items: list[Inner]
    tag: str | None = None


def test_the_walk_finds_a_plain_string():
    assert plain_strings(Outer, "data", set()) == ["data.items.note", "data.tag"]
