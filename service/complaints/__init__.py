"""Complaints and incidents (§3(3)): filed by schools, vendors' staff, inspectors and
parents (a public form, a case code), handled by the bureau through a workflow table."""

from service.complaints.evidence import read_evidence_file
from service.complaints.filing import (
    DESCRIPTION_LIMIT,
    PUBLIC_SCOPE,
    ComplaintInput,
    file_complaint,
    file_public_complaint,
    public_form_school,
    public_status,
)
from service.complaints.models import CATEGORIES
from service.complaints.services import (
    Decision,
    add_evidence,
    lift_person_entry,
    suspend_person_entry,
    transition_complaint,
)
from service.complaints.views import (
    ComplaintView,
    OpenComplaint,
    get_complaint,
    list_complaints,
    open_complaints_by_age,
)

__all__ = [
    "CATEGORIES",
    "DESCRIPTION_LIMIT",
    "PUBLIC_SCOPE",
    "ComplaintInput",
    "ComplaintView",
    "Decision",
    "OpenComplaint",
    "add_evidence",
    "file_complaint",
    "file_public_complaint",
    "get_complaint",
    "list_complaints",
    "lift_person_entry",
    "open_complaints_by_age",
    "public_form_school",
    "public_status",
    "read_evidence_file",
    "suspend_person_entry",
    "transition_complaint",
]
