"""Benchmark the shared per-request path against the fixed reference (a bare Litestar app).

    python tests/bench/bench_stack.py [--rounds 3] [--duration 5] [--connections 64]
                                      [--profile DIR]

Needs `wrk` and `taskset` (Debian: `apt-get install wrk util-linux`); `--profile` needs
py-spy (`pip install py-spy`). What it does:

1. a migrated database (embedded PostgreSQL in a temporary directory, or
   SCHOOLGATE_BENCH_DATABASE_URL) and one school account;
2. `schoolgate serve --workers 1` and tests/bench/bare_app.py, both pinned to core 0 and
   served by service/serving.py; logging as in production (JSON, info, to /dev/null);
3. `--rounds` rounds, each: the bare app's `GET /healthz` (the reference), the service's
   `GET /healthz` (request id, the per-request log line, the access guard) and
   `GET /api/v1/me` (the same plus the token check) — wrk on core 1, `--connections`
   connections, `--duration` seconds each, after a warm-up;
4. prints one figure per line, the ratios to the reference of the same round (median over
   rounds) and the `..._goal` line for /healthz (≥ 0.85 × bare);
5. with `--profile DIR`, samples the service's worker with py-spy during one more run of
   each route and prints the share of samples spent in each of our per-request functions
   (raw stacks are kept in DIR).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(HERE))

from bench_lookup import SCHOOLGATE, bench_database, free_port, school_tokens, wait_ready, wrk  # noqa: E402
from reference import alternate, reference_server, report, with_cpu  # noqa: E402

# Our per-request functions, as py-spy names them (function (file)): their share of samples.
OURS = ("service/web/", "service/logging.py", "service/security/", "service/accounts/", "service/context.py")


def start_service(work: Path, owner_url: str, app_url: str, port: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHOOLGATE_")}
    env.update(
        SCHOOLGATE_DATABASE_URL=app_url,
        SCHOOLGATE_MIGRATION_DATABASE_URL=owner_url,
        SCHOOLGATE_DATA_DIR=str(work / "var"),
        SCHOOLGATE_LOG_FORMAT="json",
    )
    return subprocess.Popen(
        ["taskset", "-c", "0", SCHOOLGATE, "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def worker_pid(server: subprocess.Popen) -> int:
    children = psutil.Process(server.pid).children(recursive=True)
    if not children:
        raise SystemExit("the service has no worker process")
    return children[0].pid


def profile(pid: int, seconds: int, run, out: Path) -> collections.Counter:
    """py-spy's raw stacks of `pid` while `run()` loads it; inclusive sample counts per frame."""
    spy = subprocess.Popen(
        [
            "taskset",
            "-c",
            "1",
            "py-spy",
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(seconds),
            "--rate",
            "250",
            "--format",
            "raw",
            "--output",
            str(out),
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)
    run()
    spy.wait(timeout=seconds + 30)
    frames: collections.Counter = collections.Counter()
    total = 0
    for line in out.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        n = int(count)
        total += n
        for frame in set(stack.split(";")):
            frames[frame] += n
    frames["<total>"] = total
    return frames


def print_profile(name: str, frames: collections.Counter, ours: tuple[str, ...] = OURS, top: int = 12) -> None:
    total = frames.pop("<total>") or 1
    print(f"# profile {name}: {total} samples; inclusive share of our per-request functions")
    mine = [(frame, n) for frame, n in frames.items() if any(part in frame for part in ours)]
    for frame, n in sorted(mine, key=lambda item: -item[1])[:top]:
        print(f"#   {100 * n / total:5.1f}%  {frame}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--profile", type=Path, help="directory for py-spy's raw stacks")
    args = parser.parse_args()
    for tool in ("wrk", "taskset", *(["py-spy"] if args.profile else [])):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is needed")

    with bench_database("schoolgate-bench-stack-") as (work, owner_url, app_url):
        token = asyncio.run(school_tokens(app_url, 1))[0]
        port, bare_port = free_port(), free_port()
        server = start_service(work, owner_url, app_url, port)
        try:
            wait_ready(port, server)
            with reference_server(bare_port) as (bare_url, bare_pid):
                base = f"http://127.0.0.1:{port}"
                auth = {"Authorization": f"Bearer {token}"}
                measures = {
                    "healthz": with_cpu(
                        lambda seconds=args.duration: wrk(f"{base}/healthz", seconds, args.connections), server.pid
                    ),
                    "me": with_cpu(
                        lambda seconds=args.duration: wrk(f"{base}/api/v1/me", seconds, args.connections, headers=auth),
                        server.pid,
                    ),
                }
                reference = with_cpu(lambda seconds=args.duration: wrk(bare_url, seconds, args.connections), bare_pid)
                for measure in (reference, *measures.values()):
                    measure(args.warmup)
                summary = alternate(reference, measures, args.rounds)
                if args.profile:
                    args.profile.mkdir(parents=True, exist_ok=True)
                    pid = worker_pid(server)
                    profiles = {
                        name: profile(pid, args.duration, measure, args.profile / f"{name}.txt")
                        for name, measure in measures.items()
                    }
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    report("bare", summary["reference"])
    report("healthz", summary["healthz"])
    print(
        f"healthz_goal_ratio 0.85 {'met' if summary['healthz']['ratio'] >= 0.85 else 'NOT met'} "
        f"(by CPU per request: {'met' if summary['healthz']['cpu_ratio'] >= 0.85 else 'NOT met'})"
    )
    report("authenticated_me", summary["me"])
    if args.profile:
        for name, frames in profiles.items():
            print_profile(name, frames)
    return 0


if __name__ == "__main__":
    sys.exit(main())
