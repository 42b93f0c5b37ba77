"""Personnel vetting: people, engagements, certificates, background checks, clearance,
and the person-level suspension pending a complaint's investigation."""

from service.personnel.checks import CheckInput, record_check
from service.personnel.clearance import FactTuple, cleared_until
from service.personnel.consents import Upload, list_authorisations, list_consents, upload_authorisation
from service.personnel.facts import (
    ClearanceEndingOn,
    EntryClearance,
    clearances_ending_on,
    cleared_staff,
    entry_clearances,
    entry_clearances_many,
    not_engaged_by,
    uncleared_among,
)
from service.personnel.import_jobs import create_import_job, get_import_job, list_import_jobs, run_import_job
from service.personnel.importfile import HEADERS, ImportRejected, PersonLine, read_people, upload_digest
from service.personnel.imports import IMPORT_MAX_BYTES
from service.personnel.models import ALWAYS_MANDATORY, CHECK_TYPES, DEFAULT_VALIDITY_DAYS, RESULTS
from service.personnel.people import clean_name, load_visible_person
from service.personnel.rules import (
    bar_lift_in_force,
    bar_lift_in_force_sql,
    engagement_in_force,
    engagement_in_force_sql,
)
from service.personnel.services import (
    PersonInput,
    add_person,
    gate_roster,
    get_person,
    masked_by_index,
    vendor_roster,
)
from service.personnel.settings import PersonnelSettings, from_effective, strictest
from service.personnel.suspensions import (
    lift_suspensions,
    open_suspension,
    suspend_person,
    suspended_among,
    suspended_sql,
)

__all__ = [
    "add_person",
    "ALWAYS_MANDATORY",
    "bar_lift_in_force",
    "bar_lift_in_force_sql",
    "CHECK_TYPES",
    "CheckInput",
    "clean_name",
    "ClearanceEndingOn",
    "clearances_ending_on",
    "cleared_staff",
    "cleared_until",
    "create_import_job",
    "DEFAULT_VALIDITY_DAYS",
    "engagement_in_force",
    "engagement_in_force_sql",
    "entry_clearances",
    "entry_clearances_many",
    "EntryClearance",
    "FactTuple",
    "from_effective",
    "gate_roster",
    "get_import_job",
    "get_person",
    "HEADERS",
    "IMPORT_MAX_BYTES",
    "ImportRejected",
    "lift_suspensions",
    "list_authorisations",
    "list_consents",
    "list_import_jobs",
    "load_visible_person",
    "masked_by_index",
    "not_engaged_by",
    "open_suspension",
    "PersonInput",
    "PersonLine",
    "PersonnelSettings",
    "read_people",
    "upload_digest",
    "record_check",
    "RESULTS",
    "run_import_job",
    "strictest",
    "suspend_person",
    "suspended_among",
    "suspended_sql",
    "uncleared_among",
    "Upload",
    "upload_authorisation",
    "vendor_roster",
]
