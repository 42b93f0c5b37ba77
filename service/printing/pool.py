"""The render pool: PDFs are made in worker processes, off the event loop, with a time limit.

A render is CPU-bound Python (layout, font subsetting) that would hold the GIL for
seconds; in a thread it would still slow every lookup the worker serves. In a process
it costs the event loop nothing. A render that runs over its limit is answered 503 and
its process is killed (a thread could not be stopped), so no worker stays stuck; the
pool starts afresh on the next render. Killing the pool also ends the renders that were
sharing it at that moment: they get 503 too and may be asked again.

One pool per process, shared by every app the process builds (tests build many).
Processes are spawned, not forked: the parent runs an event loop and threads. They run
at a lower CPU priority (nice 10): a render is batch work that may wait; a lookup
answered by the event loop on the same cores may not.

The pool is shut down when its process exits, by `atexit` and also by a
multiprocessing finalizer: a server worker that is itself a multiprocessing child
(granian's) leaves through `os._exit`, where `atexit` never runs, and joins its
children first, so without the finalizer it would wait for ever on the idle render
process and the server would not stop on SIGTERM.
"""

from __future__ import annotations

import asyncio
import atexit
import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import util as multiprocessing_util

from service.errors import DomainError
from service.logging import get_logger
from service.printing import engine

log = get_logger("schoolgate.printing")
RENDER_NICE = 10


def _start_worker() -> None:
    """In each worker process: yield the CPU to the service, then load the font."""
    os.nice(RENDER_NICE)
    engine.warm()


class RenderUnavailable(DomainError):
    status_code = 503
    code = "render_unavailable"
    message = "文档生成超时或暂不可用，请稍后重试"


class RenderPool:
    def __init__(self, workers: int = 1, timeout: float = 60.0) -> None:
        self.workers = workers
        self.timeout = timeout
        self._executor: ProcessPoolExecutor | None = None
        self._finalizer_pid: int | None = None
        self._lock = threading.Lock()

    def configure(self, *, workers: int, timeout: float) -> None:
        self.workers, self.timeout = workers, timeout

    def _pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"), initializer=_start_worker
                )
                if self._finalizer_pid != os.getpid():
                    self._register_finalizer()
            return self._executor

    def _register_finalizer(self) -> None:
        """Shut the pool down before multiprocessing joins this process's children at exit
        (priority >= 0 runs first), and before the executor's own queues close their feeder
        threads (priority 10), or the workers' stop signals would never be sent.
        Registered in the process that made the pool: a forked child starts with an empty
        finalizer registry."""
        multiprocessing_util.Finalize(self, RenderPool.shutdown, args=(self,), exitpriority=100)
        self._finalizer_pid = os.getpid()

    def _kill(self, executor: ProcessPoolExecutor) -> None:
        """Stop `executor`'s processes now (a render over its limit), and forget it."""
        with self._lock:
            if self._executor is executor:
                self._executor = None
        for process in list((getattr(executor, "_processes", None) or {}).values()):
            process.kill()
        executor.shutdown(wait=False, cancel_futures=True)

    async def render(self, job: engine.Job, *, timeout: float | None = None) -> bytes:
        executor = self._pool()
        limit = self.timeout if timeout is None else timeout
        loop = asyncio.get_running_loop()
        try:
            return await asyncio.wait_for(loop.run_in_executor(executor, engine.render, job), limit)
        except TimeoutError:
            log.warning("render_timeout", template=job.template, limit_seconds=limit)
            self._kill(executor)
            raise RenderUnavailable() from None
        except BrokenProcessPool:
            log.warning("render_pool_broken", template=job.template)
            self._kill(executor)
            raise RenderUnavailable() from None

    def shutdown(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)


POOL = RenderPool()
atexit.register(POOL.shutdown)
