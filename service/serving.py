"""The one way SchoolGate is put on the network: granian (a Rust HTTP server) on uvloop.

Chosen by measurement on one pinned core (docs/performance.md): the bare Litestar route
costs about 43 µs of CPU per request on granian, 74 µs on uvicorn with uvloop + httptools
and 170 µs on uvicorn's pure-Python defaults. The benchmarks' bare reference app is
served by this same function, with the same flags, so their ratios measure our own code.

granian always serves from worker processes under a supervisor. A worker must not outlive
its supervisor (killed with SIGKILL, it would leave a worker answering on the port with
nobody to stop it), so each worker asks Linux for SIGTERM when its parent dies.
"""

from __future__ import annotations

import ctypes
import importlib
import os
import signal

TARGET_ENV = "SCHOOLGATE_SERVE_TARGET"
SUPERVISOR_ENV = "SCHOOLGATE_SERVE_SUPERVISOR"
PR_SET_PDEATHSIG = 1
# granian's own loggers go to the root logger, which service/logging.py renders as ours.
LOG_CONFIG = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {},
    "loggers": {"_granian": {"propagate": True}, "granian.access": {"propagate": True}},
}


def serve(target: str, *, host: str, port: int, workers: int) -> None:
    """Serve the ASGI app made by the factory at `target` ("module:function") until
    SIGINT or SIGTERM; returns after the workers have shut down gracefully."""
    from granian import Granian
    from granian.constants import Interfaces, Loops

    os.environ[TARGET_ENV] = target  # read by worker_app, in each worker
    os.environ[SUPERVISOR_ENV] = str(os.getpid())
    Granian(
        "service.serving:worker_app",
        factory=True,
        address=host,
        port=port,
        workers=workers,
        interface=Interfaces.ASGI,
        loop=Loops.uvloop,
        log_dictconfig=LOG_CONFIG,
        log_access=False,
    ).serve()


def worker_app():
    """In a worker: tie its life to the supervisor's, then build the real app."""
    _die_with_supervisor(int(os.environ[SUPERVISOR_ENV]))
    module, _, factory = os.environ[TARGET_ENV].partition(":")
    return getattr(importlib.import_module(module), factory)()


def _die_with_supervisor(supervisor: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != supervisor:  # it died before the request was made
        os.kill(os.getpid(), signal.SIGTERM)
