"""Every guard the workflow tables may use, registered in :data:`GUARDS`.

A guard is a pure predicate over the facts the service gathers before asking the
engine. `reads` lists the facts keys each guard needs; `decide` raises
``MissingFactsError`` when one is absent. Collections are "empty" when ``len() == 0``;
``None`` where a collection is expected is a bug in the caller and raises ``TypeError``.
"""

from __future__ import annotations

from workflows.table import Facts, GuardRegistry

GUARDS = GuardRegistry()


@GUARDS.guard(
    "documents_complete",
    "必备资质材料不齐全、已过期或尚未生效，请补齐有效材料后再办理",
    reads=("missing_documents", "expired_documents", "not_yet_valid_documents"),
)
def documents_complete(facts: Facts) -> bool:
    """Every mandatory qualification document is present and in force (started, unexpired)."""
    return not (facts["missing_documents"] or facts["expired_documents"] or facts["not_yet_valid_documents"])


@GUARDS.guard(
    "personnel_cleared",
    "仍有从业人员未完成或未通过资格、违法犯罪记录、健康或师德核查",
    reads=("uncleared_personnel",),
)
def personnel_cleared(facts: Facts) -> bool:
    """Every person listed on the application is cleared (all mandatory checks clear)."""
    return len(facts["uncleared_personnel"]) == 0


@GUARDS.guard(
    "different_reviewer",
    "初审人员不得作出终审决定，请由其他审核人员办理",
    reads=("preliminary_reviewer_id", "actor_id"),
)
def different_reviewer(facts: Facts) -> bool:
    """Four eyes, the one guard of every approval flow: the actor is not the first
    reviewer — the preliminary reviewer of an application, the requester of a whitelist
    action or of a bar lift (the facts name either ``preliminary_reviewer_id``). Fails
    closed on None. Each service words the refusal for its flow."""
    preliminary, actor = facts["preliminary_reviewer_id"], facts["actor_id"]
    return preliminary is not None and actor is not None and preliminary != actor


@GUARDS.guard(
    "notice_period_over",
    "公示期尚未届满",
    reads=("now", "notice_ends_at"),
)
def notice_period_over(facts: Facts) -> bool:
    """The public notice period has ended (both values aware datetimes)."""
    return facts["now"] >= facts["notice_ends_at"]


@GUARDS.guard(
    "no_open_objection",
    "公示期间收到的异议尚未处理完毕",
    reads=("open_objections",),
)
def no_open_objection(facts: Facts) -> bool:
    """No objection raised during the notice is still open."""
    return len(facts["open_objections"]) == 0


@GUARDS.guard(
    "has_open_objection",
    "没有待处理的异议",
    reads=("open_objections",),
)
def has_open_objection(facts: Facts) -> bool:
    """At least one objection raised during the notice is open."""
    return len(facts["open_objections"]) > 0


@GUARDS.guard(
    "timetable_conforms",
    "课后服务安排表不符合要求：兴趣类活动时间每天须不少于一半、每天至少一项兴趣类活动，并须开设科学类项目",
    reads=("timetable_problems",),
)
def timetable_conforms(facts: Facts) -> bool:
    """The timetable's numbers meet §1(1) (the service computes them, `timetables.rules`)."""
    return len(facts["timetable_problems"]) == 0
