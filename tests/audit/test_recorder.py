"""The canonical event format: one builder, stable bytes."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from enum import StrEnum

from hypothesis import given, settings
from hypothesis import strategies as st

from service.audit.recorder import AUDIT_COLUMNS, _plain, build_event, canonical_json
from service.security.actor import Actor, Role


def reference_json(document) -> bytes:
    """The format as first specified: stdlib json over the plain values."""

    def plain(value):
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, (date, uuid.UUID)):
            return str(value)
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple, set, frozenset)):
            items = [plain(v) for v in value]
            return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
        if hasattr(value, "value") and isinstance(value.value, (str, int)):
            return value.value
        return value

    return json.dumps(plain(document), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class Colour(StrEnum):
    RED = "red"


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.dates(),
    st.uuids(),
    st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=8))])),
    st.just(Colour.RED),
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None, database=None)
@given(st.dictionaries(st.text(max_size=8), documents, max_size=6))
def test_canonical_bytes_equal_the_specified_format(document):
    assert canonical_json(document) == reference_json(document)


def test_sets_are_sorted_and_utc_keeps_its_offset():
    moment = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    assert canonical_json({"s": {"b", "a"}, "t": moment}) == b'{"s":["a","b"],"t":"2026-01-02T03:04:05.000006+00:00"}'
    assert _plain(frozenset({3, 1})) == [1, 3]


def test_build_event_row_matches_its_canonical_document():
    actor = Actor(account_id=uuid.uuid4(), role=Role.REVIEWER, region_code="360000")
    row = build_event(
        actor,
        "personnel:check:record",
        "background_check",
        "x1",
        region_code="360104",
        changes={"result": {"before": None, "after": "clear"}},
        request_id="req-1",
    )
    document = json.loads(row.canonical)
    assert document["event_id"] == str(row.event_id) and document["time"] == row.occurred_at.isoformat()
    assert document["actor"] == {"account_id": str(actor.account_id), "role": "reviewer"}
    assert (row.action, row.object_type, row.object_id, row.region_code, row.request_id) == (
        "personnel:check:record",
        "background_check",
        "x1",
        "360104",
        "req-1",
    )
    assert list(row._fields) == list(AUDIT_COLUMNS)


def test_plain_changes_give_the_same_bytes_as_walked_ones():
    actor = Actor(account_id=uuid.uuid4(), role=Role.REVIEWER)
    changes = {"result": {"before": None, "after": "clear"}, "n": 3, "list": ["b", "a"], "ok": True}
    walked = build_event(actor, "a:b:c", "t", uuid.UUID(int=1), changes=changes, request_id=None)
    plain = build_event(actor, "a:b:c", "t", uuid.UUID(int=1), changes=changes, request_id=None, plain_changes=True)
    strip = lambda row: json.loads(row.canonical) | {"event_id": None, "time": None}  # noqa: E731
    assert strip(walked) == strip(plain)
    assert reference_json(json.loads(plain.canonical)) == plain.canonical
