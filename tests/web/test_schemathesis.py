"""Schemathesis against the app's own OpenAPI, on the real database, as every role.

For each operation a few cases are generated (valid ones, and ones that break the
schema), then each case is sent by each role and by an anonymous caller. No answer
may be a 5xx, and every answer must be one the document declares, with the declared
content type, headers and body schema. Examples per operation are bounded so that the
whole run stays near a minute on the project's two-core machine.
"""

from __future__ import annotations

import hypothesis
import hypothesis.errors
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import credit_code

CASES_PER_MODE = 6  # per operation, valid and invalid: each sent by all six callers
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Litestar's own documentation pages, not our API.
SKIPPED_PATHS = ("/schema",)
REVOKE_TOKEN_PATH = "/api/v1/tokens/current"


def generated_cases(operation, mode: GenerationMode, count: int) -> list:
    cases = []

    @hypothesis.settings(
        max_examples=count,
        database=None,
        deadline=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def collect(case):
        cases.append(case)

    try:
        collect()
    except hypothesis.errors.Unsatisfiable:
        pass  # no invalid case exists (an operation without parameters or body)
    return cases[:count]


def as_httpx(kwargs: dict) -> dict:
    """The requests-style arguments Schemathesis serialises to, for httpx."""
    kwargs.pop("cookies", None)
    files = kwargs.pop("files", None)
    out = {k: kwargs[k] for k in ("method", "url", "headers", "params") if k in kwargs}
    if "json" in kwargs:
        out["json"] = kwargs["json"]
    if files is not None:
        out["files"] = [
            (name, _file_part(part)) for name, part in (files.items() if isinstance(files, dict) else files)
        ]
        if isinstance(kwargs.get("data"), dict):
            out["data"] = kwargs["data"]
    elif "data" in kwargs:
        data = kwargs["data"]
        out["content" if isinstance(data, (bytes, str)) else "data"] = data
    return out


def _file_part(part):
    """Generated invalid parts may be numbers or nulls: httpx sends only text or bytes."""
    if isinstance(part, tuple):
        return (part[0], _file_part(part[1]), *part[2:])
    return part if isinstance(part, (bytes, str)) else str(part)


@pytest.fixture
async def callers(accounts) -> dict[str, dict]:
    code = credit_code()
    return {
        "anonymous": {},
        "vendor": await accounts.headers("vendor", vendor_credit_code=code),
        "school": await accounts.headers("school", region_code="360104", school_code="2136010401"),
        "reviewer": await accounts.headers("reviewer", region_code="360104"),
        "auditor": await accounts.headers("auditor", region_code="360000"),
        "admin": await accounts.headers("admin"),
    }


async def test_no_operation_answers_5xx_or_off_schema(client, callers):
    spec = (await client.get("/schema/openapi.json")).json()
    schema = schemathesis.openapi.from_dict(spec)
    failures, sent, statuses = [], 0, {}
    operations = [result.ok() for result in schema.get_all_operations()]
    operations = [op for op in operations if not op.path.startswith(SKIPPED_PATHS)]
    # Revoking one's own token ends the caller's session: run it after everything else.
    operations.sort(key=lambda op: op.method.upper() == "DELETE" and op.path == REVOKE_TOKEN_PATH)
    assert len(operations) > 50
    for operation in operations:
        cases = [
            case
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
            for case in generated_cases(operation, mode, CASES_PER_MODE)
        ]
        for case in cases:
            for role, headers in callers.items():
                kwargs = as_httpx(case.as_transport_kwargs(base_url="http://testserver"))
                kwargs["headers"] = {**(kwargs.get("headers") or {}), **headers}
                if role == "anonymous":
                    kwargs["headers"].pop("Authorization", None)
                response = await client.request(**kwargs)
                sent += 1
                statuses[(role, response.status_code)] = statuses.get((role, response.status_code), 0) + 1
                response.request.read()  # multipart bodies stream; Schemathesis reads the request back
                try:
                    case.validate_response(response, checks=CHECKS)
                except (AssertionError, BaseExceptionGroup) as error:
                    found = getattr(error, "exceptions", [error])
                    failures.append(
                        f"{role} {operation.method.upper()} {operation.path}: {response.status_code} "
                        + "; ".join(" ".join(str(f).split())[:200] for f in found)
                    )
    print(f"schemathesis: {len(operations)} operations, {sent} requests, by role and status:", sorted(statuses.items()))
    assert sent >= len(operations) * len(callers)
    assert failures == [], "\n".join(sorted(set(failures))[:60])
