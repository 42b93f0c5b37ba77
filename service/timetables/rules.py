"""The §1(1) numbers of a week of after-school sessions (pure).

Category 1 (辅导答疑) is the "1" of "1+N": homework help. Every other category is an
interest or club activity, the "N". Per teaching day (a weekday with any session):
  - the share of session minutes that are interest time must be at least 50 %;
  - there must be at least one interest activity;
and the week must hold science (category 2, 科技活动) at least once.
Reported as numbers, so a school sees how far it is from the rule, not just that it fails.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import time

TUTORING = 1
SCIENCE = 2
MIN_INTEREST_SHARE = 0.5
WEEKDAY_NAMES = {1: "周一", 2: "周二", 3: "周三", 4: "周四", 5: "周五", 6: "周六", 7: "周日"}


@dataclass(frozen=True)
class Slot:
    weekday: int
    start_time: time
    end_time: time
    category_code: int

    @property
    def minutes(self) -> int:
        return (self.end_time.hour * 60 + self.end_time.minute) - (self.start_time.hour * 60 + self.start_time.minute)


@dataclass(frozen=True)
class DayNumbers:
    weekday: int
    total_minutes: int
    interest_minutes: int
    interest_activities: int

    @property
    def interest_share(self) -> float:
        return round(self.interest_minutes / self.total_minutes, 4) if self.total_minutes else 0.0


@dataclass(frozen=True)
class WeekNumbers:
    days: list[DayNumbers]
    science_sessions: int

    def problems(self) -> list[dict]:
        """Each rule the week misses, in words, with its number."""
        found = []
        for day in self.days:
            name = WEEKDAY_NAMES[day.weekday]
            if day.interest_share < MIN_INTEREST_SHARE:
                found.append(
                    {
                        "code": "interest_share_below_half",
                        "weekday": day.weekday,
                        "message": f"{name}兴趣类活动时间占 {day.interest_share:.0%}，须不少于 50%",
                    }
                )
            if day.interest_activities == 0:
                found.append(
                    {"code": "no_interest_activity", "weekday": day.weekday, "message": f"{name}没有兴趣类活动"}
                )
        if self.days and self.science_sessions == 0:
            found.append({"code": "no_science", "message": "未开设科学类（科技活动）项目"})
        if not self.days:
            found.append({"code": "empty_timetable", "message": "安排表中没有任何课后服务时段"})
        return found


def week_numbers(slots: Iterable[Slot]) -> WeekNumbers:
    by_day: dict[int, list[Slot]] = {}
    for slot in slots:
        by_day.setdefault(slot.weekday, []).append(slot)
    days = []
    for weekday in sorted(by_day):
        day = by_day[weekday]
        interest = [s for s in day if s.category_code != TUTORING]
        days.append(DayNumbers(weekday, sum(s.minutes for s in day), sum(s.minutes for s in interest), len(interest)))
    science = sum(1 for d in by_day.values() for s in d if s.category_code == SCIENCE)
    return WeekNumbers(days, science)
