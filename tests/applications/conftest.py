"""A small world for application tests: vendors with documents and items, reviewers
at each level, and shortcuts to drive an application through the workflow by HTTP."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import func, select, text

from service.audit.models import AuditEvent
from tests.factories import PDF, document_form, service_item_payload, vendor_payload

_docs = itertools.count(1)


@dataclass
class VendorHandle:
    id: str
    credit_code: str
    name: str
    headers: dict[str, str]
    documents: list[dict] = field(default_factory=list)
    items: list[dict] = field(default_factory=list)


class World:
    def __init__(self, client, accounts, db) -> None:
        self.client, self.accounts, self.db = client, accounts, db
        self._reviewers: dict[str, dict[str, str]] = {}

    async def vendor(self, region_code: str = "360104", *, items: int = 2, **overrides) -> VendorHandle:
        payload = vendor_payload(region_code=region_code, **overrides)
        headers = await self.accounts.headers("vendor", vendor_credit_code=payload["credit_code"])
        created = await self.client.post("/api/v1/vendors", json=payload, headers=headers)
        assert created.status_code == 201, created.text
        vendor = VendorHandle(created.json()["id"], payload["credit_code"], payload["name"], headers)
        vendor.documents.append(await self.document(vendor))
        for index in range(items):
            vendor.items.append(await self.item(vendor, activity=f"少儿机器人编程 {index + 1}", fee=3000 + 500 * index))
        return vendor

    async def document(self, vendor: VendorHandle, **form) -> dict:
        form.setdefault("number", f"NC-{next(_docs):06d}")
        response = await self.client.post(
            f"/api/v1/vendors/{vendor.id}/documents",
            headers=vendor.headers,
            data=document_form(**form),
            files={"file": ("licence.pdf", PDF + form["number"].encode(), "application/pdf")},
        )
        assert response.status_code == 201, response.text
        return response.json()

    async def item(self, vendor: VendorHandle, **overrides) -> dict:
        response = await self.client.post(
            f"/api/v1/vendors/{vendor.id}/service-items", json=service_item_payload(**overrides), headers=vendor.headers
        )
        assert response.status_code == 201, response.text
        return response.json()

    async def reviewer(self, region_code: str, name: str = "") -> dict[str, str]:
        """A new reviewer account each call (several people at one bureau)."""
        return await self.accounts.headers("reviewer", region_code=region_code)

    async def application(self, vendor: VendorHandle, region_code: str = "360104", **overrides) -> dict:
        payload = {
            "vendor_id": vendor.id,
            "region_code": region_code,
            "service_item_ids": [i["id"] for i in vendor.items],
            "document_ids": [d["id"] for d in vendor.documents],
        } | overrides
        response = await self.client.post("/api/v1/applications", json=payload, headers=vendor.headers)
        assert response.status_code == 201, response.text
        return response.json()

    async def get(self, application_id: str, headers: dict[str, str]) -> dict:
        response = await self.client.get(f"/api/v1/applications/{application_id}", headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    def act(
        self,
        application: dict | str,
        headers: dict[str, str],
        action: str,
        *,
        version: int | None = None,
        reason: str | None = None,
        **extra,
    ):
        """POST a transition; `version` defaults to the version of the dict passed."""
        application_id = application if isinstance(application, str) else application["id"]
        if version is None and isinstance(application, dict):
            version = application["version"]
        body: dict[str, Any] = {"action": action, "version": version}
        if reason is not None:
            body["reason"] = reason
        return self.client.post(
            f"/api/v1/applications/{application_id}/transitions",
            json=body,
            headers=headers | extra.get("extra_headers", {}),
        )

    async def step(self, application: dict, headers: dict[str, str], action: str, reason: str | None = None) -> dict:
        response = await self.act(application, headers, action, reason=reason)
        assert response.status_code == 200, response.text
        return response.json()

    async def to_final_review(self, vendor: VendorHandle, county: dict, **create) -> dict:
        app = await self.application(vendor, **create)
        app = await self.step(app, vendor.headers, "submit")
        app = await self.step(app, county, "accept")
        app = await self.step(app, county, "pass_preliminary")
        return await self.step(app, county, "pass_verification")

    async def to_public_notice(self, vendor: VendorHandle, county: dict, city: dict, **create) -> dict:
        app = await self.to_final_review(vendor, county, **create)
        return await self.step(app, city, "approve", "材料真实齐全，人员核查无异常，同意公示")

    async def count(self, model) -> int:
        async with self.db.transaction() as session:
            return (await session.exec(select(func.count()).select_from(model))).one()[0]

    async def audit_actions(self, object_id: str | None = None) -> list[str]:
        query = select(AuditEvent.action).order_by(AuditEvent.id)
        if object_id:
            query = query.where(AuditEvent.object_id == object_id)
        async with self.db.transaction() as session:
            return [row[0] for row in (await session.exec(query)).all()]

    async def sql(self, statement: str, **params) -> Any:
        async with self.db.transaction() as session:
            return await session.exec(text(statement).bindparams(**params))

    async def end_notice_now(self, application_id: str) -> None:
        """Time travel: move the notice's end into the past, as if the days had gone by."""
        await self.sql(
            "UPDATE applications SET notice_ends_at = now() - interval '1 second' WHERE id = CAST(:id AS uuid)",
            id=application_id,
        )


@pytest.fixture
def world(client, accounts, db) -> World:
    return World(client, accounts, db)
