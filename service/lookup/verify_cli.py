"""``schoolgate receipts verify FILE [--public-key FILE]``: check a lookup receipt offline.

FILE is the JSON of ``GET /api/v1/receipts/{id}`` (``-`` for standard input). The key
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
import json
import sys
from collections.abc import Sequence

from service.audit.publickey import KeyFormatError, parse_public_key
from service.lookup.receipts import verify


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="schoolgate receipts verify",
                                     description="Verify a SchoolGate lookup receipt offline (Ed25519 signature "
                                                 "over the canonical JSON).")
    parser.add_argument("file", help="the receipt JSON from GET /api/v1/receipts/{id} ('-' for stdin)")
    parser.add_argument("--public-key", metavar="FILE",
                        help="the service key: JSON of GET /api/v1/keys, a PEM public key, the vkey, or base64; "
                             "default: the key inside the receipt file (integrity only)")
    return parser


def _read(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        served = json.loads(_read(args.file))
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
            print("warning: no --public-key given: using the key embedded in the receipt file; this proves the "
                  "receipt is unaltered since signed by that key, not that the key is the service's",
                  file=sys.stderr)
    except OSError as error:
        print(f"error: cannot read {args.public_key}: {error}", file=sys.stderr)
        return 2
    except (KeyFormatError, binascii.Error, ValueError) as error:
        print(f"error: bad public key: {error}", file=sys.stderr)
        return 2
    problems = verify(served, public_raw)
    for problem in problems:
        print(f"{problem.code}: {problem.message}")
    receipt = served.get("receipt") if isinstance(served, dict) else None
    receipt_id = receipt.get("receipt_id") if isinstance(receipt, dict) else "?"
    if problems:
        print(f"receipt {receipt_id}: NOT verified ({len(problems)} problem(s))")
        return 1
    print(f"receipt {receipt_id}: verified (Ed25519, key {served.get('key_id', '?')})")
    return 0
