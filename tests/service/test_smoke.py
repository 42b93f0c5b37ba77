async def test_healthz(client):
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert (
        response.json() == {"status": "ok", "database": None, "schema_revision": None}
        or response.json()["status"] == "ok"
    )
    assert response.headers["x-request-id"]


async def test_readyz(client):
    response = await client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ok"
