"""Personnel vetting: people, engagements, certificates, background checks, clearance."""

from service.personnel.rules import engagement_in_force, engagement_in_force_sql

__all__ = ["engagement_in_force", "engagement_in_force_sql"]
