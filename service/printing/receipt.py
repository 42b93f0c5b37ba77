"""The lookup receipt as a PDF, for the school's files.

The served receipt (the JSON of `GET /api/v1/receipts/{id}`) is embedded unchanged as
the PDF/A-3 associated file `receipt.json`; the page says in words who checked, whom or
what, the answer, when, and the key, and prints the SHA-256 of the signed canonical
text, which the QR code carries with the receipt id. `schoolgate receipts verify` reads
the attachment and checks the printed hash against it (service/lookup/verify_cli.py).

Whom a person receipt was about: the receipt holds only keyed hashes. A `cleared` answer
names the person as the service records them, masked (`360102********123X`, `张*`); a
`not_cleared` answer names nobody — the answer has one shape for every reason, and
saying whether the number is known would tell more than the answer does.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from service.printing import qr, words
from service.printing.engine import Attachment, Job
from service.printing.rendering import check_size

RESULT_WORDS = {"cleared": ("可以入校", "green"), "not_cleared": ("未通过核验", "red")}
VENDOR_STATUS = {
    "active": ("在白名单", "green"),
    "suspended": ("暂停", "orange"),
    "revoked": ("已撤销", "red"),
    "expired": ("已过期", "grey"),
    "not_listed": ("未列入", "grey"),
}
KIND_WORDS = {"vendor": "机构核验", "person": "人员核验", "person_batch": "人员批量核验", "roster": "进校人员名单核验"}


def receipt_sha256(served: dict[str, Any]) -> str:
    return hashlib.sha256(served["canonical"].encode()).hexdigest()


def _person_row(query: dict, answer: dict, people: dict[str, tuple[str, str]]) -> dict[str, Any]:
    cleared = answer.get("result") == "cleared"
    masked_id, masked_name = people.get(query.get("id_number_hmac", ""), ("", "")) if cleared else ("", "")
    text, colour = RESULT_WORDS.get(answer.get("result") or "", (answer.get("result", "—"), "grey"))
    return {
        "id_number": masked_id or "—",
        "name": masked_name or "—",
        "hash": (query.get("id_number_hmac") or "")[:12],
        "result": text,
        "colour": colour,
        "valid_until": answer.get("valid_until"),
        "vendors": "、".join(v.get("name", "") for v in answer.get("vendors", [])) or "—",
    }


def receipt_job(
    served: dict[str, Any],
    *,
    school_name: str | None,
    people: dict[str, tuple[str, str]],
    vendor_names: dict[str, str] | None = None,
) -> Job:
    document = served["receipt"]
    kind = document.get("kind")
    query, answer = document.get("query") or {}, document.get("answer") or {}
    region_code = document.get("region_code")
    sha256 = receipt_sha256(served)
    context: dict[str, Any] = {
        "kind": kind,
        "kind_words": KIND_WORDS.get(kind, kind),
        "receipt_id": document["receipt_id"],
        "school_name": school_name,
        "caller_role": words.actor_role((document.get("caller") or {}).get("role"), region_code),
        "region": words.region_path(region_code),
        "time": document.get("time"),
        "as_of": document.get("as_of"),
        "key_id": served.get("key_id"),
        "checkpoint_size": document.get("audit_checkpoint_size"),
        "vendor": None,
        "bureau": words.bureau(region_code),
        "verify": {
            "qr": qr.qr_data_url(f"schoolgate:receipt?id={document['receipt_id']}&sha256={sha256}"),
            "sha256": sha256,
            "lines": [
                f"回执编号 {document['receipt_id']}；签名算法 Ed25519，密钥编号 {served.get('key_id')}。",
                "本文件内嵌签名回执（附件 receipt.json）。离线核验：schoolgate receipts verify 本文件.pdf "
                "--public-key keys.json（keys.json 为 GET /api/v1/keys 的内容）。",
            ],
        },
    }
    if kind == "vendor":
        status, colour = VENDOR_STATUS.get(answer.get("status") or "", (answer.get("status", "—"), "grey"))
        context["vendor"] = {
            "name": answer.get("name") or (vendor_names or {}).get(answer.get("credit_code") or "", "—"),
            "credit_code": answer.get("credit_code") or query.get("credit_code"),
            "status": status,
            "colour": colour,
            "services": answer.get("services", []),
        }
    elif kind == "roster":  # a gate roster sheet's receipt (service/printing/roster.py)
        people_answers = answer.get("people", [])
        check_size(len(people_answers), "receipt")
        context["rows"] = [_person_row({"id_number_hmac": a.get("id_number_hmac")}, a, people) for a in people_answers]
    elif kind == "person_batch":
        entries = query.get("entries", [])
        check_size(len(entries), "receipt")
        context["rows"] = [_person_row(q, a, people) for q, a in zip(entries, answer.get("results", []))]
    else:
        context["rows"] = [_person_row(query, answer, people)]
    created = datetime.fromisoformat(document["time"])
    return Job(
        "receipt.html",
        context,
        title="核验回执",
        author=context["bureau"],
        created=created,
        attachments=(
            Attachment(
                "receipt.json", json.dumps(served, ensure_ascii=False, indent=1).encode(), "签名的核验回执 JSON"
            ),
        ),
    )


async def receipt_pdf(db, signer, actor, receipt_id) -> bytes:
    """The PDF of a receipt the actor may see (404 otherwise), its download audited."""
    from uuid import UUID

    from service.lookup import get_receipt
    from service.personnel import masked_by_index
    from service.printing.rendering import render
    from service.printing.services import record_download
    from service.schools import schools_by_ids

    served = await get_receipt(db, signer, actor, receipt_id)
    document = served["receipt"]
    school_id = (document.get("school") or {}).get("id")
    query = document.get("query") or {}
    answer = document.get("answer") or {}
    indexes = (
        [e.get("id_number_hmac") for e in query.get("entries", [])]
        or [p.get("id_number_hmac") for p in answer.get("people", [])]
        or [query.get("id_number_hmac")]
    )
    async with db.transaction() as session:
        schools = await schools_by_ids(session, [UUID(school_id)]) if school_id else {}
        people = await masked_by_index(session, [i for i in indexes if i]) if document.get("kind") != "vendor" else {}
    school = schools.get(UUID(school_id)) if school_id else None
    pdf = await render(
        receipt_job(served, school_name=f"{school.name}（{school.code}）" if school else None, people=people)
    )
    if document.get("kind") != "vendor":
        await record_download(
            db, actor, "receipt", "lookup_receipt", receipt_id, region_code=document.get("region_code")
        )
    return pdf
