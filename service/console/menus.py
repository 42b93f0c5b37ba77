"""Each role's left menu, grouped by task (CONSOLE.md). Only pages that exist appear."""

from __future__ import annotations

MENUS: dict[str, list[tuple[str, list[tuple[str, str]]]]] = {
    "reviewer": [
        (
            "",
            [
                ("待办", "/reviewer"),
                ("入校申请", "/reviewer/applications"),
                ("白名单管理", "/reviewer/whitelist"),
                ("人员核查", "/reviewer/people"),
                ("导入核查结果", "/reviewer/imports"),
                ("区域设置", "/reviewer/settings"),
            ],
        ),
        (
            "监管",
            [
                ("监管看板", "/supervision/dashboard"),
                ("投诉处理", "/reviewer/complaints"),
                ("满意度复核", "/reviewer/re-reviews"),
            ],
        ),
    ],
    "school": [
        (
            "核验",
            [
                ("机构核验", "/school/check"),
                ("人员核验", "/school/person"),
                ("花名册核验", "/school/roster"),
                ("我的核验记录", "/school/history"),
            ],
        ),
        (
            "点单与安排",
            [
                ("点单", "/school/orders"),
                ("课后服务安排表", "/school/timetable"),
                ("评价", "/school/ratings"),
                ("推送通知", "/school/webhooks"),
            ],
        ),
    ],
    "vendor": [
        (
            "",
            [
                ("机构信息", "/vendor"),
                ("资质材料", "/vendor/documents"),
                ("服务项目", "/vendor/items"),
                ("人员", "/vendor/people"),
                ("入校申请", "/vendor/applications"),
                ("收到的订单", "/vendor/orders"),
            ],
        ),
    ],
    "auditor": [
        ("审计", [("审计事件", "/audit"), ("检查点与离线核验", "/audit/checkpoint")]),
        (
            "监管",
            [
                ("监管看板", "/supervision/dashboard"),
                ("投诉处理", "/reviewer/complaints"),
                ("满意度复核", "/reviewer/re-reviews"),
            ],
        ),
    ],
    "admin": [
        ("", [("账号管理", "/admin/accounts")]),
        ("监管", [("监管看板", "/supervision/dashboard")]),
    ],
}


def menu_for(role: str | None, path: str, counts: dict[str, int] | None = None) -> list[dict]:
    """The role's menu; the current item is the longest one whose path the page is under."""
    counts = counts or {}
    hrefs = [href for _, items in MENUS.get(role or "", []) for _, href in items]
    under = [h for h in hrefs if path == h or path.startswith(h.rstrip("/") + "/")]
    current = max(under, key=len) if under else None
    return [
        {
            "title": title,
            "links": [
                {"text": text, "href": href, "current": href == current, "count": counts.get(href)}
                for text, href in items
            ],
        }
        for title, items in MENUS.get(role or "", [])
    ]
