"""A small, believable Jiangxi data set for trying the service by hand.

Running it again adds nothing twice: existing vendors and schools are kept, and the
demo accounts get fresh tokens (tokens are shown once, so old ones cannot be reprinted).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import select
from stdnum.cn import uscc

from service.accounts import Account, assign_login, create_account, issue_token, set_password
from service.audit import load_signer
from service.config import Settings
from service.db import Database
from service.demo_loop import load_loop
from service.demo_queue import load_queue
from service.documents import DocumentInput, LocalBlobStorage, upload_document
from service.security import Actor, load_keyring
from service.service_items import ServiceItemInput, create_service_item
from service.vendors import Vendor, VendorInput, register_vendor


def credit_code(prefix17: str) -> str:
    return prefix17 + uscc.calc_check_digit(prefix17)


VENDORS = [
    VendorInput(
        credit_code("91360104MA38XK2Q1"),
        "南昌启明星科技教育服务有限公司",
        "enterprise",
        "360104",
        "南昌市青云谱区洪都中大道 88 号",
        "刘晓燕",
        "0791-88123456",
        "陈建国",
        True,
    ),
    VendorInput(
        credit_code("52360402MJD600103"),
        "九江市濂溪区书香阅读公益服务中心",
        "private_non_enterprise",
        "360402",
        "九江市濂溪区庐山南路 16 号",
        "王丽华",
        "0792-8223344",
        "王丽华",
        True,
    ),
    VendorInput(
        credit_code("51360702MJB300217"),
        "赣州市章贡区青少年体育运动协会",
        "social_organization",
        "360702",
        "赣州市章贡区红旗大道 40 号",
        "钟志强",
        "13907971234",
        "钟志强",
        True,
    ),
    VendorInput(
        credit_code("52360104MJA801236"),
        "南昌市青云谱区小荷艺术教育中心",
        "private_non_enterprise",
        "360104",
        "南昌市青云谱区井冈山大道 210 号",
        "何静",
        "0791-88661234",
        "何静",
        True,
    ),
    VendorInput(
        credit_code("91360104MA39GP7L2"),
        "江西赣鄱劳动实践教育科技有限公司",
        "enterprise",
        "360104",
        "南昌市青云谱区迎宾中大道 1366 号",
        "熊伟",
        "0791-88775566",
        "熊伟",
        True,
    ),
]

ACCOUNTS = [
    ("省教育厅审核员", dict(role="reviewer", name="江西省教育厅 审核员", region_code="360000", login="province")),
    ("南昌市教育局审核员", dict(role="reviewer", name="南昌市教育局 审核员", region_code="360100", login="nanchang")),
    (
        "青云谱区教育局审核员",
        dict(role="reviewer", name="青云谱区教育局 审核员", region_code="360104", login="qingyunpu"),
    ),
    ("南昌市审计员", dict(role="auditor", name="南昌市教育督导 审计员", region_code="360100", login="auditor")),
    (
        "青云谱区实验小学",
        dict(
            role="school",
            name="青云谱区实验小学 门卫室",
            region_code="360104",
            school_code="2136010401",
            school_name="南昌市青云谱区实验小学",
            login="school",
        ),
    ),
    (
        "启明星科技（机构）",
        dict(role="vendor", name="启明星科技 管理员", vendor_credit_code=VENDORS[0].credit_code, login="vendor"),
    ),
    (
        "书香阅读（机构）",
        dict(role="vendor", name="书香阅读 管理员", vendor_credit_code=VENDORS[1].credit_code, login="shuxiang"),
    ),
    (
        "体育协会（机构）",
        dict(role="vendor", name="体育协会 管理员", vendor_credit_code=VENDORS[2].credit_code, login="tiyu"),
    ),
    (
        "小荷艺术（机构）",
        dict(role="vendor", name="小荷艺术 管理员", vendor_credit_code=VENDORS[3].credit_code, login="xiaohe"),
    ),
    (
        "赣鄱劳动（机构）",
        dict(role="vendor", name="赣鄱劳动 管理员", vendor_credit_code=VENDORS[4].credit_code, login="ganpo"),
    ),
    ("系统管理员", dict(role="admin", name="SchoolGate 管理员", login="admin")),
]
#: Every demo account signs in to the console with this password (never in production).
DEMO_PASSWORD = "schoolgate-demo"


@dataclass(frozen=True)
class DemoAccount:
    label: str
    login: str
    password: str
    token: str


# Service items per demo vendor (by credit code): what each offers to schools.
ITEMS = {
    VENDORS[0].credit_code: [
        ServiceItemInput(
            2,
            "少儿机器人编程",
            "以积木式机器人学习传感器与图形化编程，每次 90 分钟。",
            ["upper_primary", "junior_secondary"],
            3000,
            "per_session",
            30,
            "学校科学教室",
        ),
        ServiceItemInput(
            2,
            "趣味科学实验",
            "动手做简单物理、化学小实验，培养观察与记录习惯。",
            ["lower_primary", "upper_primary"],
            45000,
            "per_term",
            35,
            "学校科学教室",
        ),
    ],
    VENDORS[1].credit_code: [
        ServiceItemInput(
            6,
            "经典诵读与整本书阅读",
            "围绕年级书目开展共读、朗诵与分享。",
            ["lower_primary", "upper_primary"],
            0,
            "free",
            40,
            "学校图书室",
        ),
    ],
    VENDORS[2].credit_code: [
        ServiceItemInput(
            4,
            "校园篮球",
            "基础运球、传球与投篮，分组对抗练习。",
            ["upper_primary", "junior_secondary"],
            2000,
            "per_session",
            40,
            "学校操场",
        ),
    ],
    VENDORS[3].credit_code: [
        ServiceItemInput(
            3,
            "少儿合唱与声乐启蒙",
            "发声练习、视唱与多声部合唱，学期末校内汇报演出。",
            ["lower_primary", "upper_primary"],
            2500,
            "per_session",
            35,
            "学校音乐教室",
        ),
    ],
    VENDORS[4].credit_code: [
        ServiceItemInput(
            5,
            "校园种植与农耕体验",
            "在校园种植角完成播种、养护与收获，记录植物生长。",
            ["lower_primary", "upper_primary", "junior_secondary"],
            36000,
            "per_term",
            30,
            "学校种植园",
        ),
    ],
}

# The smallest well-formed PDF: enough to show upload, hashing and download.
DEMO_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


async def load_demo(url: str, settings: Settings) -> list[DemoAccount]:
    db = Database(url)
    system = Actor.system()
    try:
        async with db.transaction() as session:
            known = set((await session.exec(select(Vendor.credit_code))).all())
        storage = LocalBlobStorage(settings.files_dir)
        for vendor_input in VENDORS:
            if vendor_input.credit_code in known:
                continue
            registered = (await register_vendor(db, system, vendor_input)).value
            assert registered is not None  # no idempotency key: never a replay
            vendor = registered.vendor
            today = date.today()
            await upload_document(
                db,
                storage,
                system,
                vendor.id,
                content=DEMO_PDF,
                filename="营业执照.pdf",
                max_bytes=settings.max_upload_bytes,
                data=DocumentInput(
                    "business_license",
                    vendor_input.credit_code,
                    "市场监督管理局",
                    today - timedelta(days=400),
                    today + timedelta(days=3 * 365),
                ),
            )
            for item in ITEMS.get(vendor_input.credit_code, []):
                await create_service_item(db, system, vendor.id, item)
        accounts = [
            DemoAccount(label, spec["login"], DEMO_PASSWORD, await _token_for(db, system, spec))
            for label, spec in ACCOUNTS
        ]
        async with db.transaction() as session:
            first = (await session.exec(select(Vendor).where(Vendor.credit_code == VENDORS[0].credit_code))).one()
        await load_loop(
            db,
            load_keyring(settings.data_dir, settings.personal_data_keys),
            storage,
            first.id,
            settings.max_upload_bytes,
        )
        await load_queue(
            db,
            load_signer(settings.signing_key_file, settings.audit_origin),
            load_keyring(settings.data_dir, settings.personal_data_keys),
            {
                login: vendor.credit_code
                for login, vendor in zip(("vendor", "shuxiang", "tiyu", "xiaohe", "ganpo"), VENDORS, strict=True)
            },
        )
        return accounts
    finally:
        await db.dispose()


async def _token_for(db: Database, system: Actor, spec: dict) -> str:
    """A fresh token, and the demo password set again (no change asked: it is a demo)."""
    async with db.transaction() as session:
        existing = (
            await session.exec(select(Account).where(Account.name == spec["name"], Account.role == spec["role"]))
        ).first()
    if existing is not None:
        if existing.login != spec["login"]:
            await assign_login(db, system, existing.id, spec["login"])
        token = await issue_token(db, system, existing.id)
    else:
        token = (await create_account(db, system, **spec)).token
    await set_password(db, system, spec["login"], DEMO_PASSWORD, must_change=False)
    return token
