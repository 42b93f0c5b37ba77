"""Concurrent requests of one process, served in groups (read sharing, group commit).

While `in_flight` calls are running, requests that arrive wait in a queue; the next call
serves as many of them as `_take` allows, and each request gets its own result — or, if
the call fails, the group's error. With one request at a time, a group is that request.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections import deque
from typing import Generic, TypeVar

Request = TypeVar("Request")
Result = TypeVar("Result")


class Coalescer(ABC, Generic[Request, Result]):
    in_flight = 1

    def __init__(self) -> None:
        self._queue: deque[tuple[Request, asyncio.Future]] = deque()
        self._running = 0
        self._tasks: set[asyncio.Task] = set()  # the loop keeps only weak references to tasks

    async def submit(self, request: Request) -> Result:
        future = asyncio.get_running_loop().create_future()
        self._queue.append((request, future))
        if self._running < self.in_flight:
            self._running += 1
            task = asyncio.get_running_loop().create_task(self._drain())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await future

    @abstractmethod
    def _take(self, queue: deque[tuple[Request, asyncio.Future]]) -> list[tuple[Request, asyncio.Future]]:
        """The next group, taken off the queue (never empty while the queue is not)."""

    @abstractmethod
    async def _serve(self, requests: list[Request]) -> list[Result]:
        """One call for the whole group: a result per request, in order."""

    async def _drain(self) -> None:
        try:
            while self._queue:
                group = self._take(self._queue)
                try:
                    results = await self._serve([request for request, _ in group])
                    if len(results) != len(group):
                        raise RuntimeError(f"{type(self).__name__} served {len(results)} results for {len(group)}")
                except BaseException as error:  # every request of the group gets the error
                    for _, future in group:
                        if not future.done():
                            future.set_exception(error)
                    if isinstance(error, asyncio.CancelledError):
                        raise
                    continue
                for (_, future), result in zip(group, results):
                    if not future.done():
                        future.set_result(result)
        finally:
            self._running -= 1
