"""Benchmark the offline bundle verifier.

    python tests/bench/bench_verify.py [N] [--repeat R]

Builds a synthetic N-event bundle (default 1,000,000; realistic ~400-byte canonical
events) in a temporary file, then runs `verify_bundle` over it R times (default 5) and
prints ``verify_events_per_second <n>`` for the fastest run (wall clock), then, on
stderr, every run's rate by wall clock and per CPU second (shared machines are noisy).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from service.audit import merkle
from service.audit.bundle import BundleEvent, verify_bundle, write_bundle
from service.audit.checkpoint import Checkpoint, make_vkey, sign

ORIGIN = "schoolgate.example/audit"
ACTIONS = ["vendor.update", "vendor.approve", "person.view", "document.upload", "account.login", "school.update"]
ROLES = ["region_admin", "school_admin", "vendor_staff", "auditor"]
REASONS = [None, "年度复核", "资质审核通过", "annual re-check", "证件过期，补充材料", "requested by school"]


def synthetic_events(n: int, seed: int = 7):
    rng = random.Random(seed)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    accounts = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(50)]
    for seq in range(n):
        document = {
            "v": 1,
            "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "time": (t0 + timedelta(seconds=seq * 3, microseconds=rng.randrange(10**6))).isoformat(),
            "actor": {"account_id": rng.choice(accounts), "role": rng.choice(ROLES)},
            "action": rng.choice(ACTIONS),
            "object": {"type": "vendor", "id": str(uuid.UUID(int=rng.getrandbits(128), version=4))},
            "region": rng.choice(["360100", "360200", "360300", "360400"]),
            "changes": {"status": {"before": "pending", "after": rng.choice(["approved", "rejected"])}},
            "reason": rng.choice(REASONS),
            "evidence": [],
            "request_id": f"req-{rng.getrandbits(48):012x}",
        }
        yield seq, json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def build(path: str, n: int) -> tuple[str, int]:
    key = Ed25519PrivateKey.generate()
    tree = merkle.CompactTree()
    rows: list[tuple[int, bytes, list[bytes]]] = []
    total_canonical = 0
    for seq, text in synthetic_events(n):
        nodes = [h for _, _, h in tree.append(merkle.leaf_hash(text))]
        rows.append((seq, text, nodes))
        total_canonical += len(text)
    note = sign(Checkpoint(ORIGIN, n, tree.root(), datetime.now(UTC).replace(microsecond=0)), key)
    vkey = make_vkey(ORIGIN, key.public_key())
    with open(path, "wb") as fh:
        write_bundle(
            fh,
            origin=ORIGIN,
            public_key=vkey,
            start=0,
            end=n,
            checkpoints=[note],
            events=(BundleEvent(seq, text, nodes) for seq, text, nodes in rows),
        )
    return vkey, total_canonical // max(n, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bundle.ndjson")
        t0 = time.perf_counter()
        vkey, avg = build(path, args.n)
        size = os.path.getsize(path)
        print(
            f"# built {args.n} events in {time.perf_counter() - t0:.1f}s: {size / 1e6:.1f} MB, "
            f"avg canonical event {avg} bytes",
            file=sys.stderr,
        )
        gc.collect()
        os.sync()  # let the kernel finish writing the file back before timing
        rates, cpu_rates = [], []
        for _ in range(args.repeat):
            with open(path, "rb") as fh:
                t0, c0 = time.perf_counter(), time.process_time()
                report = verify_bundle(fh, vkey, None)
                elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
            if not report.ok or report.events != args.n:
                print("verification failed:", *report.problems, sep="\n", file=sys.stderr)
                return 1
            rates.append(args.n / elapsed)
            cpu_rates.append(args.n / cpu)
    print(f"verify_events_per_second {int(max(rates))}")
    print(
        "# wall-clock runs (events/s): "
        + ", ".join(f"{int(r)}" for r in rates)
        + "; per CPU second: "
        + ", ".join(f"{int(r)}" for r in cpu_rates),
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
