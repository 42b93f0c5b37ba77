"""Storing one import: each chunk COPYed into place, then the one audit event that
commits to every record, in the import's transaction. No ORM on this path."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg

from service.audit import AUDIT_COLUMNS, AUDIT_TABLE, build_event, diff, root_from_leaves
from service.errors import Conflict
from service.personnel.import_records import RECORD_TYPE, RECORD_VERSION
from service.personnel.import_staging import ImportRun, Staged
from service.webhooks import enqueue_standing_change_on

CHECK_ACTION = "personnel:check:import"

# Rows are COPYed straight into their tables: a row recorded meanwhile by a concurrent
# import (after this one looked it up) breaks a unique constraint, and the whole import
# then answers 409 `concurrent_change` — re-running it adds only what is still missing.
PEOPLE_COLUMNS = (
    "id",
    "id_number_index",
    "id_number_ciphertext",
    "id_number_masked",
    "name",
    "gender",
    "birth_date",
    "origin_region_code",
    "created_at",
    "created_by",
)
CHECK_COLUMNS = (
    "id",
    "person_id",
    "check_type",
    "result",
    "query_date",
    "reference",
    "issuing_authority",
    "valid_until",
    "consent_document_id",
    "import_id",
    "recorded_at",
    "recorded_by",
    "import_leaf",
)
RECORD_IMPORT = (
    "INSERT INTO check_imports (id, file_sha256, records, records_root, leaf_hashes, created_at) "
    "VALUES ($1, $2, $3, $4, $5, $6)"
)


async def commit_to_records(conn: asyncpg.Connection, run: ImportRun) -> None:
    """The import's one audit event, committing to every record stored, and the leaf
    hashes that let one record be proved (in the import's transaction)."""
    root = root_from_leaves(run.leaves)
    actor = run.actor
    event = build_event(
        actor,
        CHECK_ACTION,
        "check_import",
        str(run.import_id),
        region_code=actor.region_code,
        evidence=[run.consent_sha256, run.file_sha256],
        occurred_at=run.now,
        request_id=run.request_id,
        changes=diff(
            None,
            {
                "file_sha256": run.file_sha256,
                "records": len(run.leaves),
                "records_root": root.hex(),
                "record_format": f"{RECORD_TYPE} v{RECORD_VERSION}",
                "rows": run.rows,
                "skipped": run.skipped,
                "people_created": run.people_created,
                "consent_document_id": str(run.consent_id),
            },
        ),
    )
    await conn.copy_records_to_table(AUDIT_TABLE, records=[event], columns=AUDIT_COLUMNS)
    await conn.execute(
        RECORD_IMPORT, run.import_id, run.file_sha256, len(run.leaves), root, b"".join(run.leaves), run.now
    )
    # The people with new results may change standing on schools' orders (webhooks).
    await enqueue_standing_change_on(conn, person_ids=run.masked, cause=CHECK_ACTION)


async def store_chunk(conn: asyncpg.Connection, run: ImportRun, staged: Staged) -> None:
    """Copy one chunk into place (its records' commitment follows with the last chunk).
    The rows come as COPY's text format, made in the worker thread: asyncpg's binary
    encoding of the same tuples, on this (the event loop's) thread, cost ~6 µs a row."""
    try:
        if staged.people:
            await _copy(conn, "people", staged.people_copy, PEOPLE_COLUMNS)
            run.people_created += staged.people
        if staged.checks:
            await _copy(conn, "background_checks", staged.checks_copy, CHECK_COLUMNS)
            run.imported += staged.checks
    except asyncpg.UniqueViolationError:
        # Someone recorded one of these people or references between our lookup and
        # now. Nothing is stored; re-running the import adds only what is still missing.
        raise Conflict(
            "导入期间有人员或查询记录被同时登记，请重新导入（已导入部分不会重复）", code="concurrent_change"
        ) from None
    run.stored_rows += staged.rows


async def _copy(conn: asyncpg.Connection, table: str, rows: bytes, columns: tuple[str, ...]) -> None:
    await conn.copy_to_table(table, source=_once(rows), columns=columns, format="text")


async def _once(data: bytes) -> AsyncIterator[bytes]:
    """The chunk as asyncpg's COPY takes bytes in memory (a bytes `source` is a path to it)."""
    yield data
