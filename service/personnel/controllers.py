"""HTTP for personnel: people and engagements, consents, certificates, check records,
bar lifts, and the results import. Translation only; the rules live in the services."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.datastructures import UploadFile
from litestar.params import FromPath, JSONBody, MultipartBody, QueryParameter

from schemas.audit import RecordProofOut
from schemas.personnel import (
    BarLiftConfirm,
    BarLiftCreate,
    BarLiftDecline,
    BarLiftOut,
    BarLiftWithdraw,
    CertificateList,
    CertificateOut,
    CheckCreate,
    CheckList,
    CheckOut,
    CheckStatusOut,
    ConsentList,
    ConsentOut,
    DepartureIn,
    EngagementOut,
    IdNumberOut,
    ImportJobOut,
    ImportOut,
    ImportProblemOut,
    PersonCreate,
    PersonOut,
    Roster,
    RosterItem,
)
from schemas.text import Text
from service.errors import InvalidInput, PayloadTooLarge
from service.idempotency import Idempotency
from service.personnel import bar_lifts, certificates, checks, consents, import_jobs, import_proofs, imports, services
from service.personnel.models import (
    BackgroundCheck,
    BarLift,
    Certificate,
    CheckImportJob,
    ConsentDocument,
    lift_status,
)
from service.personnel.rules import bar_lift_in_force
from service.security import Role
from service.web.access import access
from service.web.deps import DB, AppSettings, AuditSigner, CurrentActor, Keys, Storage
from service.web.files import file_response
from service.web.forms import form_date
from service.web.idempotency import IdempotencyHeader, encode_json, form_payload, idempotency_key, reply_response

READERS = (Role.VENDOR, Role.REVIEWER, Role.AUDITOR, Role.ADMIN)
WRITERS = (Role.VENDOR, Role.REVIEWER, Role.ADMIN)
IMPORT_MAX_BYTES = imports.IMPORT_MAX_BYTES
UPLOAD_ERRORS = (404, 413, 415, 422)


def _uuid(value: str | None, field: str) -> UUID | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        return UUID(text)
    except ValueError:
        raise InvalidInput.field(field, "invalid_uuid", "编号格式不正确") from None


async def _read(upload: UploadFile, max_bytes: int) -> bytes:
    content = await upload.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise PayloadTooLarge(f"文件不能超过 {max_bytes // (1024 * 1024)} MB", code="file_too_large")
    return content


# -- converters -------------------------------------------------------------------------------


def person_out(view: services.PersonView) -> PersonOut:
    person, clearance = view.person, view.clearance
    return PersonOut(
        person_id=person.id,
        id_number_masked=person.id_number_masked,
        name=person.name,
        gender=person.gender,
        birth_date=person.birth_date,
        clearance=clearance.status,
        cleared_until=clearance.cleared_until,
        checks=[
            CheckStatusOut(
                check_type=c.check_type,
                status=c.public_status,
                mandatory=c.mandatory,
                valid_until=c.valid_until if c.public_status in ("present", "expired") else None,
                expiring=c.expiring,
            )
            for c in clearance.checks
        ],
        engagements=[
            EngagementOut(
                engagement_id=e.id,
                vendor_id=v.id,
                vendor_name=v.name,
                role=e.role,
                phone=e.phone,
                start_date=e.start_date,
                end_date=e.end_date,
                current=e.ended_at is None,
            )
            for e, v in view.engagements
        ],
        created_at=person.created_at,
    )


def roster_item(entry: services.RosterEntry) -> RosterItem:
    person, engagement, clearance = entry.person, entry.engagement, entry.clearance
    return RosterItem(
        person_id=person.id,
        engagement_id=engagement.id,
        id_number_masked=person.id_number_masked,
        name=person.name,
        role=engagement.role,
        start_date=engagement.start_date,
        clearance=clearance.status,
        cleared_until=clearance.cleared_until,
        missing_checks=clearance.missing(),
        expiring_checks=clearance.expiring(),
        expired_checks=clearance.expired(),
    )


def check_out(check: BackgroundCheck) -> CheckOut:
    return CheckOut(
        id=check.id,
        person_id=check.person_id,
        check_type=check.check_type,
        result=check.result,
        query_date=check.query_date,
        reference=check.reference,
        issuing_authority=check.issuing_authority,
        valid_until=check.valid_until,
        consent_document_id=check.consent_document_id,
        import_id=check.import_id,
        recorded_at=check.recorded_at,
    )


def consent_out(consent: ConsentDocument) -> ConsentOut:
    return ConsentOut(
        id=consent.id,
        kind=consent.kind,
        person_id=consent.person_id,
        region_code=consent.region_code,
        title=consent.title,
        signed_on=consent.signed_on,
        sha256=consent.sha256,
        size=consent.size,
        content_type=consent.content_type,
        filename=consent.filename,
        uploaded_at=consent.uploaded_at,
    )


def certificate_out(certificate: Certificate) -> CertificateOut:
    return CertificateOut(
        id=certificate.id,
        person_id=certificate.person_id,
        cert_type=certificate.cert_type,
        number=certificate.number,
        issuer=certificate.issuer,
        category_codes=list(certificate.category_codes),
        valid_from=certificate.valid_from,
        valid_until=certificate.valid_until,
        sha256=certificate.sha256,
        size=certificate.size,
        content_type=certificate.content_type,
        filename=certificate.filename,
        uploaded_at=certificate.uploaded_at,
        status=certificates.certificate_status(certificate),
    )


def lift_out(lift: BarLift) -> BarLiftOut:
    return BarLiftOut(
        id=lift.id,
        person_id=lift.person_id,
        check_id=lift.check_id,
        reason=lift.reason,
        requested_by=lift.requested_by,
        requested_at=lift.requested_at,
        confirmed_by=lift.confirmed_by,
        confirmed_at=lift.confirmed_at,
        effective=bar_lift_in_force(lift.confirmed_at, lift.closed_at),
        status=lift_status(lift),
        closed_by=lift.closed_by,
        closed_at=lift.closed_at,
        close_reason=lift.close_reason,
    )


def job_out(job: CheckImportJob) -> ImportJobOut:
    return ImportJobOut(
        job_id=job.id,
        state=job.state,
        filename=job.filename,
        rows_total=job.rows_total,
        rows_validated=job.rows_validated,
        rows_stored=job.rows_stored,
        imported=job.imported,
        skipped=job.skipped,
        errors_total=job.errors_total,
        errors=[
            ImportProblemOut(row=e["row"], column=e["column"], code=e["code"], message=e["message"]) for e in job.errors
        ],
        created_at=job.created_at,
        finished_at=job.finished_at,
    )


def _encode_departure(ended: tuple) -> bytes:
    engagement, vendor = ended
    return encode_json(
        EngagementOut(
            engagement_id=engagement.id,
            vendor_id=vendor.id,
            vendor_name=vendor.name,
            role=engagement.role,
            phone=engagement.phone,
            start_date=engagement.start_date,
            end_date=engagement.end_date,
            current=False,
        )
    )


def _encode_lift(lift: BarLift) -> bytes:
    return encode_json(lift_out(lift))


def _encode_consent(consent: ConsentDocument) -> bytes:
    return encode_json(consent_out(consent))


def _encode_import(result: imports.ImportResult) -> bytes:
    return encode_json(
        ImportOut(
            import_id=result.import_id,
            rows=result.rows,
            imported=result.imported,
            skipped=result.skipped,
            people_created=result.people_created,
            errors=[],
        )
    )


# -- vendors' people ----------------------------------------------------------------------------


class VendorPeopleController(Controller):
    path = "/api/v1/vendors/{vendor_id:uuid}/people"
    tags = ["personnel"]

    @post("/", **access(*WRITERS, errors=(404, 409, 422)))
    async def add_person(
        self,
        request: Request,
        db: DB,
        keyring: Keys,
        actor: CurrentActor,
        vendor_id: FromPath[UUID],
        data: JSONBody[PersonCreate],
        idempotency: IdempotencyHeader = None,
    ) -> Response[PersonOut]:
        """Engage a person (identified by resident ID number) at the vendor. A number
        already known with another name is refused (422 `name_mismatch`), never overwritten.
        Send `Idempotency-Key` to make a retry safe."""
        key = idempotency_key(request, actor, idempotency, data)
        reply = await services.add_person(
            db,
            keyring,
            actor,
            vendor_id,
            services.PersonInput(
                id_number=data.id_number, name=data.name, role=data.role, start_date=data.start_date, phone=data.phone
            ),
            idempotency=Idempotency(key, lambda view: encode_json(person_out(view)), 201),
        )
        return reply_response(reply)

    @get("/", **access(*READERS, errors=(404,)))
    async def roster(self, db: DB, actor: CurrentActor, vendor_id: FromPath[UUID]) -> Roster:
        """The vendor's current people: masked ID, role, clearance and until when, and
        which mandatory checks are missing, expiring within 30 days, or expired."""
        return Roster(items=[roster_item(e) for e in await services.vendor_roster(db, actor, vendor_id)])

    @post("/{person_id:uuid}/departure", status_code=200, **access(*WRITERS, errors=(404, 422)))
    async def departure(
        self,
        request: Request,
        db: DB,
        actor: CurrentActor,
        vendor_id: FromPath[UUID],
        person_id: FromPath[UUID],
        data: JSONBody[DepartureIn],
        idempotency: IdempotencyHeader = None,
    ) -> Response[EngagementOut]:
        """Record that the person left the vendor; their entry for it ends at once."""
        key = idempotency_key(request, actor, idempotency, data)
        reply = await services.record_departure(
            db,
            actor,
            vendor_id,
            person_id,
            end_date=data.end_date,
            reason=data.reason,
            idempotency=Idempotency(key, _encode_departure),
        )
        return reply_response(reply)


# -- people --------------------------------------------------------------------------------------


@dataclass
class ConsentForm:
    file: UploadFile
    title: Text | None = None
    signed_on: Text | None = None


@dataclass
class CertificateForm:
    file: UploadFile
    cert_type: Text = ""
    number: Text = ""
    issuer: Text = ""
    category_codes: Text = ""
    valid_from: Text | None = None
    valid_until: Text | None = None


class PeopleController(Controller):
    path = "/api/v1/people/{person_id:uuid}"
    tags = ["personnel"]

    @get("/", **access(*READERS, errors=(404,)))
    async def get_person(self, db: DB, actor: CurrentActor, person_id: FromPath[UUID]) -> PersonOut:
        """The person with clearance (`cleared` | `pending` | `expired` | `barred`) and
        `cleared_until`; each check only as missing, present, pending or expired."""
        return person_out(await services.get_person(db, actor, person_id))

    @get("/id-number", **access(Role.REVIEWER, Role.ADMIN, errors=(404,)))
    async def id_number(self, db: DB, keyring: Keys, actor: CurrentActor, person_id: FromPath[UUID]) -> IdNumberOut:
        """The unmasked resident ID number. Every read is an audit event."""
        person, number = await services.read_id_number(db, keyring, actor, person_id)
        return IdNumberOut(person_id=person.id, id_number=number)

    @post("/checks", **access(Role.REVIEWER, errors=(404, 409, 422)))
    async def record_check(
        self,
        request: Request,
        db: DB,
        actor: CurrentActor,
        person_id: FromPath[UUID],
        data: JSONBody[CheckCreate],
        idempotency: IdempotencyHeader = None,
    ) -> Response[CheckOut]:
        """Record a background-check result under a consent document (422 without one).
        Send `Idempotency-Key` to make a retry safe."""
        key = idempotency_key(request, actor, idempotency, data)
        reply = await checks.record_check(
            db,
            actor,
            person_id,
            checks.CheckInput(
                check_type=data.check_type,
                result=data.result,
                query_date=data.query_date,
                reference=data.reference,
                issuing_authority=data.issuing_authority,
                valid_until=data.valid_until,
                consent_document_id=data.consent_document_id,
            ),
            idempotency=Idempotency(key, lambda check: encode_json(check_out(check)), 201),
        )
        return reply_response(reply)

    @get("/checks", **access(Role.REVIEWER, Role.AUDITOR, Role.ADMIN, errors=(404,)))
    async def read_checks(self, db: DB, actor: CurrentActor, person_id: FromPath[UUID]) -> CheckList:
        """Check records with their content; each record read is an audit event."""
        return CheckList(items=[check_out(c) for c in await checks.read_checks(db, actor, person_id)])

    @post("/consents", **access(*WRITERS, errors=UPLOAD_ERRORS))
    async def upload_consent(
        self,
        request: Request,
        db: DB,
        storage: Storage,
        settings: AppSettings,
        actor: CurrentActor,
        person_id: FromPath[UUID],
        data: MultipartBody[ConsentForm],
        idempotency: IdempotencyHeader = None,
    ) -> Response[ConsentOut]:
        """The person's signed consent to the queries (PDF, JPEG or PNG). Send
        `Idempotency-Key` to make a retry safe (the file and every field are compared)."""
        content = await _read(data.file, settings.max_upload_bytes)
        key = idempotency_key(request, actor, idempotency, form_payload(data, content))
        reply = await consents.upload_person_consent(
            db,
            storage,
            actor,
            person_id,
            consents.Upload(content=content, filename=data.file.filename, max_bytes=settings.max_upload_bytes),
            title=data.title,
            signed_on=form_date(data.signed_on, "signed_on", required=False),
            idempotency=Idempotency(key, _encode_consent, 201),
        )
        return reply_response(reply)

    @get("/consents", **access(*READERS, errors=(404,)))
    async def list_consents(self, db: DB, actor: CurrentActor, person_id: FromPath[UUID]) -> ConsentList:
        return ConsentList(items=[consent_out(c) for c in await consents.list_consents(db, actor, person_id)])

    @get("/consents/{consent_id:uuid}/file", **access(*READERS, errors=(404,)), media_type="application/octet-stream")
    async def download_consent(
        self, db: DB, storage: Storage, actor: CurrentActor, person_id: FromPath[UUID], consent_id: FromPath[UUID]
    ) -> Response[bytes]:
        """The signed consent's scan. Every download is an audit event."""
        consent, content = await consents.read_consent_file(db, storage, actor, person_id, consent_id)
        return file_response(
            content, filename=consent.filename, content_type=consent.content_type, sha256=consent.sha256
        )

    @post("/certificates", **access(*WRITERS, errors=UPLOAD_ERRORS))
    async def upload_certificate(
        self,
        request: Request,
        db: DB,
        storage: Storage,
        settings: AppSettings,
        actor: CurrentActor,
        person_id: FromPath[UUID],
        data: MultipartBody[CertificateForm],
        idempotency: IdempotencyHeader = None,
    ) -> Response[CertificateOut]:
        """A qualification certificate with its scan; `category_codes` like `2,4`. Send
        `Idempotency-Key` to make a retry safe (the file and every field are compared)."""
        content = await _read(data.file, settings.max_upload_bytes)
        key = idempotency_key(request, actor, idempotency, form_payload(data, content))
        reply = await certificates.upload_certificate(
            db,
            storage,
            actor,
            person_id,
            consents.Upload(content=content, filename=data.file.filename, max_bytes=settings.max_upload_bytes),
            certificates.CertificateInput(
                cert_type=data.cert_type,
                number=data.number,
                issuer=data.issuer,
                category_codes=data.category_codes,
                valid_from=form_date(data.valid_from, "valid_from"),
                valid_until=form_date(data.valid_until, "valid_until", required=False),
            ),
            idempotency=Idempotency(key, lambda certificate: encode_json(certificate_out(certificate)), 201),
        )
        return reply_response(reply)

    @get("/certificates", **access(*READERS, errors=(404,)))
    async def list_certificates(self, db: DB, actor: CurrentActor, person_id: FromPath[UUID]) -> CertificateList:
        return CertificateList(
            items=[certificate_out(c) for c in await certificates.list_certificates(db, actor, person_id)]
        )

    @get(
        "/certificates/{certificate_id:uuid}/file",
        **access(*READERS, errors=(404,)),
        media_type="application/octet-stream",
    )
    async def download_certificate(
        self, db: DB, storage: Storage, actor: CurrentActor, person_id: FromPath[UUID], certificate_id: FromPath[UUID]
    ) -> Response[bytes]:
        """The certificate's scan. Every download is an audit event."""
        certificate, content = await consents.read_certificate_file(db, storage, actor, person_id, certificate_id)
        return file_response(
            content, filename=certificate.filename, content_type=certificate.content_type, sha256=certificate.sha256
        )

    @post("/bar-lifts", **access(Role.REVIEWER, errors=(404, 409, 422)))
    async def request_lift(
        self,
        request: Request,
        db: DB,
        actor: CurrentActor,
        person_id: FromPath[UUID],
        data: JSONBody[BarLiftCreate],
        idempotency: IdempotencyHeader = None,
    ) -> Response[BarLiftOut]:
        """A province-level reviewer asks to lift the bar of one adverse result, with a reason."""
        key = idempotency_key(request, actor, idempotency, data)
        return reply_response(
            await bar_lifts.request_bar_lift(
                db, actor, person_id, data.check_id, data.reason, idempotency=Idempotency(key, _encode_lift, 201)
            )
        )

    @post("/bar-lifts/{lift_id:uuid}/confirm", status_code=200, **access(Role.REVIEWER, errors=(404, 409, 422)))
    async def confirm_lift(
        self,
        request: Request,
        db: DB,
        actor: CurrentActor,
        person_id: FromPath[UUID],
        lift_id: FromPath[UUID],
        data: JSONBody[BarLiftConfirm],
        idempotency: IdempotencyHeader = None,
    ) -> Response[BarLiftOut]:
        """A second province-level reviewer confirms; only then is the bar lifted."""
        key = idempotency_key(request, actor, idempotency, data)
        return reply_response(
            await bar_lifts.confirm_bar_lift(
                db, actor, person_id, lift_id, data.reason, idempotency=Idempotency(key, _encode_lift)
            )
        )

    @post("/bar-lifts/{lift_id:uuid}/decline", status_code=200, **access(Role.REVIEWER, errors=(404, 409, 422)))
    async def decline_lift(
        self,
        request: Request,
        db: DB,
        actor: CurrentActor,
        person_id: FromPath[UUID],
        lift_id: FromPath[UUID],
        data: JSONBody[BarLiftDecline],
        idempotency: IdempotencyHeader = None,
    ) -> Response[BarLiftOut]:
        """A second province-level reviewer refuses a pending request, with a reason; the
        bar stays, and a new request for the check may be made."""
        key = idempotency_key(request, actor, idempotency, data)
        return reply_response(
            await bar_lifts.decline_bar_lift(
                db, actor, person_id, lift_id, data.reason, idempotency=Idempotency(key, _encode_lift)
            )
        )

    @post("/bar-lifts/{lift_id:uuid}/withdraw", status_code=200, **access(Role.REVIEWER, errors=(404, 409, 422)))
    async def withdraw_lift(
        self,
        request: Request,
        db: DB,
        actor: CurrentActor,
        person_id: FromPath[UUID],
        lift_id: FromPath[UUID],
        data: JSONBody[BarLiftWithdraw],
        idempotency: IdempotencyHeader = None,
    ) -> Response[BarLiftOut]:
        """The requester takes back their own pending request."""
        key = idempotency_key(request, actor, idempotency, data)
        return reply_response(
            await bar_lifts.withdraw_bar_lift(
                db, actor, person_id, lift_id, data.reason, idempotency=Idempotency(key, _encode_lift)
            )
        )


# -- bureau authorisations and the results import -------------------------------------------------


@dataclass
class AuthorisationForm:
    file: UploadFile
    title: Text | None = None
    region_code: Text | None = None
    signed_on: Text | None = None


@dataclass
class ImportForm:
    file: UploadFile
    consent_document_id: Text | None = None
    issuing_authority: Text | None = None


class ConsentController(Controller):
    path = "/api/v1/consents"
    tags = ["personnel"]

    @post("/", **access(Role.REVIEWER, Role.ADMIN, errors=(413, 415, 422)))
    async def upload_authorisation(
        self,
        request: Request,
        db: DB,
        storage: Storage,
        settings: AppSettings,
        actor: CurrentActor,
        data: MultipartBody[AuthorisationForm],
        idempotency: IdempotencyHeader = None,
    ) -> Response[ConsentOut]:
        """An authorisation the bureau holds for batch queries in a region (the consent
        document an import is made under). Send `Idempotency-Key` to make a retry safe."""
        content = await _read(data.file, settings.max_upload_bytes)
        key = idempotency_key(request, actor, idempotency, form_payload(data, content))
        reply = await consents.upload_authorisation(
            db,
            storage,
            actor,
            consents.Upload(content=content, filename=data.file.filename, max_bytes=settings.max_upload_bytes),
            title=data.title,
            region_code=data.region_code,
            signed_on=form_date(data.signed_on, "signed_on", required=False),
            idempotency=Idempotency(key, _encode_consent, 201),
        )
        return reply_response(reply)

    @get(
        "/{consent_id:uuid}/file",
        **access(Role.REVIEWER, Role.AUDITOR, Role.ADMIN, errors=(404,)),
        media_type="application/octet-stream",
    )
    async def download_authorisation(
        self, db: DB, storage: Storage, actor: CurrentActor, consent_id: FromPath[UUID]
    ) -> Response[bytes]:
        """The authorisation's scan, for the bureau of its region. Every download is an audit event."""
        consent, content = await consents.read_authorisation_file(db, storage, actor, consent_id)
        return file_response(
            content, filename=consent.filename, content_type=consent.content_type, sha256=consent.sha256
        )


class CheckImportController(Controller):
    path = "/api/v1/checks"
    tags = ["personnel"]

    @post(
        "/import", request_max_body_size=IMPORT_MAX_BYTES + 64 * 1024, **access(Role.REVIEWER, errors=(409, 413, 422))
    )
    async def import_results(
        self,
        request: Request,
        db: DB,
        keyring: Keys,
        actor: CurrentActor,
        data: MultipartBody[ImportForm],
        run_async: Annotated[bool, QueryParameter(name="async")] = False,
        idempotency: IdempotencyHeader = None,
    ) -> Response[ImportOut | ImportJobOut]:
        """Import a results file (CSV in UTF-8 or GB18030, or XLSX). Every row is checked
        first; any problem → 422 listing each (row, column, code, message) and nothing is
        stored. Re-importing the same references adds nothing. `?async=true` answers 202
        with a job to poll at `GET /api/v1/checks/imports/{job_id}`. Send `Idempotency-Key`
        to make a retry safe: a replay answers the first import (or job) and imports nothing."""
        content = await _read(data.file, IMPORT_MAX_BYTES)
        consent_id = _uuid(data.consent_document_id, "consent_document_id")
        key = idempotency_key(request, actor, idempotency, form_payload(data, content, run_async=run_async))
        if run_async:
            reply = await import_jobs.create_import_job(
                db,
                actor,
                filename=(data.file.filename or "import")[:200],
                sha256=hashlib.sha256(content).hexdigest(),
                consent_document_id=consent_id,
                idempotency=Idempotency(key, lambda job: encode_json(job_out(job)), 202),
            )
            job = reply.value
            task = (
                None
                if job is None
                else BackgroundTask(
                    import_jobs.run_import_job,
                    db,
                    keyring,
                    actor,
                    job.id,
                    content=content,
                    consent_document_id=job.consent_document_id,
                    issuing_authority=data.issuing_authority,
                )
            )
            return reply_response(reply, background=task)
        reply = await imports.import_results(
            db,
            keyring,
            actor,
            content=content,
            consent_document_id=consent_id,
            issuing_authority=data.issuing_authority,
            idempotency=Idempotency(key, _encode_import, 201),
        )
        return reply_response(reply)

    @get("/imports/{job_id:uuid}", **access(Role.REVIEWER, Role.ADMIN, errors=(404,)))
    async def import_job(self, db: DB, actor: CurrentActor, job_id: FromPath[UUID]) -> ImportJobOut:
        """Progress and outcome of an asynchronous import."""
        return job_out(await import_jobs.get_import_job(db, actor, job_id))

    @get("/{check_id:uuid}/proof", **access(Role.AUDITOR, Role.ADMIN, errors=(404,)))
    async def record_proof(
        self, db: DB, signer: AuditSigner, actor: CurrentActor, check_id: FromPath[UUID]
    ) -> RecordProofOut:
        """Proof that an imported check record is, as stored now, record `index` of its
        import's one audit event, and that event part of the signed log. `verified`
        false (with `record_modified`) when the record was changed since. Check it
        offline with `schoolgate audit verify-record FILE --public-key KEY`. A read of
        the record's content: audited."""
        return msgspec.convert(
            await import_proofs.prove_imported_check(db, signer, actor, check_id), RecordProofOut, strict=False
        )
