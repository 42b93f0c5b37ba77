"""The renderer's bounds, through HTTP: a render over its time limit is a 503 and leaves no
stuck worker; a document over the size bound is refused before rendering; the same data
and instant give the same bytes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import httpx
import pytest

from service.app import create_app
from service.printing import lists, publications, render
from tests.whitelist.conftest import WhitelistWorld


@pytest.fixture
def bounded(db, settings, accounts):
    """A world whose app renders with a tiny time limit and a two-row size bound."""

    def make(**limits):
        app = create_app(replace(settings, **limits), db=db)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
        return app, client, WhitelistWorld(client, accounts, db)

    return make


async def test_a_render_over_its_time_limit_is_503_and_the_next_one_works(bounded):
    app, client, wl = bounded(render_timeout_seconds=0.001)
    async with client:
        await wl.approved()
        slow = await client.get("/api/v1/public/whitelist.pdf")
        assert slow.status_code == 503, slow.text
        assert slow.json()["error"]["code"] == "render_unavailable"
    app, client, wl = bounded(render_timeout_seconds=60)
    async with client:
        fine = await client.get("/api/v1/public/whitelist.pdf")
        assert fine.status_code == 200 and fine.content.startswith(b"%PDF-")


async def test_a_document_over_the_size_bound_is_refused_before_rendering(bounded, monkeypatch):
    app, client, wl = bounded(document_max_rows=1)
    rendered = []
    monkeypatch.setattr("service.printing.publications.render", lambda job: rendered.append(job))
    async with client:
        await wl.approved()  # two items: two rows
        response = await client.get("/api/v1/public/whitelist.pdf")
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == "document_too_large"
        assert rendered == []
    bounded(document_max_rows=5000)  # the next app of this process starts from the default again


async def test_the_same_data_and_instant_give_the_same_bytes(wl, app_signer):
    await wl.approved()
    at = datetime(2026, 12, 7, 2, 30, tzinfo=UTC)
    content = (await lists.whitelist(wl.db, app_signer, region="360104", category=None, now=at)).served["document"]
    content = {k: v for k, v in content.items() if k != "as_of"}

    def job(instant):
        publication = publications.issue(app_signer, "whitelist", "region=360104&category=", content, instant)
        return publication, lists.whitelist_job(publication, region="360104", category=None)

    (first, first_job), (second, second_job) = job(at), job(at)
    assert first.served == second.served
    assert await render(first_job) == await render(second_job)
    later, later_job = job(datetime(2026, 12, 7, 2, 31, tzinfo=UTC))
    assert later.content_hash == first.content_hash and later.served != first.served
    assert await render(later_job) != await render(first_job)
