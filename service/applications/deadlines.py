"""How long each review stage should take, and when an application is overdue.

The targets are working agreements of the bureaus, not the notice's: a file waiting
longer than its stage's target is highlighted in the reviewer's queue. Pure: no I/O."""

from __future__ import annotations

from workflows.entry_review import EntryState

DAY = 86400
#: Stage -> target in days. Stages not listed (the vendor's, the notice, final ones) have none.
STAGE_TARGET_DAYS: dict[str, int] = {
    EntryState.SUBMITTED: 3,
    EntryState.PRELIMINARY_REVIEW: 10,
    EntryState.VERIFICATION: 15,
    EntryState.FINAL_REVIEW: 10,
    EntryState.OBJECTION_REVIEW: 10,
}
#: The stages where a reviewer has the next step: the reviewer's to-do list.
REVIEW_STAGES: tuple[str, ...] = tuple(STAGE_TARGET_DAYS)


def target_seconds(stage: str) -> int | None:
    days = STAGE_TARGET_DAYS.get(stage)
    return days * DAY if days is not None else None


def is_overdue(stage: str, seconds_in_stage: int) -> bool:
    target = target_seconds(stage)
    return target is not None and seconds_in_stage > target
