"""One error body everywhere, request ids on every response, nothing personal in logs."""

from __future__ import annotations

import json

from tests.factories import vendor_payload


def assert_error_shape(response, status: int, code: str | None = None):
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error", "request_id"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["request_id"] == response.headers["x-request-id"]
    if code:
        assert body["error"]["code"] == code
    return body


async def test_unknown_route_and_method(client):
    assert_error_shape(await client.get("/api/v1/nothing-here"), 404, "not_found")
    assert_error_shape(await client.put("/healthz"), 405, "method_not_allowed")


async def test_malformed_json_is_400(client, accounts):
    headers = {**await accounts.headers("admin"), "Content-Type": "application/json"}
    response = await client.post("/api/v1/vendors", content=b"{not json", headers=headers)
    assert_error_shape(response, 400, "malformed_request")


async def test_a_good_incoming_request_id_is_kept_and_a_bad_one_replaced(client):
    kept = await client.get("/healthz", headers={"X-Request-ID": "abcdef12-3456"})
    assert kept.headers["x-request-id"] == "abcdef12-3456"
    replaced = await client.get("/healthz", headers={"X-Request-ID": "<script>"})
    assert replaced.headers["x-request-id"] != "<script>"
    assert len(replaced.headers["x-request-id"]) == 32


async def test_logs_carry_request_ids_but_no_tokens_bodies_or_names(client, accounts, capsys):
    payload = vendor_payload(contact_name="欧阳娜娜", legal_representative="司马相如", contact_phone="13912345678")
    headers = await accounts.headers("admin")
    capsys.readouterr()
    response = await client.post("/api/v1/vendors", json=payload, headers=headers)
    assert response.status_code == 201
    await client.post("/api/v1/vendors", json=payload, headers=headers)  # 409, an error path
    logged = capsys.readouterr().err
    lines = [json.loads(line) for line in logged.splitlines() if line.startswith("{")]
    assert any(line.get("request_id") == response.headers["x-request-id"] for line in lines)
    token = headers["Authorization"].split()[1]
    for secret in (token, "欧阳娜娜", "司马相如", "13912345678", payload["address"]):
        assert secret not in logged


async def test_openapi_is_complete_and_offline(client):
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert spec["openapi"].startswith("3.1")
    assert spec["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"
    register = spec["paths"]["/api/v1/vendors"]["post"]
    assert register["security"] == [{"BearerToken": []}]
    for status in ("401", "403", "409", "422"):
        assert status in register["responses"], status
    assert "security" not in spec["paths"]["/healthz"]["get"]
