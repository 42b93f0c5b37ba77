"""The packaged font and the fetcher, without a database."""

from __future__ import annotations

from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from service.printing import engine, words

FONTS = Path(engine.__file__).with_name("fonts")


def test_the_packaged_font_covers_rare_name_characters_and_ships_its_licence():
    regular = TTFont(FONTS / "SchoolGateSansSC-Regular.otf").getBestCmap()
    for ch in "堃昇𠮷䶮龘〔〕·￥①":
        assert ord(ch) in regular, ch
    bold = TTFont(FONTS / "SchoolGateSansSC-Bold.otf").getBestCmap()
    assert all(ord(ch) in bold for ch in "课后服务第三方机构白名单决定书青云谱区教育局〔〕")
    assert "SIL OPEN FONT LICENSE Version 1.1" in (FONTS / "OFL.txt").read_text()


def test_the_fetcher_serves_packaged_assets_only():
    fetcher = engine._fetcher()
    assert fetcher((FONTS / "OFL.txt").as_uri()).read()[:20]
    for url in (
        "file:///etc/passwd",
        (FONTS / ".." / ".." / "app.py").resolve().as_uri(),
        "http://127.0.0.1:1/x",
        "https://example.org/x.css",
        "ftp://127.0.0.1/x",
    ):
        with pytest.raises(ValueError):
            fetcher(url)


def test_words():
    assert words.fee(1500, "per_session") == "每课时 15.00 元" and words.fee(0, "free") == "免费"
    assert words.document_number("360102", 2026, 17) == "东湖教白〔2026〕17号"
    assert words.document_number("360000", 2026, 1) == "赣教白〔2026〕1号"
    assert words.bureau("360000") == "江西省教育厅" and words.bureau("360102") == "东湖区教育局"
    assert words.last_valid_day("2027-12-06T16:00:00+00:00") == "2027年12月6日"
    assert words.cn_datetime("2026-09-01T07:40:00+00:00") == "2026年9月1日 15:40"


def _long_whitelist(entries: int) -> engine.Job:
    from datetime import UTC, datetime

    from service.printing.lists import _whitelist_groups

    at = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
    rows = [
        {
            "credit_code": f"91360104MA{i:08d}",
            "vendor_name": f"南昌第{i:03d}号教育科技有限公司",
            "item_id": f"00000000-0000-0000-0000-{i:012d}",
            "category_code": 1 + i // 25,  # 25 entries a category: categories run across pages
            "category_name": words.category(1 + i // 25),
            "activity": f"少儿活动项目{i}",
            "grade_bands": ["lower_primary"],
            "fee": 1500,
            "fee_unit": "per_session",
            "fee_published_on": "2026-09-01",
            "region_code": "360104",
            "region_name": "青云谱区",
            "valid_until": "2027-12-07",
        }
        for i in range(entries)
    ]
    context = {
        "bureau": "江西省教育厅",
        "number": "赣教白公〔2026〕1207-000001号",
        "as_of": at,
        "region_path": "江西省",
        "category_name": None,
        "policy": "赣教基字〔2023〕38号",
        "groups": _whitelist_groups(rows),
        "total": entries,
        "verify": {"qr": None, "sha256": "0" * 64, "lines": ["测试"]},
    }
    return engine.Job("whitelist.html", context, title="课后服务第三方机构白名单", author="江西省教育厅", created=at)


def test_each_whitelist_page_names_the_category_running_at_its_top():
    """The list is not a table, so the page header stands in for its repeated header row:
    it must name the category the page's first entry belongs to, not the next one
    starting lower on the page."""
    import io
    import re

    from pypdf import PdfReader

    pdf = engine.render(_long_whitelist(100))
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]
    assert len(pages) >= 3
    continued = 0
    for text in pages:
        header = re.search(r"(\S*)\s*｜", text).group(1)
        first_entry = int(re.search(r"南昌第(\d{3})号", text).group(1))
        assert re.fullmatch(r"[一二三四五六七八]、" + words.category(1 + first_entry // 25), header), (
            header,
            first_entry,
        )
        continued += first_entry % 25 != 0  # the page opens inside a category
    assert continued  # the case that was wrong: a category continued, the next one below
