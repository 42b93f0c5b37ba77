"""``schoolgate audit verify-record FILE --public-key FILE``: check one imported record's proof offline.

FILE is the JSON of ``GET /api/v1/checks/{check_id}/proof`` (``-`` for standard input).
The key is the log's verifier key: the ``vkey`` line of ``GET /api/v1/audit/keys``, or
that JSON saved whole, obtained from a channel you trust. The proof's own `verified`
field is the service's word and is ignored here: everything is recomputed.

Exit status: 0 the record is proved; 1 it is not; 2 usage error or unreadable file.
"""

from __future__ import annotations

import json
import sys

from service.audit.checkpoint import CheckpointError, parse_vkey
from service.audit.commitment import verify_record_proof


def _read(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def _vkey(text: str) -> str:
    text = text.strip()
    if text.startswith("{"):
        found = json.loads(text).get("vkey")
        if not isinstance(found, str):
            raise ValueError("the JSON holds no vkey")
        return found
    return text


def main(proof_path: str, key_path: str, out=sys.stdout) -> int:
    try:
        proof = json.loads(_read(proof_path))
        verifier = parse_vkey(_vkey(_read(key_path)))
    except (OSError, ValueError, CheckpointError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    problems = verify_record_proof(proof, verifier)
    for problem in problems:
        print(f"{problem.code}: {problem.message}", file=out)
    if problems:
        print(f"FAILED: {len(problems)} problem(s)", file=out)
        return 1
    record, event = proof["record"], proof["event"]
    print(
        f"OK: record {proof['index']} of import {record.get('import_id')} (audit event {event['seq']}, "
        f"checkpoint size {proof['checkpoint'].get('size')})",
        file=out,
    )
    return 0
