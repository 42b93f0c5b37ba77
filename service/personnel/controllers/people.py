"""HTTP for a vendor's people and for one person: engagements, checks, consents,
certificates and bar lifts. Translation only; the rules live in the services."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, JSONBody, MultipartBody

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
    ConsentList,
    ConsentOut,
    DepartureIn,
    EngagementOut,
    IdNumberOut,
    PersonCreate,
    PersonOut,
    Roster,
)
from schemas.text import Text
from service.idempotency import Idempotency, IdempotencyKey, Reply
from service.personnel import bar_lifts, certificates, checks, consents, services
from service.personnel.controllers.outputs import (
    certificate_out,
    check_out,
    consent_out,
    encode_consent,
    encode_departure,
    encode_lift,
    person_out,
    roster_item,
)
from service.personnel.controllers.uploads import PERSON_UPLOAD, Uploading
from service.personnel.models import Certificate, ConsentDocument
from service.security import Role
from service.web.access import access
from service.web.deps import DB, CurrentActor, Keys, Storage
from service.web.files import file_response
from service.web.forms import form_date
from service.web.idempotency import IdempotencyHeader, encode_json, idempotency_key, reply_response

READERS = (Role.VENDOR, Role.REVIEWER, Role.AUDITOR, Role.ADMIN)
WRITERS = (Role.VENDOR, Role.REVIEWER, Role.ADMIN)
UPLOAD_ERRORS = (404, 413, 415, 422)


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
            idempotency=Idempotency(key, encode_departure),
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

    @post("/consents", dependencies=PERSON_UPLOAD, **access(*WRITERS, errors=UPLOAD_ERRORS))
    async def upload_consent(self, uploading: Uploading, data: MultipartBody[ConsentForm]) -> Response[ConsentOut]:
        """The person's signed consent to the queries (PDF, JPEG or PNG). Send
        `Idempotency-Key` to make a retry safe (the file and every field are compared)."""

        async def store(upload: consents.Upload, key: IdempotencyKey | None) -> Reply[ConsentDocument]:
            return await consents.upload_person_consent(
                *uploading.target,
                upload,
                title=data.title,
                signed_on=form_date(data.signed_on, "signed_on", required=False),
                idempotency=Idempotency(key, encode_consent, 201),
            )

        return await uploading.store(data, store)

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

    @post("/certificates", dependencies=PERSON_UPLOAD, **access(*WRITERS, errors=UPLOAD_ERRORS))
    async def upload_certificate(
        self, uploading: Uploading, data: MultipartBody[CertificateForm]
    ) -> Response[CertificateOut]:
        """A qualification certificate with its scan; `category_codes` like `2,4`. Send
        `Idempotency-Key` to make a retry safe (the file and every field are compared)."""

        async def store(upload: consents.Upload, key: IdempotencyKey | None) -> Reply[Certificate]:
            return await certificates.upload_certificate(
                *uploading.target,
                upload,
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

        return await uploading.store(data, store)

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
                db, actor, person_id, data.check_id, data.reason, idempotency=Idempotency(key, encode_lift, 201)
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
                db, actor, person_id, lift_id, data.reason, idempotency=Idempotency(key, encode_lift)
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
                db, actor, person_id, lift_id, data.reason, idempotency=Idempotency(key, encode_lift)
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
                db, actor, person_id, lift_id, data.reason, idempotency=Idempotency(key, encode_lift)
            )
        )
