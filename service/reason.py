"""The one cleaner of a reason given with a decision (a review step, an objection, a
whitelist action, a bar lift): trimmed, empty is no reason, refused past its limit.

The limits and the too-long code differ per domain because their columns and their
published error codes do (whitelist and applications: 2,000 and `reason_too_long`;
bar lifts: 1,000 and `too_long`)."""

from __future__ import annotations

from service.errors import problem, raise_problems

DEFAULT_LIMIT = 2000


def clean_reason(
    reason: str | None,
    *,
    required: bool = False,
    limit: int = DEFAULT_LIMIT,
    required_message: str = "请填写理由",
    too_long_code: str = "reason_too_long",
    problems: list[dict] | None = None,
) -> str | None:
    """The reason as stored, or None. A missing required reason or one past `limit` is
    a problem of the field `reason`: appended to `problems` when given (a form reports
    all its problems at once), else raised at once (422)."""
    cleaned = (reason or "").strip()
    found = None
    if not cleaned:
        if required:
            found = problem("reason", "reason_required", required_message)
    elif len(cleaned) > limit:
        found = problem("reason", too_long_code, f"理由不能超过 {limit} 个字符")
    if found is not None:
        if problems is None:
            raise_problems([found])
        else:
            problems.append(found)
    return cleaned or None
