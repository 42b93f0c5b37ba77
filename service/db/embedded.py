"""The embedded PostgreSQL (pgserver), kept behind this one module so it can be swapped.

pgserver counts the processes holding a server in `.handle_pids.json` and stops the
server only when the last holder leaves. A holder killed with SIGKILL never leaves, so
its pid would keep the server alive forever and keep us from stopping it: we drop dead
pids before attaching. A server left running by a killed holder is simply reused.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def forget_dead_holders(pg_dir: Path) -> list[int]:
    """Remove pids of processes that no longer exist from pgserver's holder list."""
    handles = pg_dir / ".handle_pids.json"
    if not handles.exists():
        return []
    try:
        pids = json.loads(handles.read_text() or "[]")
    except json.JSONDecodeError:
        pids = []
    alive = [pid for pid in pids if _pid_alive(pid)]
    handles.write_text(json.dumps(alive))
    return [pid for pid in pids if pid not in alive]


@contextmanager
def embedded_postgres(pg_dir: Path) -> Iterator[str]:
    """Start (or attach to) the server in `pg_dir`; stop it when the block ends."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        import pgserver

    pg_dir = Path(pg_dir).resolve()
    pg_dir.parent.mkdir(parents=True, exist_ok=True)
    forget_dead_holders(pg_dir)
    server = pgserver.get_server(pg_dir, cleanup_mode="stop")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
