"""A PostgreSQL server of the test's own, to stop, start, freeze and dump.

Outage tests must not touch the session's server (every other test uses it). This one
is the same embedded server in a directory of its own; it is controlled through its
processes and the binaries beside its postmaster, so it works with any embedded wheel
that serves on a Unix socket.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
from sqlalchemy.engine import make_url


class PrivateServer:
    def __init__(self, pg_dir: Path, url: str) -> None:
        self.pg_dir = pg_dir
        self.url = url
        self.socket_dir = make_url(url).query["host"]
        postmaster = self.postmaster()
        self.bin_dir = Path(postmaster.exe()).parent
        # As root, the embedded server runs as an unprivileged user: pg_ctl must too.
        self.user = postmaster.username() if os.geteuid() == 0 else None

    def postmaster(self) -> psutil.Process:
        return psutil.Process(int((self.pg_dir / "postmaster.pid").read_text().split()[0]))

    def _family(self) -> list[psutil.Process]:
        postmaster = self.postmaster()
        return [postmaster, *postmaster.children(recursive=True)]

    @contextmanager
    def frozen(self) -> Iterator[None]:
        """SIGSTOP the postmaster and every backend (stopping the postmaster alone only
        blocks new connections); SIGCONT them all afterwards, whatever happened."""
        family = self._family()
        for process in family:
            process.send_signal(signal.SIGSTOP)
        try:
            yield
        finally:
            for process in family:
                process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        """Fast shutdown (SIGINT): sessions are ended, as in a restart or failover."""
        postmaster = self.postmaster()
        postmaster.send_signal(signal.SIGINT)
        postmaster.wait(30)

    def start(self) -> None:
        subprocess.run(
            [
                str(self.bin_dir / "pg_ctl"),
                "-D",
                str(self.pg_dir),
                "-w",
                "-t",
                "60",
                "-o",
                '-h ""',
                "-o",
                f"-k {self.socket_dir}",
                "-l",
                str(self.pg_dir / "restart.log"),
                "start",
            ],
            check=True,
            user=self.user,
            capture_output=True,
            timeout=90,
        )
        deadline = time.monotonic() + 30
        while not (self.pg_dir / "postmaster.pid").exists() and time.monotonic() < deadline:
            time.sleep(0.05)

    def dump(self, database: str) -> str:
        """The whole database as SQL text (schema and data)."""
        result = subprocess.run(
            [str(self.bin_dir / "pg_dump"), "-h", self.socket_dir, "-U", "postgres", database],
            check=True,
            capture_output=True,
            timeout=120,
        )
        return result.stdout.decode("utf-8")
