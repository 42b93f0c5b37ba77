"""A school's after-school timetable for a term (课后服务安排表, §1(3)).

Read top to bottom: the school drafts it; files it with the county bureau (备案) once
its numbers conform (interest time, a daily interest activity, science present); then
publishes it for parents. A filed or published timetable goes back to draft to be
revised — after publication only with a reason, which stays in the audit trail.
"""

from __future__ import annotations

from enum import StrEnum

from workflows.guards import GUARDS, timetable_conforms
from workflows.roles import RoleTag
from workflows.table import Transition, Workflow


class TimetableState(StrEnum):
    DRAFT = "draft"
    FILED = "filed"
    PUBLISHED = "published"


DRAFT, FILED, PUBLISHED = TimetableState
SCHOOL = frozenset({RoleTag.SCHOOL})

T = Transition

TIMETABLE = Workflow(
    name="timetable",
    states=tuple(TimetableState),
    initial=DRAFT,
    final_states=frozenset(),
    roles=tuple(RoleTag),
    known_guards=GUARDS,
    state_labels={DRAFT: "草稿", FILED: "已备案", PUBLISHED: "已公布"},
    action_labels={"file": "报县级教育行政部门备案", "publish": "向家长公布", "revise": "撤回修改"},
    transitions=(
        T("file", DRAFT, FILED, SCHOOL, guards=(timetable_conforms,)),
        T("publish", FILED, PUBLISHED, SCHOOL),
        T("revise", FILED, DRAFT, SCHOOL),
        T("revise", PUBLISHED, DRAFT, SCHOOL, requires_reason=True),
    ),
)
