"""Every route declares who may call it; the rule is enforced the same way everywhere."""

from __future__ import annotations

import uuid

from litestar.routes import HTTPRoute

from service.app import create_app
from service.config import Settings
from service.web.access import PUBLIC


def all_handlers(app):
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                yield route.path, handler


def test_every_route_declares_an_access_rule(tmp_path):
    app = create_app(Settings(data_dir=tmp_path, log_format="json"))
    undeclared = []
    for path, handler in all_handlers(app):
        rule = handler.opt.get("access")
        if not (rule == PUBLIC or (isinstance(rule, frozenset) and rule)):
            undeclared.append(f"{sorted(handler.http_methods)} {path}")
    assert not undeclared, f"routes without an access rule: {undeclared}"
    paths = {path for path, _ in all_handlers(app)}
    assert "/api/v1/vendors" in paths and "/schema/openapi.json" in paths


async def test_no_token_is_401_with_the_error_body(client):
    response = await client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    body = response.json()
    assert body["error"]["code"] == "unauthenticated"
    assert body["request_id"] == response.headers["x-request-id"]


async def test_unknown_and_malformed_tokens_are_401(client):
    for header in ("Bearer sg_nottherealtoken", "Basic abc", "Bearer ", "sg_xyz"):
        response = await client.get("/api/v1/me", headers={"Authorization": header})
        assert response.status_code == 401, header


async def test_wrong_role_is_403(client, accounts):
    school = await accounts.headers("school", region_code="360104", school_code="2136010401")
    response = await client.post("/api/v1/vendors", json={}, headers=school)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "role_not_allowed"


async def test_revoked_token_stops_working_at_once(client, accounts):
    headers = await accounts.headers("reviewer", region_code="360100")
    me = await client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200
    assert me.json()["role"] == "reviewer" and me.json()["region_code"] == "360100"
    assert (await client.delete("/api/v1/tokens/current", headers=headers)).status_code == 204
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 401


async def test_tokens_are_stored_only_as_hashes(db, accounts):
    from sqlmodel import select

    from service.accounts.models import ApiToken
    from service.accounts.services import hash_token

    headers = await accounts.headers("admin")
    token = headers["Authorization"].split()[1]
    async with db.transaction() as session:
        rows = (await session.exec(select(ApiToken))).all()
    assert [row.token_hash for row in rows] == [hash_token(token)]
    assert all(token not in str(row.model_dump()) for row in rows)


async def test_objects_of_another_scope_and_missing_ones_look_the_same(client, accounts):
    """No existence oracle, on every object route."""
    admin = await accounts.headers("admin")
    from tests.factories import vendor_payload

    vendor_id = (await client.post("/api/v1/vendors", json=vendor_payload(region_code="360402"), headers=admin)).json()[
        "id"
    ]
    outsider = await accounts.headers("reviewer", region_code="360104")
    for template in ("/api/v1/vendors/{}", "/api/v1/vendors/{}/documents"):
        real = await client.get(template.format(vendor_id), headers=outsider)
        fake = await client.get(template.format(uuid.uuid4()), headers=outsider)
        assert real.status_code == fake.status_code == 404
        assert real.json()["error"] == fake.json()["error"]


async def test_preflight_is_answered(client):
    response = await client.options("/api/v1/vendors")
    assert response.status_code == 204
    assert "OPTIONS" in response.headers["allow"]
