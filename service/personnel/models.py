"""Personnel tables: people, their engagements with vendors, consent documents,
certificates, background-check records, lifts of a bar, and results-import jobs.

A person is global (one row per resident ID number). The number itself is stored only
encrypted (`id_number_ciphertext`, see service/security/keyring.py) and found through
its keyed hash (`id_number_index`); `id_number_masked` is what every view shows.
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID, uuid4

from sqlalchemy import (
    CheckConstraint,
    Column,
    Index,
    LargeBinary,
    SmallInteger,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel

from service.personnel.rules import engagement_in_force
from service.timeutil import utcnow

# The checks' vocabulary lives below the domains (service/vetting.py); re-exported here.
from service.vetting import (
    ALWAYS_MANDATORY as ALWAYS_MANDATORY,
)
from service.vetting import (
    BARRING_CHECK_TYPES as BARRING_CHECK_TYPES,
)
from service.vetting import (
    CHECK_TYPES as CHECK_TYPES,
)
from service.vetting import (
    DEFAULT_VALIDITY_DAYS as DEFAULT_VALIDITY_DAYS,
)

RESULTS = ("clear", "adverse", "pending")
ROLES = ("lead_instructor", "assistant", "driver", "other")
CERTIFICATE_TYPES = ("teacher_qualification", "coaching", "professional")
CONSENT_KINDS = ("person_consent", "bureau_authorisation")
IMPORT_STATES = ("queued", "running", "succeeded", "failed")

# People and background checks are bulk-loaded by imports (100,000 rows at a time). A
# foreign key costs PostgreSQL one lookup per row (~8-13 us here, 40-60 % of the insert
# time), so only `background_checks.person_id` keeps one. The columns without one hold a
# value that is the same for a whole import and is verified once, in the same
# transaction: the acting account (authenticated), its region (from the directory), the
# consent document (loaded by `require_consent`). Accounts, regions and consent
# documents are never deleted, so these references cannot dangle.
BULK_LOADED = ("people", "background_checks")


class Person(SQLModel, table=True):
    __tablename__ = "people"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    # HMAC-SHA256 hex of the 18-char number. Machine keys compare byte-wise (COLLATE "C"):
    # faster than a locale collation, and the same on every server.
    id_number_index: str = Field(sa_column=Column(String(64, collation="C"), nullable=False, unique=True))
    id_number_ciphertext: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    id_number_masked: str = Field(max_length=18)
    name: str = Field(max_length=100)
    gender: str = Field(max_length=6)  # male | female, from the number
    birth_date: date  # from the number
    # Region of whoever first recorded the person (a vendor's or an importing reviewer's):
    # it keeps people with no engagement visible to the reviewers of that region.
    # No foreign keys on this and `created_by`: see BULK_LOADED below.
    origin_region_code: str | None = Field(default=None, max_length=6)
    created_at: datetime = Field(default_factory=utcnow)
    created_by: UUID | None = None


class Engagement(SQLModel, table=True):
    """A person working for a vendor. Current while `ended_at` is null; recording a
    departure sets it, which ends the person's entry for that vendor at once."""

    __tablename__ = "engagements"
    __table_args__ = (
        Index(
            "uq_engagements_current", "person_id", "vendor_id", unique=True, postgresql_where=text("ended_at IS NULL")
        ),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    person_id: UUID = Field(foreign_key="people.id", index=True)
    vendor_id: UUID = Field(foreign_key="vendors.id", index=True)
    role: str = Field(max_length=20)
    phone: str | None = Field(default=None, max_length=32)
    start_date: date
    end_date: date | None = None
    departure_reason: str | None = Field(default=None, max_length=300)
    ended_at: datetime | None = None
    ended_by: UUID | None = Field(default=None, foreign_key="accounts.id")
    created_at: datetime = Field(default_factory=utcnow)
    created_by: UUID | None = Field(default=None, foreign_key="accounts.id")

    def in_force(self, today: date) -> bool:
        """Does it let the person into schools for the vendor on `today` (China date)?
        The rule is `personnel.rules.engagement_in_force`."""
        return engagement_in_force(self.ended_at, self.start_date, today)


class ConsentDocument(SQLModel, table=True):
    """A signed consent of one person (`person_consent`), or an authorisation the bureau
    holds for a batch query (`bureau_authorisation`, with the region it was issued for).
    The file sits in the content-addressed document storage."""

    __tablename__ = "consent_documents"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    kind: str = Field(max_length=24)
    person_id: UUID | None = Field(default=None, foreign_key="people.id", index=True)
    region_code: str | None = Field(default=None, foreign_key="regions.code", max_length=6)
    title: str = Field(max_length=200)
    signed_on: date | None = None
    sha256: str = Field(max_length=64)
    size: int
    content_type: str = Field(max_length=40)
    filename: str = Field(max_length=255)
    uploaded_at: datetime = Field(default_factory=utcnow)
    uploaded_by: UUID | None = Field(default=None, foreign_key="accounts.id")


class Certificate(SQLModel, table=True):
    __tablename__ = "certificates"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    person_id: UUID = Field(foreign_key="people.id", index=True)
    cert_type: str = Field(max_length=32)
    number: str = Field(max_length=100)
    issuer: str = Field(max_length=200)
    category_codes: list[int] = Field(sa_column=Column(ARRAY(SmallInteger), nullable=False))
    valid_from: date
    valid_until: date | None = None  # None: no expiry printed (e.g. a teacher qualification)
    sha256: str = Field(max_length=64)
    size: int
    content_type: str = Field(max_length=40)
    filename: str = Field(max_length=255)
    uploaded_at: datetime = Field(default_factory=utcnow)
    uploaded_by: UUID | None = Field(default=None, foreign_key="accounts.id")


class BackgroundCheck(SQLModel, table=True):
    """One result. `valid_until` null means: the default validity for its type applies
    (from the region settings, at read time)."""

    __tablename__ = "background_checks"
    __table_args__ = (UniqueConstraint("check_type", "reference", name="uq_background_checks_type_reference"),)

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    person_id: UUID = Field(foreign_key="people.id", index=True)
    check_type: str = Field(sa_column=Column(String(40, collation="C"), nullable=False))
    result: str = Field(max_length=10)
    query_date: date
    reference: str = Field(sa_column=Column(String(100, collation="C"), nullable=False))
    issuing_authority: str = Field(max_length=200)
    valid_until: date | None = None
    consent_document_id: UUID  # a consent_documents row; no foreign key, see BULK_LOADED
    import_id: UUID | None = None  # the import that brought it, if any
    # Its leaf in the import's commitment (`CheckImport`, service/audit/commitment.py).
    import_leaf: int | None = None
    recorded_at: datetime = Field(default_factory=utcnow)
    recorded_by: UUID | None = None  # an accounts row; no foreign key, see BULK_LOADED


class BarLift(SQLModel, table=True):
    """Lifting the bar an adverse result imposes: requested by a province-level reviewer
    with a reason, effective only once a second province-level reviewer confirms.

    A pending request may instead be closed — declined by a second province-level
    reviewer, or withdrawn by its requester — and then stays as a record that lifts
    nothing. At most one request per check is open or confirmed; after a closed one,
    a new request may be made."""

    __tablename__ = "bar_lifts"
    __table_args__ = (
        # Closed requests no longer count: at most one open-or-confirmed request per check.
        # (Readers asking "is this check lifted?" add `closed_at IS NULL` to use this index.)
        Index("uq_bar_lifts_check_open", "check_id", unique=True, postgresql_where=text("closed_at IS NULL")),
        CheckConstraint("closed_as IN ('declined', 'withdrawn')", name="ck_bar_lifts_closed_as"),
        CheckConstraint(
            "(closed_as IS NULL) = (closed_at IS NULL) AND (closed_at IS NULL OR confirmed_at IS NULL)",
            name="ck_bar_lifts_closed",
        ),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    person_id: UUID = Field(foreign_key="people.id", index=True)
    check_id: UUID = Field(foreign_key="background_checks.id")
    reason: str = Field(max_length=1000)
    requested_by: UUID | None = Field(default=None, foreign_key="accounts.id")
    requested_at: datetime = Field(default_factory=utcnow)
    confirmed_by: UUID | None = Field(default=None, foreign_key="accounts.id")
    confirmed_at: datetime | None = None
    confirm_reason: str | None = Field(default=None, max_length=1000)
    closed_as: str | None = Field(default=None, max_length=10)  # declined | withdrawn
    closed_by: UUID | None = Field(default=None, foreign_key="accounts.id")
    closed_at: datetime | None = None
    close_reason: str | None = Field(default=None, max_length=1000)


def lift_status(lift: BarLift) -> str:
    """pending | confirmed | declined | withdrawn."""
    if lift.closed_as is not None:
        return lift.closed_as
    return "confirmed" if lift.confirmed_at is not None else "pending"


class CheckImport(SQLModel, table=True):
    """An import that stored records: its one audit event (`personnel:check:import`,
    object `check_import`, this id) commits to them all — `records` and the Merkle root
    over their canonical forms (service/personnel/import_records.py) — and this row
    keeps each record's leaf hash, in leaf order (32 bytes each, concatenated), so any
    one record can be proved without reading the others. The hashes are not trusted:
    a proof recomputes the record's own leaf from its row, and the root the event
    states is what the proof must reach."""

    __tablename__ = "check_imports"

    id: UUID = Field(primary_key=True)
    file_sha256: str = Field(max_length=64)
    records: int
    records_root: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    leaf_hashes: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class CheckImportJob(SQLModel, table=True):
    """Progress of an asynchronous results import. Updated in its own short transactions;
    the imported data itself is written in one transaction, all or nothing."""

    __tablename__ = "check_import_jobs"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    state: str = Field(max_length=16)
    filename: str = Field(max_length=255)
    sha256: str = Field(max_length=64)
    consent_document_id: UUID | None = Field(default=None, foreign_key="consent_documents.id")
    region_code: str | None = Field(default=None, max_length=6)
    rows_total: int | None = None
    rows_validated: int = 0
    rows_stored: int = 0
    imported: int = 0
    skipped: int = 0
    errors_total: int = 0
    errors: list = Field(default_factory=list, sa_column=Column(JSONB, nullable=False, server_default="[]"))
    created_by: UUID | None = Field(default=None, foreign_key="accounts.id")
    created_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None


class PersonSuspension(SQLModel, table=True):
    """A person's entry suspended everywhere pending the investigation of a complaint
    about them (a person-level state, whatever vendor engages them and whatever their
    checks say). While a row has no `lifted_at`, the lookups answer `not_cleared` and
    orders naming the person are blocked. Rows are kept when lifted: the history."""

    __tablename__ = "person_suspensions"
    __table_args__ = (
        # The question every reader asks: "is this person suspended now?"
        Index("ix_person_suspensions_open", "person_id", postgresql_where=text("lifted_at IS NULL")),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    person_id: UUID = Field(foreign_key="people.id", index=True)
    complaint_id: UUID | None = Field(default=None, foreign_key="complaints.id")
    suspended_at: datetime = Field(default_factory=utcnow)
    suspended_by: UUID | None = Field(default=None, foreign_key="accounts.id")
    lifted_at: datetime | None = None
    lifted_by: UUID | None = Field(default=None, foreign_key="accounts.id")
