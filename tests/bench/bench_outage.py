"""Measure what a client and the log see while PostgreSQL is away.

    python tests/bench/bench_outage.py [--requests 200] [--port 18731]

Starts `schoolgate serve` (one worker, the embedded PostgreSQL in a temporary directory,
the default outage bounds unless SCHOOLGATE_DB_* are set, JSON logs captured), then:

1. stops PostgreSQL (fast shutdown, as in a restart) and sends `--requests` requests to
   `GET /api/v1/public/whitelist` (no login, reads the database): their status, the
   slowest answer, and the log lines and bytes they caused (tracebacks counted);
2. starts PostgreSQL again and times the first 2xx after `pg_ctl start` returned, and
   the outage watch's `database_available` line;
3. freezes PostgreSQL (SIGSTOP of the postmaster and every backend) and times a read,
   `/readyz`, and the same read again (each on a connection the pool already held or a
   new one), then resumes it.

Prints one figure per line. Not a test: the machine is shared; run it by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.db.private_server import PrivateServer  # noqa: E402

SCHOOLGATE = str(Path(sys.executable).with_name("schoolgate"))


def get(port: int, path: str, timeout: float = 60) -> tuple[int, float, dict]:
    started = time.monotonic()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as response:
            status, headers = response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        status, headers = error.code, dict(error.headers)
    return status, time.monotonic() - started, headers


def log_lines(log: Path, since: int) -> list[str]:
    return log.read_text().splitlines()[since:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--port", type=int, default=18731)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="schoolgate-bench-outage-"))
    log = work / "serve.log"
    env = {**os.environ, "SCHOOLGATE_DATA_DIR": str(work / "data"), "SCHOOLGATE_LOG_FORMAT": "json"}
    server = subprocess.Popen(
        [SCHOOLGATE, "serve", "--port", str(args.port)], env=env, stdout=subprocess.DEVNULL, stderr=log.open("w")
    )
    pg_dir = work / "data" / "pg"
    pg = None
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if get(args.port, "/readyz", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        pg = PrivateServer(pg_dir, f"postgresql://postgres@/postgres?host={pg_dir}")
        path = "/api/v1/public/whitelist"
        assert get(args.port, path)[0] == 200

        mark = len(log_lines(log, 0))
        pg.stop()
        answers = [get(args.port, path) for _ in range(args.requests)]
        statuses = sorted({status for status, _, _ in answers})
        lines = log_lines(log, mark)
        noise = [line for line in lines if '"event": "request"' not in line]
        print(
            f"stopped: {args.requests} requests -> statuses {statuses}, Retry-After "
            f"{answers[-1][2].get('retry-after')}, slowest {max(s for _, s, _ in answers) * 1000:.1f} ms"
        )
        print(
            f"stopped: log lines besides request lines {len(noise)} "
            f"({sum(len(line) + 1 for line in noise)} bytes), tracebacks {sum('Traceback' in line for line in lines)}"
        )

        pg.start()
        back = time.monotonic()
        tries = []
        while not tries or tries[-1][0] != 200:
            tries.append(get(args.port, path)[:2])
            time.sleep(0.005)
        print(
            f"restarted: first 2xx {1000 * (time.monotonic() - back):.1f} ms after pg_ctl start returned "
            f"(request {len(tries)}; earlier ones {sorted({status for status, _ in tries[:-1]})})"
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any('"database_available"' in line for line in log_lines(log, mark)):
            time.sleep(0.05)
        events = [json.loads(line).get("event") for line in log_lines(log, mark) if line.startswith("{")]
        print(
            "outage lines: "
            + ", ".join(
                f"{name} x{events.count(name)}"
                for name in ("database_unavailable", "database_still_unavailable", "database_available")
            )
        )

        with pg.frozen():
            for label, probe in (("read", path), ("readyz", "/readyz"), ("read again", path)):
                status, seconds, _ = get(args.port, probe)
                print(f"frozen: {label} -> {status} in {seconds:.2f} s")
        status, seconds, _ = get(args.port, path)
        print(f"resumed: read -> {status} in {seconds * 1000:.1f} ms")
    finally:
        server.terminate()
        server.wait(60)
        # The server restarted above is not the one `serve` started: stop it here.
        if pg is not None and (pg_dir / "postmaster.pid").exists():
            pg.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
