"""`schoolgate serve` on the embedded PostgreSQL: starts it, stops it on SIGTERM, and
recovers after being killed without a chance to clean up."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

SCHOOLGATE = str(Path(sys.executable).with_name("schoolgate"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postmaster_pid(data_dir: Path) -> int | None:
    pid_file = data_dir / "pg" / "postmaster.pid"
    if not pid_file.exists():
        return None
    pid = int(pid_file.read_text().splitlines()[0])
    return pid if psutil.pid_exists(pid) else None


def start(data_dir: Path, port: int, *extra: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "SCHOOLGATE_DATABASE_URL"}
    env.update(SCHOOLGATE_DATA_DIR=str(data_dir), SCHOOLGATE_LOG_FORMAT="json")
    return subprocess.Popen(
        [SCHOOLGATE, "serve", "--port", str(port), *extra], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


# initdb, migrations and worker start take seconds when idle but minutes on a loaded shared CI box.
def wait_ready(port: int, process: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited early: {process.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("service did not become ready")


def port_closes(port: int, patience: float = 15) -> bool:
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
        except httpx.HTTPError:
            return True
        time.sleep(0.2)
    return False


def stop(process: subprocess.Popen, sig=signal.SIGTERM) -> int:
    process.send_signal(sig)
    return process.wait(timeout=30)


@pytest.fixture
def data_dir() -> Iterator[Path]:
    # The embedded server runs as another OS user, and its wheel opens every parent of the
    # data dir to others. Not under pytest's tmp_path: every pytest session that starts on
    # the machine closes /tmp/pytest-of-<user> to its owner again, mid-initdb.
    root = Path(tempfile.mkdtemp(prefix="schoolgate-serve-", dir="/tmp"))
    yield root / "var"
    shutil.rmtree(root, ignore_errors=True)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_starts_embedded_postgres_and_stops_it_on_sigterm(data_dir, workers):
    port = free_port()
    process = start(data_dir, port, "--workers", workers)
    try:
        wait_ready(port, process)
        pg = postmaster_pid(data_dir)
        assert pg is not None
        response = httpx.get(f"http://127.0.0.1:{port}/api/v1/me")
        assert response.status_code == 401 and response.headers["x-request-id"]
    finally:
        code = stop(process)
    assert code == 0, process.stderr.read().decode()[-3000:]
    assert not psutil.pid_exists(pg) or psutil.Process(pg).status() == psutil.STATUS_ZOMBIE


def test_serve_recovers_after_being_killed(data_dir):
    port = free_port()
    first = start(data_dir, port)
    wait_ready(port, first)
    leaked = postmaster_pid(data_dir)
    stop(first, signal.SIGKILL)
    assert postmaster_pid(data_dir) == leaked  # the server outlived its holder
    assert port_closes(port), "a worker outlived its killed supervisor and still answers"

    second = start(data_dir, port)
    try:
        wait_ready(port, second)
    finally:
        assert stop(second) == 0
    deadline = time.monotonic() + 10
    while postmaster_pid(data_dir) is not None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert postmaster_pid(data_dir) is None, "the recovered server was not stopped"
