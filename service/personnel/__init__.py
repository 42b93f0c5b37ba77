"""Personnel vetting: people, engagements, certificates, background checks, clearance,
and the person-level suspension pending a complaint's investigation."""

from service.personnel.importfile import ImportRejected, PersonLine, read_people
from service.personnel.rules import engagement_in_force, engagement_in_force_sql
from service.personnel.suspensions import (
    lift_suspensions,
    open_suspension,
    suspend_person,
    suspended_among,
    suspended_sql,
)

__all__ = ["ImportRejected", "PersonLine", "engagement_in_force", "engagement_in_force_sql", "lift_suspensions",
           "open_suspension", "read_people", "suspend_person", "suspended_among", "suspended_sql"]
