"""One import's staging, in the worker thread: each validated row decided (new, already
recorded, or a problem) and, while the import is clean, the rows to COPY and each
record's leaf in the import's commitment."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

from service.audit import leaf_hash
from service.identifiers import describe_normalized, mask_id_number
from service.personnel.import_records import json_string, record_canonical_from
from service.personnel.import_rows import ParsedRow
from service.personnel.importfile import MAX_REPORTED_PROBLEMS, Problem
from service.personnel.people import ID_NUMBER_PURPOSE
from service.security import Actor, Keyring

#: What the database already holds of a chunk: blind index -> (name, person id), and
#: (check type, reference) -> (blind index, result, query date, valid until, authority).
KnownPeople = dict[str, tuple[str, str]]
KnownChecks = dict[tuple[str, str], tuple[Any, ...]]
#: A validated row with its blind index.
IndexedRow = tuple[ParsedRow, str]


@dataclass
class ImportRun:
    """Everything one import remembers across chunks (per distinct person and reference)."""

    actor: Actor
    keyring: Keyring
    consent_id: UUID
    consent_sha256: str
    import_id: UUID
    now: datetime
    request_id: str | None
    file_sha256: str
    people: dict[str, tuple[str, str, bool]] = field(default_factory=dict)  # index -> (name, id, created here)
    references: dict[tuple[str, str], int] = field(default_factory=dict)  # (type, reference) -> row
    problems: list[Problem] = field(default_factory=list)
    problems_total: int = 0
    rows: int = 0
    stored_rows: int = 0
    skipped: int = 0  # already recorded before this import (counted by the worker thread)
    # Counted by the task that stores chunks, which runs beside the worker thread:
    imported: int = 0
    people_created: int = 0
    leaves: list[bytes] = field(default_factory=list)  # each staged record's leaf hash, in leaf order
    person_tail: str = ""  # the columns every new person shares, as COPY text
    check_tail: str = ""  # the columns every new check shares, as COPY text
    import_text: str = ""
    consent_text: str = ""
    authorities: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # -> (COPY text, JSON string)
    dates: dict[date, str] = field(default_factory=dict)  # -> ISO text
    indexes: dict[str, str] = field(default_factory=dict)  # number -> blind index (people repeat in a file)
    masked: dict[str, str] = field(default_factory=dict)  # person id -> masked number, for their records

    def __post_init__(self) -> None:
        actor = self.actor
        now = self.now.isoformat()
        self.import_text, self.consent_text = str(self.import_id), str(self.consent_id)
        self.person_tail = "\t".join((_copy_value(actor.region_code), now, _copy_value(actor.account_id)))
        self.check_tail = "\t".join((self.consent_text, self.import_text, now, _copy_value(actor.account_id)))

    def authority(self, authority: str) -> tuple[str, bytes]:
        """An issuing authority as COPY text and as a JSON string (a file names a handful
        of authorities, on every row: each is escaped once)."""
        found = self.authorities.get(authority)
        if found is None:
            found = self.authorities[authority] = (copy_text(authority), json_string(authority))
        return found

    def iso_date(self, day: date) -> str:
        """A date's ISO text, made once per distinct date (a file's rows share a few hundred)."""
        found = self.dates.get(day)
        if found is None:
            found = self.dates[day] = day.isoformat()
        return found

    def problem(self, problem: Problem) -> None:
        self.problems_total += 1
        if len(self.problems) < MAX_REPORTED_PROBLEMS:
            self.problems.append(problem)


@dataclass
class Staged:
    """One chunk's new people and checks: how many, and their rows as COPY's text format
    (made here, in the worker thread, not by asyncpg on the event loop's)."""

    people: int = 0
    checks: int = 0
    people_copy: bytes = b""
    checks_copy: bytes = b""
    rows: int = 0


# COPY's text format: a value's backslash, tab, newline and CR are escaped, NULL is \N.
_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
NULL = "\\N"


def copy_text(value: str) -> str:
    """A text value as COPY's text format writes it. The text rule refuses tabs and line
    breaks in every imported value, so this is mostly a search that finds nothing."""
    return value if _COPY_SPECIAL.search(value) is None else value.translate(_COPY_ESCAPES)


def _copy_value(value: object) -> str:
    return NULL if value is None else copy_text(str(value))


def new_ids(count: int) -> list[str]:
    """`count` random (version 4) UUIDs in canonical text form, from one read of the
    system's random source: about four times cheaper than uuid4() plus str()."""
    raw = bytearray(os.urandom(16 * count))
    raw[6::16] = bytes((b & 0x0F) | 0x40 for b in raw[6::16])
    raw[8::16] = bytes((b & 0x3F) | 0x80 for b in raw[8::16])
    text = raw.hex()
    return [
        f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"
        for h in (text[i : i + 32] for i in range(0, len(text), 32))
    ]


def _ids(block: int = 1024) -> Iterator[str]:
    """New ids as they are needed, made a block at a time (a chunk needs one per new check
    and one per new person: from none, for a re-import, to twice its rows)."""
    while True:
        yield from new_ids(block)


def resolve(run: ImportRun, rows: list[IndexedRow], known_people: KnownPeople, known_checks: KnownChecks) -> Staged:
    """Worker thread: decide each row (new, already imported, or a problem) and, while
    the import is clean, build the rows to store and their leaves."""
    staged = Staged()
    people, references = run.people, run.references
    ids = _ids()
    new_people: list[tuple[ParsedRow, str, str]] = []  # (row, blind index, person id)
    checks: list[str] = []
    for row, index in rows:
        ok = True
        person = people.get(index)
        if person is None:
            known = known_people.get(index)
            if known is not None:
                person = people[index] = (known[0], known[1], False)
            else:
                person = people[index] = (row.name, next(ids), True)
                if run.problems_total == 0:
                    run.masked[person[1]] = mask_id_number(row.number)
                    new_people.append((row, index, person[1]))
        if person[0] != row.name:
            run.problem(
                Problem(row.row, "name", "name_mismatch", "姓名与该身份证号码已登记（或文件中先出现）的姓名不一致")
            )
            ok = False
        key = (row.check_type, row.reference)
        first = references.get(key)
        if first is not None:
            run.problem(
                Problem(row.row, "reference", "duplicate_reference", f"查询编号与第 {first} 行重复（同一查询类型）")
            )
            continue
        references[key] = row.row
        existing = known_checks.get(key)
        if existing is not None:
            if existing == (index, row.result, row.query_date, row.valid_until, row.issuing_authority):
                run.skipped += 1  # imported before: nothing to add
            else:
                run.problem(
                    Problem(
                        row.row,
                        "reference",
                        "reference_conflict",
                        "该查询编号已登记，但人员、结果、查询日期、有效期或出具机关与本行不同",
                    )
                )
            continue
        if ok and run.problems_total == 0:
            checks.append(_stage_check(run, row, person[1], next(ids)))
    if run.problems_total == 0:  # a problem anywhere: nothing will be stored, so nothing is made
        staged.people, staged.checks = len(new_people), len(checks)
        staged.people_copy = _people_copy(run, new_people)
        staged.checks_copy = "".join(checks).encode()
    return staged


def _people_copy(run: ImportRun, people: list[tuple[ParsedRow, str, str]]) -> bytes:
    """The chunk's new people as COPY text; their numbers encrypted all at once."""
    ciphertexts = run.keyring.encrypt_many([row.number.encode() for row, _, _ in people], ID_NUMBER_PURPOSE)
    lines = []
    for (row, index, person_id), ciphertext in zip(people, ciphertexts):
        number = row.number
        masked = run.masked[person_id]
        born, sex = describe_normalized(number)
        # bytea in COPY text: \x and hex digits, its backslash escaped as COPY's own.
        lines.append(
            f"{person_id}\t{index}\t\\\\x{ciphertext.hex()}\t{masked}\t{copy_text(row.name)}\t{sex}\t{born}\t"
            f"{run.person_tail}\n"
        )
    return "".join(lines).encode()


def _stage_check(run: ImportRun, row: ParsedRow, person_id: str, check_id: str) -> str:
    """The record's row as COPY text, and its leaf in the import's commitment (next in order)."""
    leaf = len(run.leaves)
    masked = run.masked.get(person_id)
    if masked is None:
        masked = run.masked[person_id] = mask_id_number(row.number)
    query_date = run.iso_date(row.query_date)
    valid_until = None if row.valid_until is None else run.iso_date(row.valid_until)
    reference = row.reference
    copy_authority, json_authority = run.authority(row.issuing_authority)
    hashed = leaf_hash(
        record_canonical_from(
            import_id=run.import_text,
            index=leaf,
            check_id=check_id,
            person_id=person_id,
            id_number_masked=masked,
            check_type=row.check_type,
            result=row.result,
            query_date=query_date,
            reference=json_string(reference),
            issuing_authority=json_authority,
            valid_until=valid_until,
            consent_document_id=run.consent_text,
        )
    )
    run.leaves.append(hashed)
    return (
        f"{check_id}\t{person_id}\t{row.check_type}\t{row.result}\t{query_date}\t{copy_text(reference)}\t"
        f"{copy_authority}\t{valid_until or NULL}\t{run.check_tail}\t{leaf}\n"
    )
