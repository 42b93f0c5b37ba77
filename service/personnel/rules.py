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


def bar_lift_in_force(confirmed_at: datetime | None, closed_at: datetime | None) -> bool:
    """Does a bar lift lift its adverse check? Once a second reviewer has confirmed it,
    and as long as it is not closed (a declined or withdrawn request is a record only)."""
    return confirmed_at is not None and closed_at is None


def bar_lift_in_force_sql(alias: str) -> str:
    """`bar_lift_in_force` over the bar_lifts row `alias` (its `closed_at IS NULL` lets the
    planner use the partial unique index uq_bar_lifts_check_open)."""
    return f"({alias}.closed_at IS NULL AND {alias}.confirmed_at IS NOT NULL)"
