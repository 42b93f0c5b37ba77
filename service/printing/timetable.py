"""The published timetable as a PDF for parents: one table per teaching day, with the
day's §1(1) numbers, built from exactly what the school published."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from service.db import Database
from service.printing import words
from service.printing.engine import Job
from service.timetables import WEEKDAY_NAMES, public_timetable


def _session_row(s: dict) -> dict:
    fee = words.fee(s["fee"], s["fee_unit"]) if s.get("fee_unit") else "免费（学校自行组织）"
    return {"provider": None} | s | {"category": words.category(s["category_code"]), "fee": fee}


async def timetable_job(db: Database, school_code: str, term_id: UUID) -> Job:
    found = await public_timetable(db, school_code, term_id)
    published, school = found.published, found.school
    numbers = {d["weekday"]: d for d in published["numbers"]["days"]}
    days = []
    for weekday, day in sorted(numbers.items()):
        days.append(
            day
            | {
                "name": WEEKDAY_NAMES[weekday],
                "share": f"{day['interest_share']:.0%}",
                "sessions": [_session_row(s) for s in published["sessions"] if s["weekday"] == weekday],
            }
        )
    science = published["numbers"]["science_sessions"]
    at = datetime.fromisoformat(published["published_at"])
    path = f"/api/v1/public/timetables/{school.code}/{term_id}"
    context = {
        "school": f"{school.name}（{school.code}）",
        "region": words.region_path(school.region_code),
        "bureau": words.bureau(school.region_code),
        "term": found.term_name,
        "published_at": at,
        "days": days,
        "science": f"本学期每周开设科学类（科技活动）项目 {science} 次" if science else "本学期未开设科学类项目",
        "closing": f"本安排表以学校公布的版本为准，公开查询地址：{path}（JSON）。如对收费或安排有疑问，可向学校或{words.bureau(school.region_code)}反映。",
    }
    return Job("timetable.html", context, title="课后服务安排表", author=school.name, created=at)
