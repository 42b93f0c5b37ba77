"""Timetables (课后服务安排表): a school's after-school sessions for a term, its ordered
items included, checked against §1(1), filed with the bureau and published."""

from service.timetables.rules import WEEKDAY_NAMES
from service.timetables.services import (
    SchoolProgress,
    act_on_timetable,
    get_timetable,
    public_timetable,
    region_progress,
    save_timetable,
)

__all__ = [
    "act_on_timetable",
    "get_timetable",
    "public_timetable",
    "region_progress",
    "save_timetable",
    "SchoolProgress",
    "WEEKDAY_NAMES",
]
