"""``schoolgate receipts verify FILE [--public-key FILE]``: check a lookup receipt offline.

FILE is the JSON of ``GET /api/v1/receipts/{id}`` (``-`` for standard input), or the PDF
of ``GET /api/v1/receipts/{id}.pdf``: then the signed JSON is taken from its attachment
``receipt.json``, and the SHA-256 printed on the page must be that of its canonical text
(so a page cannot carry another receipt's file). The key
should come from a channel you trust (``GET /api/v1/keys`` saved once, a PEM file, or
the ``vkey`` line). Without ``--public-key`` the key embedded in the receipt file is
used, and the verifier says so: that proves the receipt was not altered after it was
signed by *that* key, not that the key is the service's.

Exit status: 0 the receipt verifies; 1 it does not; 2 usage error or unreadable file.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from service.audit import KeyFormatError, parse_public_key
from service.lookup.receipts import Problem, verify
from service.printing import NotOurPdf


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="schoolgate receipts verify",
        description="Verify a SchoolGate lookup receipt offline (Ed25519 signature over the canonical JSON).",
    )
    parser.add_argument("file", help="the receipt JSON from GET /api/v1/receipts/{id} ('-' for stdin)")
    parser.add_argument(
        "--public-key",
        metavar="FILE",
        help="the service key: JSON of GET /api/v1/keys, a PEM public key, the vkey, or base64; "
        "default: the key inside the receipt file (integrity only)",
    )
    return parser


def _read(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def _read_receipt(path: str) -> tuple[str, str | None]:
    """The receipt JSON text, and the page text when FILE is a PDF (else None)."""
    from service.printing import attachment, is_pdf, printed_text

    data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    if not is_pdf(data):
        return data.decode("utf-8"), None
    return attachment(data, "receipt.json").decode("utf-8"), printed_text(data)


def _page_problems(served, page_text: str | None) -> list[Problem]:
    if page_text is None or not isinstance(served, dict) or not isinstance(served.get("canonical"), str):
        return []
    digest = hashlib.sha256(served["canonical"].encode()).hexdigest()
    if digest not in page_text:
        return [Problem("page_mismatch", "the SHA-256 printed on the PDF is not that of its attached receipt")]
    return []


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        text, page_text = _read_receipt(args.file)
        served = json.loads(text)
    except NotOurPdf as error:
        print(f"error: {args.file}: {error}", file=sys.stderr)
        return 2
    except (OSError, UnicodeDecodeError) as error:
        print(f"error: cannot read {args.file}: {error}", file=sys.stderr)
        return 2
    except ValueError as error:
        print(f"error: {args.file} is not JSON: {error}", file=sys.stderr)
        return 2
    try:
        if args.public_key:
            public_raw = parse_public_key(_read(args.public_key))
        else:
            embedded = served.get("public_key") if isinstance(served, dict) else None
            if not isinstance(embedded, str):
                print("error: the receipt file holds no public_key; pass --public-key FILE", file=sys.stderr)
                return 2
            public_raw = base64.b64decode(embedded, validate=True)
            print(
                "warning: no --public-key given: using the key embedded in the receipt file; this proves the "
                "receipt is unaltered since signed by that key, not that the key is the service's",
                file=sys.stderr,
            )
    except OSError as error:
        print(f"error: cannot read {args.public_key}: {error}", file=sys.stderr)
        return 2
    except (KeyFormatError, binascii.Error, ValueError) as error:
        print(f"error: bad public key: {error}", file=sys.stderr)
        return 2
    problems = verify(served, public_raw) + _page_problems(served, page_text)
    for problem in problems:
        print(f"{problem.code}: {problem.message}")
    receipt = served.get("receipt") if isinstance(served, dict) else None
    receipt_id = receipt.get("receipt_id") if isinstance(receipt, dict) else "?"
    if problems:
        print(f"receipt {receipt_id}: NOT verified ({len(problems)} problem(s))")
        return 1
    print(f"receipt {receipt_id}: verified (Ed25519, key {served.get('key_id', '?')})")
    return 0
