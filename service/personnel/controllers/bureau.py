"""HTTP for the bureau's side of personnel: the authorisations batch queries are made
under, and the results import (at once, or as a job to poll) with its record proofs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO, Annotated
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.datastructures import UploadFile
from litestar.params import FromPath, MultipartBody, QueryParameter

from schemas.audit import RecordProofOut
from schemas.personnel import ConsentOut, ImportJobOut, ImportOut
from schemas.text import Text
from service.db import Database
from service.idempotency import Idempotency, IdempotencyKey, Reply
from service.personnel import consents, import_jobs, import_proofs, imports
from service.personnel.controllers.outputs import encode_consent, encode_import, job_out
from service.personnel.controllers.uploads import form_uuid, spooled_upload, store_upload
from service.personnel.models import CheckImportJob, ConsentDocument
from service.security import Actor, Keyring, Role
from service.web.access import access
from service.web.deps import DB, AppSettings, AuditSigner, CurrentActor, Keys, Storage
from service.web.files import file_response
from service.web.forms import form_date
from service.web.idempotency import IdempotencyHeader, encode_json, form_payload, idempotency_key, reply_response

IMPORT_MAX_BYTES = imports.IMPORT_MAX_BYTES


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

        async def store(upload: consents.Upload, key: IdempotencyKey | None) -> Reply[ConsentDocument]:
            return await consents.upload_authorisation(
                db,
                storage,
                actor,
                upload,
                title=data.title,
                region_code=data.region_code,
                signed_on=form_date(data.signed_on, "signed_on", required=False),
                idempotency=Idempotency(key, encode_consent, 201),
            )

        return await store_upload(request, actor, idempotency, data, settings.max_upload_bytes, store)

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
        # The file stays where the upload spooled it (on disk past 1 MB): hashed and
        # parsed from there, a block at a time, never held whole in memory.
        file, sha256 = await spooled_upload(data.file, IMPORT_MAX_BYTES)
        consent_id = form_uuid(data.consent_document_id, "consent_document_id")
        key = idempotency_key(request, actor, idempotency, form_payload(data, sha256, run_async=run_async))
        if run_async:
            queued = await import_jobs.create_import_job(
                db,
                actor,
                filename=(data.file.filename or "import")[:200],
                sha256=sha256,
                consent_document_id=consent_id,
                idempotency=Idempotency(key, lambda job: encode_json(job_out(job)), 202),
            )
            task = _import_task(queued.value, db, keyring, actor, file, data.issuing_authority)
            return reply_response(queued, background=task)
        reply = await imports.import_results(
            db,
            keyring,
            actor,
            content=file,
            consent_document_id=consent_id,
            issuing_authority=data.issuing_authority,
            file_sha256=sha256,
            idempotency=Idempotency(key, encode_import, 201),
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


def _import_task(
    job: CheckImportJob | None, db: Database, keyring: Keyring, actor: Actor, file: IO[bytes], authority: str | None
) -> BackgroundTask | None:
    """The run of a freshly queued job, after the response (the upload's file is still
    open then: it is closed when the request's handling ends, after background tasks).
    A replay (no job) starts nothing; a queued job always holds the consent it was
    checked against."""
    if job is None or job.consent_document_id is None:
        return None
    return BackgroundTask(
        import_jobs.run_import_job,
        db,
        keyring,
        actor,
        job.id,
        content=file,
        consent_document_id=job.consent_document_id,
        issuing_authority=authority,
        file_sha256=job.sha256,
    )
