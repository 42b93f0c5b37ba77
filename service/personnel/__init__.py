"""Personnel vetting: people, engagements, certificates, background checks, clearance."""

from service.personnel.clearance import FactTuple, cleared_until
from service.personnel.models import ALWAYS_MANDATORY, CHECK_TYPES, DEFAULT_VALIDITY_DAYS
from service.personnel.rules import (
    bar_lift_in_force, bar_lift_in_force_sql, engagement_in_force, engagement_in_force_sql,
)
from service.personnel.services import (
    CheckInput, EntryClearance, PersonInput, Upload, add_person, clean_name, entry_clearances, gate_roster,
    load_visible_person, masked_by_index, not_engaged_by, record_check, uncleared_among,
    upload_authorisation, vendor_roster,
)
from service.personnel.settings import PersonnelSettings, from_effective, strictest

__all__ = [
    "bar_lift_in_force", "bar_lift_in_force_sql",
    "add_person", "ALWAYS_MANDATORY", "CHECK_TYPES", "CheckInput", "clean_name", "cleared_until",
    "DEFAULT_VALIDITY_DAYS", "engagement_in_force", "engagement_in_force_sql", "entry_clearances",
    "EntryClearance", "FactTuple", "from_effective", "gate_roster", "load_visible_person",
    "masked_by_index", "not_engaged_by", "PersonInput", "PersonnelSettings", "record_check", "strictest",
    "uncleared_among", "Upload", "upload_authorisation", "vendor_roster",
]
