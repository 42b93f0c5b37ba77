"""HTTP for complaints: the signed-in and public filing, the public status, the bureau's handling."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, JSONBody, MultipartBody

from schemas.complaints import (
    ComplaintCreate,
    ComplaintLift,
    ComplaintList,
    ComplaintOut,
    ComplaintTransition,
    EvidenceOut,
    PublicComplaintCreate,
    PublicComplaintCreated,
    PublicComplaintStatus,
    SuspensionRequestOut,
)
from service.complaints import filing, services, views
from service.complaints.evidence import read_evidence_file
from service.complaints.models import CATEGORIES
from service.idempotency import Idempotency
from service.security import Role
from service.web.access import access, public
from service.web.deps import DB, AppSettings, CurrentActor, Keys, Storage
from service.web.files import file_response
from service.web.idempotency import (
    IdempotencyHeader,
    IfMatchHeader,
    encode_json,
    idempotency_key,
    public_idempotency_key,
    reply_response,
)
from service.web.params import PathText, QueryText

STAFF = (Role.REVIEWER, Role.AUDITOR, Role.ADMIN)
FILERS = (Role.SCHOOL, Role.VENDOR, Role.AUDITOR)


def complaint_out(view: views.ComplaintView) -> ComplaintOut:
    c, request = view.complaint, view.suspension_request
    return ComplaintOut(
        id=c.id,
        case_code=c.case_code,
        school_code=view.school_code,
        region_code=c.region_code,
        category=c.category,
        category_label=CATEGORIES[c.category],
        description=c.description,
        source=c.source,
        order_id=c.order_id,
        service_item_id=c.service_item_id,
        vendor_id=c.vendor_id,
        person_id=c.person_id,
        person_suspended=view.person_suspended,
        state=c.state,
        state_label=view.state_label,
        version=c.version,
        serious=c.serious,
        decision_reason=c.decision_reason,
        decided_at=c.decided_at,
        evidence=[
            EvidenceOut(
                id=e.id,
                sha256=e.sha256,
                size=e.size,
                content_type=e.content_type,
                filename=e.filename,
                created_at=e.created_at,
            )
            for e in view.evidence
        ],
        suspension_request=SuspensionRequestOut(
            id=request.id, action=request.action, status=request.status, entry_ids=list(request.entry_ids)
        )
        if request
        else None,
        allowed_actions=view.allowed_actions,
        created_at=c.created_at,
        updated_at=c.updated_at,
    )


@dataclass
class EvidenceForm:
    file: UploadFile


class ComplaintController(Controller):
    path = "/api/v1/complaints"
    tags = ["complaints"]

    @post("/", status_code=201, **access(*FILERS, errors=(404, 422)))
    async def file(
        self,
        request: Request,
        db: DB,
        actor: CurrentActor,
        data: JSONBody[ComplaintCreate],
        idempotency: IdempotencyHeader = None,
    ) -> Response[ComplaintOut]:
        """File a complaint about a school: its own (a school), one it serves (a vendor's
        account, naming only its own orders), one in scope (an inspector). Send
        `Idempotency-Key` to make a retry safe."""
        key = idempotency_key(request, actor, idempotency, data)
        reply = await filing.file_complaint(
            db,
            actor,
            data.school_code,
            filing.ComplaintInput(data.category, data.description, data.order_id, data.person_id),
            idempotency=Idempotency(key, lambda view: encode_json(complaint_out(view)), 201),
        )
        return reply_response(reply)

    @get("/", **access(*STAFF, errors=(404, 422)))
    async def list_complaints(
        self, db: DB, actor: CurrentActor, region: QueryText = None, status: QueryText = None
    ) -> ComplaintList:
        """Complaints about the schools of `region` (default: the caller's), oldest first;
        `status`: one workflow state (received, investigating, upheld, dismissed)."""
        found = await views.list_complaints(db, actor, region_code=region, state=status)
        return ComplaintList(items=[complaint_out(v) for v in found])

    @get("/{complaint_id:uuid}", **access(*FILERS, *STAFF, errors=(404,)))
    async def read(self, db: DB, actor: CurrentActor, complaint_id: FromPath[UUID]) -> ComplaintOut:
        return complaint_out(await views.get_complaint(db, actor, complaint_id))

    @post("/{complaint_id:uuid}/transitions", status_code=200, **access(Role.REVIEWER, errors=(404, 409, 422)))
    async def transition(
        self,
        db: DB,
        actor: CurrentActor,
        complaint_id: FromPath[UUID],
        data: JSONBody[ComplaintTransition],
        if_match: IfMatchHeader = None,
    ) -> ComplaintOut:
        """`investigate`, `uphold` (a reason; `serious: true` requests the suspension of
        the item or the vendor, which a second reviewer confirms), `dismiss` (a reason)."""
        decision = services.Decision(data.action, data.reason, data.serious, data.suspend)
        return complaint_out(
            await services.transition_complaint(
                db, actor, complaint_id, decision, version=data.version, if_match=if_match
            )
        )

    @post("/{complaint_id:uuid}/evidence", status_code=201, **access(Role.REVIEWER, errors=(404, 409, 413, 415, 422)))
    async def evidence(
        self,
        db: DB,
        storage: Storage,
        settings: AppSettings,
        actor: CurrentActor,
        complaint_id: FromPath[UUID],
        data: MultipartBody[EvidenceForm],
    ) -> ComplaintOut:
        """Attach a PDF, JPEG or PNG (recognised by content) to an open case."""
        content = await data.file.read(settings.max_upload_bytes + 1)
        return complaint_out(
            await services.add_evidence(
                db,
                storage,
                actor,
                complaint_id,
                content=content,
                filename=data.file.filename,
                max_bytes=settings.max_upload_bytes,
            )
        )

    @get(
        "/{complaint_id:uuid}/evidence/{evidence_id:uuid}",
        **access(*STAFF, errors=(404,)),
        media_type="application/octet-stream",
    )
    async def evidence_file(
        self, db: DB, storage: Storage, actor: CurrentActor, complaint_id: FromPath[UUID], evidence_id: FromPath[UUID]
    ) -> Response[bytes]:
        """An evidence file, for the bureau in scope (reviewers, inspectors, admins): as an
        attachment, its sniffed type, `nosniff`, never cached. Every read is audited
        (`complaints:evidence:read`)."""
        evidence, content = await read_evidence_file(db, storage, actor, complaint_id, evidence_id)
        return file_response(
            content,
            filename=evidence.filename,
            content_type=evidence.content_type,
            sha256=evidence.sha256,
            personal=True,
        )

    @post("/{complaint_id:uuid}/person-suspension", status_code=200, **access(Role.REVIEWER, errors=(404, 409, 422)))
    async def suspend_person(self, db: DB, actor: CurrentActor, complaint_id: FromPath[UUID]) -> ComplaintOut:
        """Suspend, pending the investigation, the named person's entry everywhere."""
        return complaint_out(await services.suspend_person_entry(db, actor, complaint_id))

    @post(
        "/{complaint_id:uuid}/person-suspension/lift", status_code=200, **access(Role.REVIEWER, errors=(404, 409, 422))
    )
    async def lift_person(
        self, db: DB, actor: CurrentActor, complaint_id: FromPath[UUID], data: JSONBody[ComplaintLift]
    ) -> ComplaintOut:
        """Lift the suspension this case opened (dismissing the case lifts it by itself)."""
        return complaint_out(await services.lift_person_entry(db, actor, complaint_id, data.reason))


class PublicComplaintController(Controller):
    path = "/api/v1/public"
    tags = ["public"]

    @post("/schools/{school_code:str}/complaints", status_code=201, **public(errors=(404, 422, 429)))
    async def file(
        self,
        request: Request,
        db: DB,
        keyring: Keys,
        school_code: PathText,
        data: JSONBody[PublicComplaintCreate],
        idempotency: IdempotencyHeader = None,
    ) -> Response[PublicComplaintCreated]:
        """A parent's complaint, no sign-in; rate limited per address and per school. Keep
        the `case_code` to follow the case. Send `Idempotency-Key` (a random UUID; at least
        16 characters, since anonymous callers share the scope) to make a retry safe: the
        replay answers the same case code and files nothing."""
        key = public_idempotency_key(request, filing.PUBLIC_SCOPE, idempotency, data)
        reply = await filing.file_public_complaint(
            db,
            keyring,
            school_code,
            filing.ComplaintInput(data.category, data.description, data.order_id),
            client_address=request.client.host if request.client else None,
            idempotency=Idempotency(key, encode_json, 201),
        )
        return reply_response(reply)

    @get("/complaints/{case_code:str}", **public(errors=(404,)))
    async def status(self, db: DB, case_code: PathText) -> PublicComplaintStatus:
        """Where a case stands: its state and category, nothing else."""
        return await filing.public_status(db, case_code)
