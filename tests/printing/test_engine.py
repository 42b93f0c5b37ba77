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
