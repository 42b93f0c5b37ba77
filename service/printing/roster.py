"""The roster sheet for the gate: a vendor's people in force for one school's region.

Each row: masked ID number, name, role, clearance and until when — the clearance the
personnel domain derives (`gate_roster`), shown as entry allowed only while the vendor is
also usable in the school's region (the public whitelist's own query says so). The sheet
has a receipt of its own: a signed lookup receipt of kind `roster` (people by keyed
hash, as every receipt holds them), embedded as `receipt.json`, so the sheet verifies
offline with `schoolgate receipts verify` like any receipt.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from service.audit import Signer
from service.db import Database
from service.lookup import get_receipt, store_receipt
from service.personnel import gate_roster
from service.printing import qr, words
from service.printing.engine import Attachment, Job
from service.printing.receipt import receipt_sha256
from service.printing.rendering import check_size, render
from service.printing.services import record_download
from service.security import Actor
from service.timeutil import utcnow
from service.whitelist import filters, public_whitelist_all

ROLE_WORDS = {"lead_instructor": "主讲教师", "assistant": "助教", "driver": "司机", "other": "其他人员"}
CLEARANCE = {
    "cleared": ("可以入校", "green"),
    "pending": ("待核查", "amber"),
    "expired": ("已过期", "grey"),
    "barred": ("未通过核验", "red"),
}
CHECKPOINT_SIZE = "SELECT coalesce(max(size), 0) FROM audit_checkpoints"


async def _usable_items(db: Database, credit_code: str, region_code: str, now) -> list[Any]:
    f = filters(region_code, None, credit_code)
    return [row async for row in public_whitelist_all(db, f, now) if row.credit_code == credit_code]


async def roster_pdf(db: Database, signer: Signer, actor: Actor, vendor_id: UUID, school_code: str | None) -> bytes:
    roster = await gate_roster(db, actor, vendor_id, school_code)
    check_size(len(roster.entries), "school")
    now = utcnow()
    school, vendor = roster.school, roster.vendor
    items = await _usable_items(db, vendor.credit_code, school.region_code, now)
    rows, answers = [], []
    for entry in roster.entries:
        status = entry.clearance.status if items else "blocked"
        allowed = status == "cleared"
        until = entry.clearance.cleared_until if allowed else None
        text, colour = CLEARANCE.get(status, ("受阻", "orange"))
        rows.append(
            {
                "id_number": entry.person.id_number_masked,
                "name": entry.person.name,
                "role": ROLE_WORDS.get(entry.engagement.role, entry.engagement.role),
                "status": text,
                "colour": colour,
                "until": until,
            }
        )
        answers.append(
            {
                "person_id": str(entry.person.id),
                "id_number_hmac": entry.person.id_number_index,
                "result": "cleared" if allowed else "not_cleared",
                "valid_until": until.isoformat() if until else None,
            }
        )
    pool = await db.raw_pool()
    async with pool.acquire() as conn:
        checkpoint = await conn.fetchval(CHECKPOINT_SIZE)
    receipt_id = await store_receipt(
        db,
        signer,
        kind="roster",
        subject=vendor.credit_code,
        query={"vendor_credit_code": vendor.credit_code, "school_code": school.code},
        answer={"vendor_listed": bool(items), "people": answers},
        as_of=now,
        time=now,
        actor=actor,
        region_code=school.region_code,
        checkpoint_size=checkpoint,
    )
    assert isinstance(receipt_id, UUID)  # stored for sure: no cached state to go stale
    served = await get_receipt(db, signer, actor, receipt_id)
    sha256 = receipt_sha256(served)
    bureau = words.bureau(school.region_code)
    context = {
        "bureau": bureau,
        "school": f"{school.name}（{school.code}）",
        "region": words.region_path(school.region_code),
        "vendor_name": vendor.name,
        "credit_code": vendor.credit_code,
        "listed": bool(items),
        "activities": sorted({row.activity for row in items}),
        "rows": rows,
        "at": now,
        "receipt_id": str(receipt_id),
        "verify": {
            "qr": qr.qr_data_url(f"schoolgate:receipt?id={receipt_id}&sha256={sha256}"),
            "sha256": sha256,
            "lines": [
                f"本表即核验回执 {receipt_id}（签名密钥编号 {served['key_id']}），内嵌签名回执（附件 receipt.json）。",
                "离线核验：schoolgate receipts verify 本文件.pdf --public-key keys.json。"
                "入校时请核对本人身份证件；名单以生成时刻为准，可随时重新核验。",
            ],
        },
    }
    job = Job(
        "roster.html",
        context,
        title="进校人员核验名单",
        author=bureau,
        created=now,
        attachments=(
            Attachment(
                "receipt.json", json.dumps(served, ensure_ascii=False, indent=1).encode(), "签名的核验回执 JSON"
            ),
        ),
    )
    pdf = await render(job)
    await record_download(
        db,
        actor,
        "roster",
        "vendor",
        vendor.id,
        region_code=school.region_code,
        details={
            "receipt": {"before": None, "after": str(receipt_id)},
            "school": {"before": None, "after": school.code},
        },
    )
    return pdf
