"""The one optimistic-version check: a change names the version it was made against, and
is refused with 409 when someone changed the record since (no lost updates)."""

from __future__ import annotations

from typing import Any

from service.errors import Conflict, InvalidInput

_NO_STATE = object()


def check_version(sent: int | None, current: int, *, required: str, conflict: str, state: Any = _NO_STATE) -> None:
    """`required`: the message when no version was sent (422); `conflict`: the message
    when it is not the current one (409), with `{current}` for the current version.
    `state`, when given, is the record's state, reported with the conflict so that a
    client can tell what happened."""
    if sent is None:
        raise InvalidInput.field("version", "version_required", required)
    if sent != current:
        message = conflict.format(current=current)
        detail: dict[str, Any] = {
            "field": "version",
            "code": "version_conflict",
            "message": message,
            "current_version": current,
            "sent_version": sent,
        }
        if state is not _NO_STATE:
            detail["state"] = state
        raise Conflict(message, code="version_conflict", details=[detail])
