"""Requests served in groups: each gets its own result, or its group's error."""

from __future__ import annotations

import asyncio

import pytest

from service.coalesce import Coalescer


class Doubler(Coalescer[int, int]):
    def __init__(self) -> None:
        super().__init__()
        self.groups: list[list[int]] = []

    def _take(self, queue):
        return [queue.popleft() for _ in range(min(3, len(queue)))]

    async def _serve(self, requests):
        self.groups.append(requests)
        await asyncio.sleep(0)
        if 13 in requests:
            raise ValueError("unlucky group")
        return [2 * r for r in requests]


async def test_requests_arriving_during_a_call_share_the_next_one():
    doubler = Doubler()
    results = await asyncio.gather(*(doubler.submit(n) for n in range(7)))
    assert results == [2 * n for n in range(7)]
    assert doubler.groups == [[0, 1, 2], [3, 4, 5], [6]]


async def test_a_failed_call_fails_its_group_only():
    doubler = Doubler()
    outcomes = await asyncio.gather(*(doubler.submit(n) for n in (1, 13, 2, 3, 4)), return_exceptions=True)
    assert all(isinstance(o, ValueError) for o in outcomes[:3]) and outcomes[3:] == [6, 8]
    assert await doubler.submit(5) == 10  # and the coalescer goes on serving


async def test_results_must_match_the_requests():
    class Short(Doubler):
        async def _serve(self, requests):
            return []

    with pytest.raises(RuntimeError):
        await Short().submit(1)
