"""``schoolgate audit verify BUNDLE [--trusted-checkpoint FILE] [--public-key FILE]``.

Offline verification of an audit export bundle (format: `service.audit.bundle`).
Prints one line per problem, ``seq <n>: <code>: <message>`` (``seq -`` when a problem
is not about one event), warnings on stderr, then a summary line.

Exit status: 0 everything verified; 1 problems found; 2 usage error or unreadable file.
``BUNDLE`` may be ``-`` for standard input, and may be gzip-compressed (``.gz``).
"""

from __future__ import annotations

import argparse
import gzip
import sys
from collections.abc import Sequence
from typing import IO

from service.audit.bundle import verify_bundle
from service.audit.checkpoint import CheckpointError

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="schoolgate audit verify",
        description="Verify an audit export bundle offline: event hashes, Merkle tree, signed checkpoints.",
    )
    parser.add_argument("bundle", help="the bundle file (NDJSON, optionally .gz; '-' for stdin)")
    parser.add_argument(
        "--trusted-checkpoint",
        metavar="FILE",
        help="a checkpoint note saved earlier; the bundle must extend it (catches truncation and rewrites)",
    )
    parser.add_argument(
        "--public-key",
        metavar="FILE",
        help="file holding the log's verifier key (name+keyid+base64); default: the key in the bundle header",
    )
    return parser


def _read_text(path: str, what: str) -> str:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise _UsageError(f"cannot read {what} {path}: {exc}") from None


class _UsageError(Exception):
    pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run the verifier; ``argv`` holds the arguments after ``schoolgate audit verify``
    (default: ``sys.argv[1:]``). Returns the exit status (0 ok, 1 problems, 2 usage)."""
    parser = _parser()
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:  # argparse reports usage errors with status 2
        return int(exc.code or 0)
    try:
        vkey = _read_text(args.public_key, "public key file").strip() if args.public_key else None
        trusted = _read_text(args.trusted_checkpoint, "trusted checkpoint file") if args.trusted_checkpoint else None
        raw: IO[bytes]
        if args.bundle == "-":
            raw = sys.stdin.buffer
        else:
            try:
                raw = open(args.bundle, "rb")  # noqa: SIM115 - closed below
            except OSError as exc:
                raise _UsageError(f"cannot read bundle {args.bundle}: {exc}") from None
        try:
            stream: IO[bytes] = gzip.GzipFile(fileobj=raw) if args.bundle.endswith(".gz") else raw  # type: ignore[assignment]
            try:
                report = verify_bundle(stream, vkey, trusted)
            except CheckpointError as exc:
                raise _UsageError(f"bad public key: {exc}") from None
            except (OSError, EOFError) as exc:
                raise _UsageError(f"cannot read bundle {args.bundle}: {exc}") from None
            finally:
                if stream is not raw:
                    stream.close()
        finally:
            if raw is not sys.stdin.buffer:
                raw.close()
    except _UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for problem in report.problems:
        print(problem)
    print(report.summary())
    return 0 if report.ok else 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
