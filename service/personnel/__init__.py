"""Personnel vetting: people, engagements, certificates, background checks, clearance."""

from service.personnel.importfile import ImportRejected, PersonLine, read_people
from service.personnel.rules import engagement_in_force, engagement_in_force_sql

__all__ = ["ImportRejected", "PersonLine", "engagement_in_force", "engagement_in_force_sql", "read_people"]
