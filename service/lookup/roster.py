"""A roster file checked in one go: each valid row in one batch lookup (one signed
receipt), each invalid row with its problems."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import msgspec

from service.audit import Signer
from service.db import Database
from service.errors import InvalidInput
from service.identifiers import mask_id_number, normalize_id_number
from service.lookup.people import MAX_BATCH, PersonQuery, lookup_people, validate_entries
from service.personnel import ImportRejected, clean_name, read_people
from service.security import Actor, Keyring
from service.timeutil import today_in_china


@dataclass(frozen=True)
class RosterLine:
    row: int  # the file's row number
    id_number_masked: str | None  # None when the number is not a valid one
    name: str
    answer: dict[str, Any] | None  # the batch lookup's answer for the row
    problems: tuple[dict[str, str], ...]  # the row's field errors (then no answer)


@dataclass(frozen=True)
class RosterCheck:
    lines: list[RosterLine]
    receipt_id: UUID | None  # one signed receipt for the rows that were looked up
    checked_at: str | None


def _roster_line_problems(keyring: Keyring, line) -> tuple[str | None, tuple[dict[str, str], ...]]:
    try:
        validate_entries(keyring, [PersonQuery(line.id_number, line.name)], "")
    except InvalidInput as error:
        return None, tuple({"column": d["field"], "code": d["code"], "message": d["message"]} for d in error.details)
    return mask_id_number(normalize_id_number(line.id_number, today=today_in_china())), ()


async def lookup_roster(
    db: Database, signer: Signer, keyring: Keyring, actor: Actor, content: bytes, *, region: str | None = None
) -> RosterCheck:
    """A roster file (CSV or XLSX with the import's columns): one answer per row, the
    valid rows in one batch lookup with one signed receipt, the others with their errors.
    A file that cannot be read → 422 with the file's problems."""
    try:
        lines = read_people(content, limit=MAX_BATCH)
    except ImportRejected as rejected:
        raise InvalidInput(
            rejected.message,
            code="roster_rejected",
            details=[{"field": "file", "code": p.code, "message": p.message} for p in rejected.problems],
        ) from None
    checked = [(line, *_roster_line_problems(keyring, line)) for line in lines]
    valid = [(line, masked) for line, masked, problems in checked if not problems]
    answers: list[dict[str, Any]] = []
    receipt_id, checked_at = None, None
    if valid:
        result = await lookup_people(
            db, signer, keyring, actor, [PersonQuery(line.id_number, line.name) for line, _ in valid], region=region
        )
        body = msgspec.json.decode(result.body)
        answers, receipt_id, checked_at = body["results"], result.receipt_id, body["checked_at"]
    by_row = {line.row: answer for (line, _), answer in zip(valid, answers)}
    return RosterCheck(
        [
            RosterLine(line.row, masked, clean_name(line.name)[:100], by_row.get(line.row), problems)
            for line, masked, problems in checked
        ],
        receipt_id,
        checked_at,
    )
