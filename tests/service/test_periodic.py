"""The one periodic-job runner: a failing round is logged with its traceback (through
the one logging setup, which withholds statement parameters), the runner backs off and
keeps going; success resets the pace."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy.exc import IntegrityError

from service.logging import configure_logging
from service.periodic import delay, run_periodic


def test_the_delay_doubles_per_consecutive_failure_up_to_the_cap():
    assert [delay(2.0, n, max_backoff=30.0) for n in range(6)] == [2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert delay(120.0, 3, max_backoff=30.0) == 120.0  # never faster than the interval


async def test_a_failing_round_is_logged_with_its_traceback_and_the_runner_keeps_going(capsys):
    configure_logging("json", "info")
    row = IntegrityError(
        "INSERT INTO people ...",
        {"name": "王小明"},
        Exception("DETAIL: Key (id_number)=(360102199001010011) already exists"),
    )
    outcomes = [row, KeyError("x"), None, RuntimeError("again"), None]
    rounds, waits = [], []

    def fail_inside(error: Exception) -> None:
        raise error

    async def step() -> None:
        rounds.append(len(rounds))
        outcome = outcomes[len(rounds) - 1]
        if outcome is not None:
            try:
                fail_inside(outcome)
            except KeyError as error:
                raise LookupError("wrapped") from error

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == len(outcomes):
            raise asyncio.CancelledError

    capsys.readouterr()
    with pytest.raises(asyncio.CancelledError):
        await run_periodic("test_duty", step, 1.0, max_backoff=60.0, sleep=sleep)
    assert waits == [2.0, 4.0, 1.0, 2.0, 1.0]
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    failed = [line for line in lines if line["event"] == "test_duty_failed"]
    assert [line["failures"] for line in failed] == [1, 2, 1]
    assert [line["error_type"] for line in failed] == ["IntegrityError", "LookupError", "RuntimeError"]
    first, second = failed[0]["exception"], failed[1]["exception"]
    assert "Traceback" in first and "in fail_inside" in first and "IntegrityError" in first
    assert second.index("KeyError") < second.index("direct cause") < second.index("LookupError")  # the cause first
    logged = json.dumps(lines, ensure_ascii=False)
    assert "王小明" not in logged and "360102199001010011" not in logged


async def test_a_probe_waits_first_and_ends_when_its_step_is_done():
    """The outage probe's shape (service/db/outage.py): one interval before the first
    round, and the loop returns once a round reports it is done."""
    answers, events = [False, False, True], []

    async def step() -> bool:
        events.append("step")
        return answers[sum(e == "step" for e in events) - 1]

    async def sleep(seconds: float) -> None:
        events.append(seconds)

    await run_periodic("probe", step, 0.5, sleep=sleep, wait_first=True, until_done=True)
    assert events == [0.5, "step", 0.5, "step", 0.5, "step"]


async def test_a_step_that_returns_true_does_not_end_a_duty_unless_asked():
    rounds = []

    async def step() -> bool:
        rounds.append(1)
        return True

    async def sleep(seconds: float) -> None:
        if len(rounds) == 3:
            raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await run_periodic("duty", step, 1.0, sleep=sleep)
    assert len(rounds) == 3
