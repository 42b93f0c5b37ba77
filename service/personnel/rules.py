"""Rules personnel publishes to other domains, each stated twice side by side: a pure
Python predicate for the write side and the SQL fragment that says the same for the
read side (the person lookup composes its statement from the fragments).
tests/personnel/test_rules.py holds each pair together on generated cases."""

from __future__ import annotations

from datetime import date, datetime


def engagement_in_force(ended_at: datetime | None, start_date: date, today: date) -> bool:
    """Does an engagement let the person into schools for its vendor on `today` (China
    date)? From its start date until a departure is recorded. A vendor manages a person
    it has engaged before the start date; only entry waits for it. The regions whose
    settings apply to a person are those of the vendors engaging them in force."""
    return ended_at is None and start_date <= today


def engagement_in_force_sql(alias: str, today: str) -> str:
    """`engagement_in_force` over the engagements row `alias`; `today` is an SQL
    expression of type date (a bound parameter such as `$5`)."""
    return f"({alias}.ended_at IS NULL AND {alias}.start_date <= {today})"
