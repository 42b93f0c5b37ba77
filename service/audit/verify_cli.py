"""``schoolgate audit verify BUNDLE [--trusted-checkpoint FILE] [--public-key FILE]``.

Offline verification of an audit export bundle (format: `service.audit.bundle`).
Prints one line per problem, ``seq <n>: <code>: <message>`` (``seq -`` when a problem
is not about one event), warnings on stderr, then a summary line.

Exit status: 0 everything verified; 1 problems found; 2 usage error or unreadable file.
``BUNDLE`` may be ``-`` for standard input, and may be gzip-compressed (``.gz``), or
the PDF of ``GET /api/v1/audit/report.pdf``, whose attached bundle is verified.

The files take what the API gives:

- ``--trusted-checkpoint``: the JSON of ``GET /api/v1/audit/checkpoints/latest`` (or of
  ``/checkpoints/{size}``, or an event's ``/events/{seq}`` with its checkpoint) saved as
  it came, or the checkpoint note itself, with or without its final newline (and with
  Windows line ends: the signature is over the note's own newlines);
- ``--public-key``: the forms ``schoolgate receipts verify`` accepts, read by the same
  parser (`service.audit.publickey`): the JSON of ``/api/v1/audit/keys`` or
  ``/api/v1/keys``, a PEM public key, the vkey, or the raw key in base64.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import sys
from collections.abc import Sequence
from typing import IO

from service.audit.bundle import verify_bundle
from service.audit.checkpoint import CheckpointError
from service.audit.publickey import KeyFormatError, read_public_key

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
        help="a checkpoint saved earlier (JSON of /api/v1/audit/checkpoints/latest, or its note); "
        "the bundle must extend it (catches truncation and rewrites)",
    )
    parser.add_argument(
        "--public-key",
        metavar="FILE",
        help="the log's key: JSON of /api/v1/audit/keys or /api/v1/keys, PEM, vkey or base64; "
        "default: the key in the bundle header",
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


REPORT_ATTACHMENT = "audit-bundle.ndjson"


def _bundle_of_report(raw: IO[bytes], path: str) -> IO[bytes]:
    """An audit report PDF (GET /api/v1/audit/report.pdf) carries its bundle as the
    associated file `audit-bundle.ndjson`: verify that. Any other file is read as is."""
    if raw.read(5) != b"%PDF-":
        raw.seek(0)
        return raw
    from service.printing import NotOurPdf, attachment

    raw.seek(0)
    data = raw.read()
    raw.close()
    try:
        return io.BytesIO(attachment(data, REPORT_ATTACHMENT))
    except NotOurPdf as exc:
        raise _UsageError(f"{path}: {exc}") from None


def trusted_note(text: str) -> str:
    """The checkpoint note in a trusted-checkpoint file: the ``note`` of the API's JSON
    (a checkpoint, or anything holding one under ``checkpoint``), or the note as saved —
    ending in exactly one newline, as a signed note does."""
    text = text.lstrip("\ufeff")
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise _UsageError(f"the trusted checkpoint file is not valid JSON: {exc}") from None
        if isinstance(data, dict) and isinstance(data.get("checkpoint"), dict):
            data = data["checkpoint"]
        note = data.get("note") if isinstance(data, dict) else None
        if not isinstance(note, str):
            raise _UsageError("the trusted checkpoint JSON holds no checkpoint 'note'")
        text = note
    return text.replace("\r\n", "\n").rstrip("\n") + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the verifier; ``argv`` holds the arguments after ``schoolgate audit verify``
    (default: ``sys.argv[1:]``). Returns the exit status (0 ok, 1 problems, 2 usage)."""
    parser = _parser()
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:  # argparse reports usage errors with status 2
        return int(exc.code or 0)
    try:
        key = None
        if args.public_key:
            try:
                key = read_public_key(_read_text(args.public_key, "public key file"))
            except KeyFormatError as exc:
                raise _UsageError(f"bad public key: {exc}") from None
        trusted = (
            trusted_note(_read_text(args.trusted_checkpoint, "trusted checkpoint file"))
            if args.trusted_checkpoint
            else None
        )
        raw: IO[bytes]
        if args.bundle == "-":
            raw = sys.stdin.buffer
        else:
            try:
                raw = open(args.bundle, "rb")  # noqa: SIM115 - closed below
            except OSError as exc:
                raise _UsageError(f"cannot read bundle {args.bundle}: {exc}") from None
            raw = _bundle_of_report(raw, args.bundle)
        try:
            # GzipFile is a BufferedIOBase, not a typing.IO, but has every method the reader uses.
            stream: IO[bytes] = gzip.GzipFile(fileobj=raw) if args.bundle.endswith(".gz") else raw  # type: ignore[assignment]
            try:
                report = verify_bundle(stream, key, trusted)
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
