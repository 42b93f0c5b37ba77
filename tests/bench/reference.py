"""The fixed reference of the HTTP benchmarks, and the way to measure against it.

`reference_server()` starts tests/bench/bare_app.py (a bare Litestar app with one JSON
route) pinned to core 0, served by service/serving.py exactly as `schoolgate serve` is.
`alternate()` runs the reference and each measured target in turn, round after round,
so that the noise of a shared machine falls on both sides alike; every figure is then
reported as a ratio to the reference run of its own round (the median over the rounds).
A faster shared path shows as a higher ratio; a faster server or framework moves both
sides and leaves the ratio to our own code.

Requests/s on a shared machine swing with whatever else runs on core 0, so each run also
counts the CPU time the server's processes spent (psutil) per request answered: the ratio
of CPU per request (reference / target) is the steadier of the two figures.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent


def wait_http(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server for {url} exited early")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and all its children (the server's workers)."""
    root = psutil.Process(pid)
    total = 0.0
    for process in [root, *root.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def with_cpu(run, pid: int):
    """`run` (a wrk run returning figures), also measuring the server's CPU µs per request."""

    def measure(*args):
        before = cpu_seconds(pid)
        figures = run(*args)
        figures["cpu_us"] = (cpu_seconds(pid) - before) * 1e6 / max(figures["requests"], 1)
        return figures

    return measure


def settle(pid: int, idle_cpu: float = 0.05, limit: float = 120.0) -> float:
    """Wait until the server's processes spend under `idle_cpu` of a core over a second
    (at most `limit` s): each worker runs its start-up duties — the vendor cache warm,
    the reminder and webhook scans over every person — which would otherwise land in
    the first measured run. Returns the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        before = cpu_seconds(pid)
        time.sleep(1.0)
        if cpu_seconds(pid) - before < idle_cpu:
            break
    return time.monotonic() - started


@contextmanager
def reference_server(port: int, core: str = "0") -> Iterator[tuple[str, int]]:
    """The bare app on `port`, pinned like the service; yields its URL and pid."""
    process = subprocess.Popen(
        ["taskset", "-c", core, sys.executable, str(HERE / "bare_app.py"), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        wait_http(url, process)
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


Measure = Callable[[], dict[str, float]]


def alternate(reference: Measure, targets: dict[str, Measure], rounds: int) -> dict[str, dict[str, float]]:
    """Run reference, then every target, `rounds` times. Returns per name (the reference as
    "reference"): median rps, worst p99, median ratio to the reference of the same round,
    the sum of non-2xx answers and requests, and with CPU figures (`with_cpu`) the median
    CPU µs per request and the median ratio of CPU per request."""
    runs: dict[str, list[dict[str, float]]] = {"reference": [], **{name: [] for name in targets}}
    ratios: dict[str, list[float]] = {name: [] for name in targets}
    cpu_ratios: dict[str, list[float]] = {name: [] for name in targets}
    for _ in range(rounds):
        base = reference()
        runs["reference"].append(base)
        for name, measure in targets.items():
            figures = measure()
            runs[name].append(figures)
            ratios[name].append(figures["rps"] / base["rps"])
            if "cpu_us" in figures and "cpu_us" in base:
                cpu_ratios[name].append(base["cpu_us"] / figures["cpu_us"])
    summary = {}
    for name, figures in runs.items():
        summary[name] = {
            "rps": statistics.median(f["rps"] for f in figures),
            "p50_ms": statistics.median(f["p50_ms"] for f in figures),
            "p99_ms": max(f["p99_ms"] for f in figures),
            "non2xx": sum(f["non2xx"] for f in figures),
            "requests": sum(f["requests"] for f in figures),
            "ratio": statistics.median(ratios[name]) if name in ratios else 1.0,
            "ratios": ratios.get(name, []),
        }
        if all("cpu_us" in f for f in figures):
            summary[name]["cpu_us"] = statistics.median(f["cpu_us"] for f in figures)
            summary[name]["cpu_ratio"] = statistics.median(cpu_ratios[name]) if cpu_ratios.get(name) else 1.0
    return summary


def report(prefix: str, figures: dict[str, float]) -> None:
    """One figure per line, as the benchmarks print them."""
    print(f"{prefix}_rps {figures['rps']:.0f}")
    if figures.get("ratios"):
        rounds = " ".join(f"{r:.3f}" for r in figures["ratios"])
        print(f"{prefix}_ratio {figures['ratio']:.3f} (to the bare app; rounds: {rounds})")
    if "cpu_us" in figures:
        print(f"{prefix}_cpu_us_per_request {figures['cpu_us']:.1f}")
        if figures.get("ratios"):
            print(f"{prefix}_cpu_ratio {figures['cpu_ratio']:.3f} (the bare app's CPU per request / this one's)")
    print(f"{prefix}_p50_ms {figures['p50_ms']:.2f}")
    print(f"{prefix}_p99_ms {figures['p99_ms']:.2f}")
    if figures["non2xx"]:
        print(f"{prefix}_non2xx {figures['non2xx']:.0f}")


async def copy_staff(conn, people: list[tuple], checks: list[tuple], engagements: list[tuple]) -> None:
    """Bulk-load generated people, their checks and engagements with COPY, in one
    transaction (the person and order benchmarks load the same three tables)."""
    async with conn.transaction():
        await conn.copy_records_to_table(
            "people",
            records=people,
            columns=[
                "id",
                "id_number_index",
                "id_number_ciphertext",
                "id_number_masked",
                "name",
                "gender",
                "birth_date",
                "created_at",
            ],
        )
        await conn.copy_records_to_table(
            "background_checks",
            records=checks,
            columns=[
                "id",
                "person_id",
                "check_type",
                "result",
                "query_date",
                "reference",
                "issuing_authority",
                "consent_document_id",
                "recorded_at",
            ],
        )
        await conn.copy_records_to_table(
            "engagements",
            records=engagements,
            columns=["id", "person_id", "vendor_id", "role", "start_date", "created_at"],
        )
