"""Asynchronous results imports: a job row that reports progress, run after the upload's
response, its problems kept on the row, and a job whose worker died told apart."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import IO, Any
from uuid import UUID

from sqlmodel import col, func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from service import timeutil
from service.audit import diff, record_event
from service.db import Database
from service.errors import DomainError, Forbidden, NotFound
from service.idempotency import Idempotency, Reply, run_once
from service.logging import get_logger
from service.personnel.checks import require_consent
from service.personnel.importfile import (
    ImportRejected,
)
from service.personnel.imports import ImportProgress, import_results
from service.personnel.models import CheckImportJob
from service.security import Actor, Keyring, Role

# The imports' logger: a job's lines read as the import's own.
log = get_logger("schoolgate.personnel.imports")


async def create_import_job(
    db: Database,
    actor: Actor,
    *,
    filename: str,
    sha256: str,
    consent_document_id: UUID | None,
    idempotency: Idempotency | None = None,
) -> Reply[CheckImportJob]:
    """Accept a file for a background import. The consent is checked now (422 at once);
    rows are checked by the job, whose errors are then read from the job. At most once
    per idempotency key: a replay answers the first job (and starts no other)."""
    if actor.role is not Role.REVIEWER:
        raise Forbidden("只有审核人员可以导入查询结果", code="role_not_allowed")

    async def queue(session: AsyncSession) -> CheckImportJob:
        consent = await require_consent(session, actor, consent_document_id, None)
        job = CheckImportJob(
            state="queued",
            filename=filename,
            sha256=sha256,
            consent_document_id=consent.id,
            region_code=actor.region_code,
            created_by=actor.account_id,
        )
        session.add(job)
        await session.flush()
        await record_event(
            session,
            actor,
            "personnel:import:queue",
            "check_import_job",
            job.id,
            region_code=actor.region_code,
            evidence=[sha256, consent.sha256],
            changes=diff(None, {"filename": filename, "consent_document_id": consent.id}),
        )
        return job

    return await run_once(db, idempotency, queue)


async def _update_job(db: Database, job_id: UUID, **values: Any) -> None:
    async with db.transaction() as session:
        await session.exec(update(CheckImportJob).where(col(CheckImportJob.id) == job_id).values(**values))


async def run_import_job(
    db: Database,
    keyring: Keyring,
    actor: Actor,
    job_id: UUID,
    *,
    content: bytes | IO[bytes],
    consent_document_id: UUID,
    issuing_authority: str | None,
    file_sha256: str | None = None,
) -> None:
    """The background task: progress in small transactions of its own, the data in one,
    all while holding the job's liveness lock."""
    async with working_on(db, job_id):
        await _update_job(db, job_id, state="running")
        await _run_import_job(
            db,
            keyring,
            actor,
            job_id,
            content=content,
            consent_document_id=consent_document_id,
            issuing_authority=issuing_authority,
            file_sha256=file_sha256,
        )


async def _run_import_job(
    db: Database,
    keyring: Keyring,
    actor: Actor,
    job_id: UUID,
    *,
    content: bytes | IO[bytes],
    consent_document_id: UUID,
    issuing_authority: str | None,
    file_sha256: str | None = None,
) -> None:
    async def progress(update_: ImportProgress) -> None:
        await _update_job(
            db,
            job_id,
            rows_total=update_.rows_total,
            rows_validated=update_.rows_validated,
            rows_stored=update_.rows_stored,
        )

    try:
        result = (
            await import_results(
                db,
                keyring,
                actor,
                content=content,
                consent_document_id=consent_document_id,
                issuing_authority=issuing_authority,
                file_sha256=file_sha256,
                import_id=job_id,
                progress=progress,
            )
        ).value
    except ImportRejected as rejected:
        await _fail_job(db, job_id, [_job_problem(p.as_dict()) for p in rejected.problems], rejected.total)
    except DomainError as error:
        await _fail_job(db, job_id, [_file_problem(error.code, error.message)])
    except Exception as error:  # the job must end in a state, whatever happened
        log.error("import_job_failed", job_id=str(job_id), error_type=type(error).__name__, exc_info=error)
        await _fail_job(db, job_id, [_file_problem("internal_error", "导入时发生内部错误，未导入任何记录")])
    else:
        assert result is not None  # no idempotency key here, so never a replay
        await _update_job(
            db,
            job_id,
            state="succeeded",
            rows_total=result.rows,
            rows_validated=result.rows,
            rows_stored=result.rows,
            imported=result.imported,
            skipped=result.skipped,
            finished_at=timeutil.utcnow(),
        )


async def _fail_job(db: Database, job_id: UUID, problems: list[dict], total: int | None = None) -> None:
    await _update_job(
        db,
        job_id,
        state="failed",
        rows_stored=0,
        errors_total=len(problems) if total is None else total,
        errors=problems,
        finished_at=timeutil.utcnow(),
    )


def _file_problem(code: str, message: str) -> dict:
    return {"row": 0, "column": "file", "code": code, "message": message}


# A job's liveness: the process working on it holds a transaction-scoped advisory lock on
# a connection of its own for as long as it works. PostgreSQL ends that transaction, and
# the lock, with the connection — so when a worker process dies, the next read of its job
# sees the lock free and reports the job interrupted (its data transaction rolled back
# with it: nothing was stored). A queued job gets a grace period to be picked up.
QUEUED_GRACE = timedelta(minutes=2)


INTERRUPTED = _file_problem(
    "import_interrupted", "导入进程意外中止，未导入任何记录；请重新导入（已导入的记录不会重复）"
)


def _job_lock(job_id: UUID) -> int:
    return int.from_bytes(job_id.bytes[:8], "big", signed=True)


@asynccontextmanager
async def working_on(db: Database, job_id: UUID) -> AsyncIterator[None]:
    """Hold the job's liveness lock for the duration of the block."""
    async with db.transaction() as session:
        await session.exec(select(func.pg_advisory_xact_lock(_job_lock(job_id))))
        yield


def _job_problem(problem: dict) -> dict:
    return {k: problem[k] for k in ("row", "column", "code", "message")}


async def get_import_job(db: Database, actor: Actor, job_id: UUID) -> CheckImportJob:
    """The job, for the reviewers of its region and admins. A job nobody works on any
    more (see `working_on`) is failed as interrupted on this read."""
    async with db.transaction() as session:
        job = await session.get(CheckImportJob, job_id)
        if job is None or not (
            actor.is_admin
            or actor.account_id == job.created_by
            or (actor.role is Role.REVIEWER and actor.covers_region(job.region_code))
        ):
            raise NotFound("未找到该导入任务", code="import_job_not_found")
        if job.state in ("queued", "running") and await _abandoned(session, job):
            # Conditional: a worker that finished meanwhile wrote its outcome before
            # releasing the lock, and that outcome stands.
            await session.exec(
                update(CheckImportJob)
                .where(col(CheckImportJob.id) == job.id, col(CheckImportJob.state).in_(("queued", "running")))
                .values(
                    state="failed", rows_stored=0, errors_total=1, errors=[INTERRUPTED], finished_at=timeutil.utcnow()
                )
            )
            await session.refresh(job)
        return job


async def list_import_jobs(db: Database, actor: Actor, *, limit: int = 20) -> list[CheckImportJob]:
    """Recent import jobs `actor` may read (as `get_import_job`), newest first, so that
    a reviewer can leave the progress page and come back to it."""
    query = select(CheckImportJob)
    if not actor.is_admin:
        scope = actor.scope_regions() if actor.role is Role.REVIEWER else None
        mine = col(CheckImportJob.created_by) == actor.account_id
        query = query.where(mine | col(CheckImportJob.region_code).in_(scope)) if scope else query.where(mine)
    query = query.order_by(col(CheckImportJob.created_at).desc()).limit(limit)
    async with db.transaction() as session:
        return list((await session.exec(query)).all())


async def _abandoned(session: AsyncSession, job: CheckImportJob) -> bool:
    if job.state == "queued" and timeutil.utcnow() - job.created_at < QUEUED_GRACE:
        return False
    return bool((await session.exec(select(func.pg_try_advisory_xact_lock(_job_lock(job.id))))).one())
