"""The published lists: the whitelist (白名单) and the notice board (公示期名单).

Each is issued as signed JSON once per content (`publications.py`: the stored
publication is served while the list says the same) and set as a PDF, rendered once per
publication, that prints the JSON's SHA-256 and carries the JSON inside it. A request is
answered from the stored row alone while nothing the list is made of can have changed
(`publications.fresh_*`); otherwise the list is read from its domain's public query. Nothing here decides who is listed: the whitelist's and
the applications' own queries do.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

import msgspec

from service.applications import public_notices, public_notices_next_change, settle_due_notices
from service.audit import Signer
from service.db import Database
from service.printing import publications, qr, words
from service.printing.engine import Attachment, Job
from service.printing.publications import Freshness, Publication
from service.printing.rendering import check_size, max_rows
from service.regions import regions
from service.service_items import CATEGORIES
from service.timeutil import CHINA_TZ
from service.whitelist import filters, public_whitelist_all, public_whitelist_next_change

PROVINCE = "360000"
NUMERALS = "一二三四五六七八九十"
POLICY = "《江西省教育厅关于进一步提升义务教育学校课后服务水平的通知》（赣教基字〔2023〕38号）第二条第（二）项"


@dataclass(frozen=True)
class Published:
    """A list's publication in force, and how to set it as a PDF."""

    publication: Publication
    job_of: Callable[[Publication], Job]

    @property
    def served(self) -> dict[str, Any]:  # the signed JSON, as GET /api/v1/public/*.json serves it
        return self.publication.served

    def job(self) -> Job:
        return self.job_of(self.publication)

    async def pdf(self, db: Database) -> bytes:
        """Its PDF, rendered once per publication (`publications.pdf`)."""
        return await publications.pdf(db, self.publication, self.job_of)


@dataclass(frozen=True)
class Download:
    """A published list's file as one request gets it: the bytes and their entity tag."""

    etag: str
    body: bytes


async def _pdf(
    db: Database,
    signer: Signer,
    kind: str,
    scope: str,
    now: datetime,
    job_of: Callable[[Publication], Job],
    read: Callable[[], Awaitable[Published]],
) -> Download:
    """The PDF of the scope's publication: the stored bytes when the stored row is still
    the list's truth (one statement), else the list is read (`read`) first."""
    found = await publications.fresh_pdf(db, kind, scope, publications.signer_key_id(signer), now)
    if found is not None and found.pdf is not None:
        return Download(publications.pdf_etag(found.tag), found.pdf)
    publication = found.publication if found is not None and found.publication else (await read()).publication
    data = await publications.pdf(db, publication, job_of)
    return Download(publications.pdf_etag(publications.tag(publication)), data)


async def _served(
    db: Database, signer: Signer, kind: str, scope: str, now: datetime, read: Callable[[], Awaitable[Published]]
) -> Download:
    """The signed JSON of the scope's publication, as stored text when still true."""
    found = await publications.fresh_served(db, kind, scope, publications.signer_key_id(signer), now)
    if found is not None:
        return Download(publications.etag(found[0]), found[1])
    publication = (await read()).publication
    return Download(
        publications.etag(publications.tag(publication)), json.dumps(publication.served, ensure_ascii=False).encode()
    )


def _number(region_code: str, at: datetime, sha256: str, kind: str) -> str:
    local = at.astimezone(CHINA_TZ)
    return f"{words.region_short(region_code)}教{kind}〔{local.year}〕{local:%m%d}-{sha256[:6]}号"


async def _bounded(rows: AsyncIterator, field: str) -> list:
    out = []
    async for row in rows:
        out.append(row)
        if len(out) > max_rows():
            check_size(len(out), field)
    return out


def _served_bytes(served: dict[str, Any]) -> bytes:
    return json.dumps(served, ensure_ascii=False, sort_keys=True, indent=1).encode()


# ------------------------------------------------------------------ the whitelist


def _whitelist_groups(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Entries by category (in the notice's order), one row per vendor, item and end of
    validity, with the regions it serves joined."""
    groups: dict[int, dict[tuple, dict[str, Any]]] = {}
    for e in entries:
        key = (e["credit_code"], e["item_id"], e["valid_until"])
        row = groups.setdefault(e["category_code"], {}).setdefault(key, dict(e, regions=[]))
        row["regions"].append(e["region_name"])
    return [
        {
            "numeral": NUMERALS[i],
            "code": code,
            "name": CATEGORIES[code],
            "rows": sorted(groups[code].values(), key=lambda r: (r["vendor_name"], r["credit_code"], r["activity"])),
        }
        for i, code in enumerate(c for c in sorted(CATEGORIES) if c in groups)
    ]


async def whitelist(
    db: Database, signer: Signer, *, region: str | None, category: int | None, now: datetime
) -> Published:
    """The whitelist publication in force for this query (issued `now` if the list changed)."""
    f = filters(region, category, None)  # 422 on an unknown region or category
    await settle_due_notices(db, now)  # a notice over by now: its vendor is listed
    version = await publications.source_version(db, "whitelist")  # before the list: see Freshness
    rows = await _bounded(public_whitelist_all(db, f, now), "region")
    until = _earliest(
        await public_whitelist_next_change(db, f, now),
        # The end of a running notice adds entries with nothing written until it is
        # concluded (anywhere: conservative). A notice starting moves the version (0027).
        await public_notices_next_change(db, region_code=None, now=now),
    )
    content = {
        "type": "schoolgate.whitelist_publication",
        "v": 1,
        "region_code": region or PROVINCE,
        "category_code": category,
        "entries": [msgspec.to_builtins(row.__dict__) for row in rows],
    }
    scope = _whitelist_scope(region, category)
    publication = await publications.current(db, signer, "whitelist", scope, content, now, Freshness(version, until))
    return Published(publication, partial(whitelist_job, region=region, category=category))


def _earliest(*instants: datetime | None) -> datetime | None:
    known = [t for t in instants if t is not None]
    return min(known) if known else None


def _whitelist_scope(region: str | None, category: int | None) -> str:
    return f"region={region or ''}&category={category or ''}"


async def whitelist_pdf(
    db: Database, signer: Signer, *, region: str | None, category: int | None, now: datetime
) -> Download:
    """The whitelist publication's PDF for this query, the list read only if it may
    have changed since the stored publication was made."""
    filters(region, category, None)  # 422 before anything is served
    return await _pdf(
        db,
        signer,
        "whitelist",
        _whitelist_scope(region, category),
        now,
        partial(whitelist_job, region=region, category=category),
        partial(whitelist, db, signer, region=region, category=category, now=now),
    )


async def whitelist_served(
    db: Database, signer: Signer, *, region: str | None, category: int | None, now: datetime
) -> Download:
    """The whitelist publication's signed JSON for this query (read as `whitelist_pdf`)."""
    filters(region, category, None)
    read = partial(whitelist, db, signer, region=region, category=category, now=now)
    return await _served(db, signer, "whitelist", _whitelist_scope(region, category), now, read)


def whitelist_job(publication: Publication, *, region: str | None, category: int | None) -> Job:
    """The PDF of a whitelist publication (pure: the same publication, the same job)."""
    served = publication.served
    document = served["document"]
    region_code, entries, at = document["region_code"], document["entries"], publication.published_at
    number = _number(region_code, at, served["sha256"], "白公")
    bureau = words.bureau(region_code)
    query = "&".join(p for p in (f"region={region}" if region else "", f"category={category}" if category else "") if p)
    api = "/api/v1/public/whitelist.json" + (f"?{query}" if query else "")
    context = {
        "bureau": bureau,
        "number": number,
        "as_of": at,
        "region_path": words.region_path(region_code),
        "category_name": CATEGORIES.get(category) if category else None,
        "policy": POLICY,
        "groups": _whitelist_groups(entries),
        "total": len(entries),
        "verify": {
            "qr": qr.qr_data_url(f"schoolgate:whitelist?{query}&sha256={served['sha256']}".replace("?&", "?")),
            "sha256": served["sha256"],
            "lines": [
                f"本名单以签名 JSON 同时发布：GET {api}（签名算法 Ed25519，密钥编号 {served['key_id']}，"
                "公钥见 GET /api/v1/keys）。",
                "本文件内嵌该 JSON（附件 whitelist.json）；其规范化文本的 SHA-256 应与下列值一致。"
                "该接口返回的 SHA-256 与此相同，即本名单仍为现行名单。",
            ],
        },
    }
    return Job(
        "whitelist.html",
        context,
        title="课后服务第三方机构白名单",
        author=bureau,
        created=at,
        attachments=(Attachment("whitelist.json", _served_bytes(served), "签名的白名单 JSON"),),
    )


# ------------------------------------------------------------------ the notice board


async def _all_notices(db: Database, region: str | None, now: datetime) -> AsyncIterator:
    cursor = None
    while True:
        page = await public_notices(db, region_code=region, limit=200, cursor=cursor, now=now)
        for notice in page.items:
            yield notice
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def _notice_entry(n) -> dict[str, Any]:
    app = n.application
    in_notice = app.stage == "public_notice"
    return {
        "application_id": str(app.id),
        "number": app.number,
        "vendor_name": n.vendor.name,
        "credit_code": n.vendor.credit_code,
        "region_code": app.region_code,
        "region_name": words.region_name(app.region_code),
        "status": "in_notice" if in_notice else "paused",
        "notice_started_at": app.notice_started_at.isoformat() if app.notice_started_at else None,
        "notice_ends_at": app.notice_ends_at.isoformat() if in_notice and app.notice_ends_at else None,
        "items": [
            {
                "category_code": i.category_code,
                "activity": i.activity,
                "grade_bands": list(i.grade_bands),
                "fee": i.fee,
                "fee_unit": i.fee_unit,
            }
            for i in n.items
        ],
    }


async def notices(db: Database, signer: Signer, *, region: str | None, now: datetime) -> Published:
    """The notice board in force for this region (issued `now` if the board changed)."""
    version = await publications.source_version(db, "notices")  # before the list: see Freshness
    entries = [_notice_entry(n) for n in await _bounded(_all_notices(db, region, now), "region")]
    until = await public_notices_next_change(db, region_code=region, now=now)
    content = {"type": "schoolgate.notice_publication", "v": 1, "region_code": region or PROVINCE, "entries": entries}
    freshness = Freshness(version, until)
    publication = await publications.current(db, signer, "notices", _notices_scope(region), content, now, freshness)
    return Published(publication, partial(notices_job, region=region))


def _notices_scope(region: str | None) -> str:
    return f"region={region or ''}"


def _check_region(region: str | None) -> None:
    if region:
        regions().require(region, "region")  # 422 before anything is served, as the read would


async def notices_pdf(db: Database, signer: Signer, *, region: str | None, now: datetime) -> Download:
    """The notice board's PDF for this region, the board read only if it may have changed."""
    _check_region(region)
    read = partial(notices, db, signer, region=region, now=now)
    return await _pdf(db, signer, "notices", _notices_scope(region), now, partial(notices_job, region=region), read)


async def notices_served(db: Database, signer: Signer, *, region: str | None, now: datetime) -> Download:
    """The notice board's signed JSON for this region (read as `notices_pdf`)."""
    _check_region(region)
    return await _served(
        db, signer, "notices", _notices_scope(region), now, partial(notices, db, signer, region=region, now=now)
    )


def notices_job(publication: Publication, *, region: str | None) -> Job:
    """The PDF of a notice board publication (pure)."""
    served = publication.served
    region_code, at = served["document"]["region_code"], publication.published_at
    bureau = words.bureau(region_code)
    api = "/api/v1/public/notices.json" + (f"?region={region}" if region else "")
    context = {
        "bureau": bureau,
        "number": _number(region_code, at, served["sha256"], "白示"),
        "as_of": at,
        "region_path": words.region_path(region_code),
        "policy": POLICY,
        "entries": served["document"]["entries"],
        "verify": {
            "qr": qr.qr_data_url(f"schoolgate:notices?region={region or ''}&sha256={served['sha256']}"),
            "sha256": served["sha256"],
            "lines": [
                f"本名单以签名 JSON 同时发布：GET {api}（Ed25519，密钥编号 {served['key_id']}，"
                "公钥见 GET /api/v1/keys）；本文件内嵌该 JSON（附件 notices.json）。"
                "该接口返回的 SHA-256 与下列值相同，即本名单仍为现行名单。"
            ],
        },
    }
    return Job(
        "notices.html",
        context,
        title="课后服务第三方机构进校园公示名单",
        author=bureau,
        created=at,
        attachments=(Attachment("notices.json", _served_bytes(served), "签名的公示名单 JSON"),),
    )
