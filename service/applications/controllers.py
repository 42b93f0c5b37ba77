"""HTTP for entry applications, objections and the public notice board."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, Request, Response, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from schemas.applications import (
    ApplicationCreate,
    ApplicationOut,
    ApplicationPage,
    ApplicationPatch,
    Checks,
    DocumentRefOut,
    HistoryActor,
    HistoryOut,
    ItemOut,
    NoticeItemOut,
    NoticeOut,
    NoticePage,
    ObjectionCreate,
    ObjectionOut,
    ObjectionResolution,
    QueueItemOut,
    TransitionRequest,
    WhitelistEntryOut,
)
from service.applications import objections, queries, services, view
from service.applications.models import Objection
from service.applications.rules import WORKFLOWS, parse_version
from service.idempotency import Idempotency
from service.regions import regions
from service.security import Role
from service.service_items import CATEGORIES
from service.timeutil import CHINA_TZ
from service.web.access import ANY_ROLE, access, public
from service.web.deps import DB, CurrentActor
from service.web.idempotency import (
    IdempotencyHeader,
    IfMatchHeader,
    encode_json,
    idempotency_key,
    reply_response,
)
from service.web.params import QueryText
from workflows.entry_review import STATE_LABELS

READERS = (Role.VENDOR, Role.REVIEWER, Role.AUDITOR, Role.ADMIN)
Limit = Annotated[int, QueryParameter(ge=1, le=200)]


def _region_name(code: str) -> str:
    region = regions().get(code)
    return region.name if region else code


def objection_out(
    objection: Objection, show_objector: bool, stage: str | None = None, version: int | None = None
) -> ObjectionOut:
    return ObjectionOut(
        id=objection.id,
        application_id=objection.application_id,
        status=objection.status,
        reason=objection.reason,
        filed_at=objection.filed_at,
        filed_by=objection.filed_by if show_objector else None,
        resolved_at=objection.resolved_at,
        resolution_reason=objection.resolution_reason,
        application_stage=stage,
        application_version=version,
    )


def application_out(view: view.ApplicationView) -> ApplicationOut:
    app, workflow = view.application, WORKFLOWS[view.application.workflow]
    return ApplicationOut(
        id=app.id,
        number=app.number,
        vendor_id=app.vendor_id,
        vendor_name=view.vendor.name,
        vendor_credit_code=view.vendor.credit_code,
        region_code=app.region_code,
        region_name=_region_name(app.region_code),
        workflow=app.workflow,
        stage=app.stage,
        stage_label=STATE_LABELS.get(app.stage, app.stage),
        version=app.version,
        stage_entered_at=app.stage_entered_at,
        time_in_stage_seconds=max(0, int((view.now - app.stage_entered_at).total_seconds())),
        created_at=app.created_at,
        submitted_at=app.submitted_at,
        notice_started_at=app.notice_started_at,
        notice_ends_at=app.notice_ends_at,
        notice_paused_at=app.notice_paused_at,
        preliminary_reviewer_id=app.preliminary_reviewer_id,
        service_items=[
            ItemOut(
                id=i.id,
                category_code=i.category_code,
                category_name=CATEGORIES.get(i.category_code, ""),
                activity=i.activity,
                description=i.description,
                grade_bands=list(i.grade_bands),
                fee=i.fee,
                fee_unit=i.fee_unit,
                max_class_size=i.max_class_size,
                venue=i.venue,
                personnel_ids=list(i.personnel_ids),
            )
            for i in view.items
        ],
        documents=[
            DocumentRefOut(
                id=ref.document.id,
                doc_type=ref.document.doc_type,
                number=ref.document.number,
                sha256=ref.document.sha256,
                valid_until=ref.document.valid_until,
                status=ref.status,
            )
            for ref in view.documents
        ],
        checks=Checks(**view.checks),
        allowed_actions=list(view.allowed_actions),
        history=[
            HistoryOut(
                version=h.change.version,
                action=h.change.action,
                action_label=workflow.action_label(h.change.action),
                from_stage=h.change.from_stage,
                to_stage=h.change.to_stage,
                actor=HistoryActor(account_id=h.change.actor_account_id, name=h.actor_name, role=h.change.actor_role),
                at=h.change.occurred_at,
                reason=h.change.reason,
                evidence=list(h.change.evidence),
            )
            for h in view.history
        ],
        objections=[objection_out(o, view.show_objectors) for o in view.objections],
        whitelist_entries=[
            WhitelistEntryOut(
                id=e.id,
                service_item_id=e.service_item_id,
                region_code=e.region_code,
                status=e.status,
                valid_from=e.valid_from,
                valid_until=e.valid_until,
                fee=e.fee,
                fee_unit=e.fee_unit,
                fee_published_on=e.fee_published_on,
            )
            for e in view.whitelist_entries
        ],
    )


def encode_application(view: view.ApplicationView) -> bytes:
    return encode_json(application_out(view))


def encode_objection(result: objections.ObjectionResult) -> bytes:
    return encode_json(
        objection_out(result.objection, result.show_objector, result.application_stage, result.application_version)
    )


class ApplicationController(Controller):
    path = "/api/v1/applications"
    tags = ["applications"]

    @post("/", **access(Role.VENDOR, errors=(404, 422)))
    async def create(
        self,
        request: Request,
        db: DB,
        actor: CurrentActor,
        data: JSONBody[ApplicationCreate],
        idempotency: IdempotencyHeader = None,
    ) -> Response[ApplicationOut]:
        """Draft an application of the caller's vendor to a county or city bureau."""
        key = idempotency_key(request, actor, idempotency, data)
        reply = await services.create_application(
            db,
            actor,
            services.ApplicationInput(
                vendor_id=data.vendor_id,
                region_code=data.region_code,
                service_item_ids=list(data.service_item_ids),
                document_ids=list(data.document_ids),
            ),
            idempotency=Idempotency(key, encode_application, 201),
        )
        return reply_response(reply)

    @get("/", **access(*READERS, errors=(422,)))
    async def list_applications(
        self,
        db: DB,
        actor: CurrentActor,
        stage: QueryText = None,
        region: QueryText = None,
        cursor: QueryText = None,
        limit: Limit = 50,
    ) -> ApplicationPage:
        """The reviewer queue: applications in scope, the longest-waiting in its stage first."""
        page = await queries.list_applications(db, actor, stage=stage, region_code=region, limit=limit, cursor=cursor)
        return ApplicationPage(
            items=[
                QueueItemOut(
                    id=row.application.id,
                    number=row.application.number,
                    vendor_id=row.vendor.id,
                    vendor_name=row.vendor.name,
                    region_code=row.application.region_code,
                    region_name=_region_name(row.application.region_code),
                    stage=row.application.stage,
                    stage_label=STATE_LABELS.get(row.application.stage, row.application.stage),
                    version=row.application.version,
                    item_count=row.item_count,
                    submitted_at=row.application.submitted_at,
                    stage_entered_at=row.application.stage_entered_at,
                    time_in_stage_seconds=row.time_in_stage_seconds,
                    notice_ends_at=row.application.notice_ends_at,
                )
                for row in page.items
            ],
            next_cursor=page.next_cursor,
        )

    @get("/{application_id:uuid}", **access(*READERS, errors=(404,)))
    async def get_application(
        self, db: DB, actor: CurrentActor, application_id: FromPath[UUID]
    ) -> Response[ApplicationOut]:
        """Stage, version (also as `ETag`), the actions the caller may take now, and the history."""
        out = application_out(await services.get_application(db, actor, application_id))
        return Response(out, headers={"ETag": f'"{out.version}"'})

    @patch("/{application_id:uuid}", **access(Role.VENDOR, errors=(404, 409, 422)))
    async def edit(
        self,
        db: DB,
        actor: CurrentActor,
        application_id: FromPath[UUID],
        data: JSONBody[ApplicationPatch],
        if_match: IfMatchHeader = None,
    ) -> ApplicationOut:
        """Change a draft or returned application (`version` or `If-Match` required)."""
        view = await services.edit_application(
            db,
            actor,
            application_id,
            services.ApplicationChanges(
                region_code=data.region_code,
                service_item_ids=list(data.service_item_ids) if data.service_item_ids is not None else None,
                document_ids=list(data.document_ids) if data.document_ids is not None else None,
            ),
            parse_version(data.version, if_match),
        )
        return application_out(view)

    @post(
        "/{application_id:uuid}/transitions",
        status_code=200,
        **access(Role.VENDOR, Role.REVIEWER, errors=(404, 409, 422)),
    )
    async def transition(
        self,
        request: Request,
        db: DB,
        actor: CurrentActor,
        application_id: FromPath[UUID],
        data: JSONBody[TransitionRequest],
        if_match: IfMatchHeader = None,
        idempotency: IdempotencyHeader = None,
    ) -> Response[ApplicationOut]:
        """Take a workflow action. 409 `version_conflict` when `version` is stale, 409
        `transition_not_allowed` (with the allowed actions) when the table has no such
        step for the caller now, 403 `four_eyes_violation` / `vendor_cannot_review`."""
        version = parse_version(data.version, if_match)
        key = idempotency_key(request, actor, idempotency, data, {"if_match": if_match})
        reply = await services.transition(
            db,
            actor,
            application_id,
            action=data.action,
            reason=data.reason,
            version=version,
            idempotency=Idempotency(key, encode_application, 200),
        )
        return reply_response(reply)

    @post("/{application_id:uuid}/objections", **access(*sorted(ANY_ROLE), errors=(404, 409, 422)))
    async def object(
        self,
        request: Request,
        db: DB,
        actor: CurrentActor,
        application_id: FromPath[UUID],
        data: JSONBody[ObjectionCreate],
        idempotency: IdempotencyHeader = None,
    ) -> Response[ObjectionOut]:
        """Object to an application in public notice, with a reason; the notice pauses."""
        key = idempotency_key(request, actor, idempotency, data)
        reply = await objections.file_objection(
            db, actor, application_id, data.reason, idempotency=Idempotency(key, encode_objection, 201)
        )
        return reply_response(reply)


class ObjectionController(Controller):
    path = "/api/v1/objections"
    tags = ["applications"]

    @post("/{objection_id:uuid}/resolution", status_code=200, **access(Role.REVIEWER, errors=(404, 409, 422)))
    async def resolve(
        self,
        request: Request,
        db: DB,
        actor: CurrentActor,
        objection_id: FromPath[UUID],
        data: JSONBody[ObjectionResolution],
        if_match: IfMatchHeader = None,
        idempotency: IdempotencyHeader = None,
    ) -> Response[ObjectionOut]:
        """`upheld`: back to the deciding review; `dismissed`: the notice resumes when no
        objection is left open. Needs the application's `version` (or `If-Match`)."""
        version = parse_version(data.version, if_match)
        key = idempotency_key(request, actor, idempotency, data, {"if_match": if_match})
        reply = await objections.resolve_objection(
            db,
            actor,
            objection_id,
            outcome=data.outcome,
            reason=data.reason,
            version=version,
            idempotency=Idempotency(key, encode_objection, 200),
        )
        return reply_response(reply)


class PublicNoticeController(Controller):
    path = "/api/v1/public/notices"
    tags = ["public"]

    @get("/", **public(errors=(422,)))
    async def list_notices(
        self, db: DB, region: QueryText = None, cursor: QueryText = None, limit: Limit = 50
    ) -> NoticePage:
        """公示: applications in public notice, with vendor, items, grades, fees and end date."""
        page = await queries.public_notices(db, region_code=region, limit=limit, cursor=cursor)
        return NoticePage(
            items=[
                NoticeOut(
                    application_id=n.application.id,
                    vendor_name=n.vendor.name,
                    vendor_credit_code=n.vendor.credit_code,
                    region_code=n.application.region_code,
                    region_name=_region_name(n.application.region_code),
                    status="in_notice" if n.application.stage == "public_notice" else "paused",
                    notice_started_at=n.started_at,
                    notice_ends_at=n.application.notice_ends_at if n.application.stage == "public_notice" else None,
                    notice_ends_on=(
                        n.application.notice_ends_at.astimezone(CHINA_TZ).date()
                        if n.application.stage == "public_notice" and n.application.notice_ends_at
                        else None
                    ),
                    service_items=[
                        NoticeItemOut(
                            category_code=i.category_code,
                            category_name=CATEGORIES.get(i.category_code, ""),
                            activity=i.activity,
                            grade_bands=list(i.grade_bands),
                            fee=i.fee,
                            fee_unit=i.fee_unit,
                            max_class_size=i.max_class_size,
                            venue=i.venue,
                        )
                        for i in n.items
                    ],
                )
                for n in page.items
            ],
            next_cursor=page.next_cursor,
        )
