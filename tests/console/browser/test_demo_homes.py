"""`schoolgate demo`'s data, as each role sees it in Chromium: every home has something
to do (issue 14) — the county's queue with a file in each of its stages, the city's
final review, the school's past checks of vendors and people, the vendor's application
in its public notice, the public notice board, the auditor's trail. One screenshot per
page under test-artifacts/screenshots (demo-*.png)."""

from __future__ import annotations

import re

from service.config import Settings
from service.demo import DEMO_PASSWORD, load_demo
from tests.console.browser.conftest import sign_in, sign_out


def _count(html: str) -> int:
    found = re.search(r'href="/reviewer"[^>]*>待办<span class="count"[^>]*>(\d+)<', html)
    return int(found.group(1)) if found else 0


async def test_each_demo_role_finds_something_to_do(database_url, tmp_path, open_page):
    await load_demo(database_url, Settings(database_url=database_url, data_dir=tmp_path / "data", log_format="json"))

    public = await open_page(phone=True)
    await public.page.goto(public.origin + "/public/notices")
    await public.page.get_by_text("无人机编程与航拍").first.wait_for()
    assert "南昌启明星科技教育服务有限公司" in await public.page.content()
    await public.shot("demo-public-notices")
    public.assert_clean()

    user = await open_page()
    page = user.page
    # (login, the page, what it must show)
    for login, path, shows in (
        ("qingyunpu", "/reviewer", ["书香阅读", "小荷艺术", "赣鄱劳动", "青少年体育运动协会"]),
        ("nanchang", "/reviewer", ["青少年体育运动协会"]),
        ("school", "/school/history", ["南昌启明星科技教育服务有限公司", "九江市濂溪区书香阅读公益服务中心"]),
        ("vendor", "/vendor/applications", ["公示"]),
        ("auditor", "/audit", ["applications:application"]),
        ("admin", "/admin/accounts", ["赣鄱劳动 管理员"]),
    ):
        await sign_in(user, login, DEMO_PASSWORD)
        await page.goto(user.origin + path)
        await page.wait_for_load_state()
        html = await page.content()
        for text in shows:
            assert text in html, (login, text)
        if login == "qingyunpu":
            assert _count(html) == 3 and "共 4 条" in html  # the final review is listed, the city's turn
            assert html.count(">办理</a>") == 3
        if login == "nanchang":
            assert _count(html) >= 1 and ">办理</a>" in html
        if login == "school":
            assert html.count("下载核验凭证 (PDF)") == 4 and html.count("可以入校") == 2
        await user.shot(f"demo-{login}-{path.strip('/').replace('/', '-')}")
        await page.goto(user.origin + "/")  # the role's own home, after sign-in
        await page.wait_for_load_state()
        if login == "school":  # its home lists its past checks, vendors and people
            home = page.locator("table.list")
            assert await home.get_by_text("可以入校").count() == 2 and await home.get_by_text("在白名单").count() == 1
        await user.shot(f"demo-{login}-home")
        await sign_out(user)
    user.assert_clean()
