"""Schools: the places whose gates this service guards."""

from service.schools.models import School
from service.schools.services import school_by_code, schools_by_ids, schools_in_regions, visible_school

__all__ = [
    "School",
    "school_by_code",
    "schools_by_ids",
    "schools_in_regions",
    "visible_school",
]
