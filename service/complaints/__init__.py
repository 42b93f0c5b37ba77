"""Complaints and incidents (§3(3)): filed by schools, vendors' staff, inspectors and
parents (a public form, a case code), handled by the bureau through a workflow table."""

from service.complaints.models import CATEGORIES
from service.complaints.services import ComplaintInput, OpenComplaint, file_complaint, open_complaints_by_age

__all__ = ["CATEGORIES", "ComplaintInput", "OpenComplaint", "file_complaint", "open_complaints_by_age"]
