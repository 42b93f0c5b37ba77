"""Sanity of service/regions/jiangxi.csv, and its regeneration from stdnum's table.

Run as a module to print a fresh CSV (see service/regions/README.md):
    python -m tests.regions.test_region_data > service/regions/jiangxi.csv
"""

from __future__ import annotations

import csv
import io
import re
import sys
from pathlib import Path

import pytest
import stdnum

ROOT = Path(__file__).resolve().parents[2]
DATA_FILE = ROOT / "service" / "regions" / "jiangxi.csv"
HEADER = ["code", "name", "level", "parent_code"]
PROVINCE = "360000"
NEW_AREA = ("361200", "赣江新区", "city", PROVINCE)  # no official code; see README
CITIES = {
    "360100": "南昌市", "360200": "景德镇市", "360300": "萍乡市", "360400": "九江市",
    "360500": "新余市", "360600": "鹰潭市", "360700": "赣州市", "360800": "吉安市",
    "360900": "宜春市", "361000": "抚州市", "361100": "上饶市",
}  # fmt: skip


def read_rows() -> list[dict[str, str]]:
    with DATA_FILE.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == HEADER
        return list(reader)


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    return read_rows()


def by_level(rows, level):
    return {r["code"]: r for r in rows if r["level"] == level}


def test_every_row_is_well_formed(rows):
    for row in rows:
        assert re.fullmatch(r"[0-9]{6}", row["code"]), row
        assert row["level"] in {"province", "city", "county"}, row
        assert row["name"] and row["name"] == row["name"].strip(), row
        assert not re.search(r"[\[\]#,]", row["name"]), row
        assert row["name"] != "市辖区", row


def test_codes_and_names_are_unique(rows):
    codes = [r["code"] for r in rows]
    assert len(codes) == len(set(codes))
    names = [r["name"] for r in rows]
    assert len(names) == len(set(names))


def test_single_province_without_parent(rows):
    assert by_level(rows, "province") == {
        PROVINCE: {"code": PROVINCE, "name": "江西省", "level": "province", "parent_code": ""}
    }


def test_cities_are_the_eleven_plus_ganjiang_new_area(rows):
    cities = by_level(rows, "city")
    assert {code: r["name"] for code, r in cities.items()} == CITIES | {NEW_AREA[0]: NEW_AREA[1]}
    assert all(r["parent_code"] == PROVINCE for r in cities.values())


def test_every_county_sits_in_a_real_city_matching_its_code(rows):
    for row in by_level(rows, "county").values():
        assert row["parent_code"] in CITIES, row
        assert row["code"][:4] == row["parent_code"][:4], row


def test_county_count_matches_published_totals(rows):
    # 27 市辖区 + 12 县级市 + 61 县 since 龙南 became a city in 2020.
    counties = by_level(rows, "county").values()
    assert len(counties) == 100
    assert sum(r["name"].endswith("区") for r in counties) == 27
    assert sum(r["name"].endswith("市") for r in counties) == 12
    assert sum(r["name"].endswith("县") for r in counties) == 61


@pytest.mark.parametrize(
    "code, name",
    [
        ("360113", "红谷滩区"), ("360112", "新建区"), ("360402", "濂溪区"), ("360404", "柴桑区"),
        ("360483", "庐山市"), ("360482", "共青城市"), ("360603", "余江区"), ("360703", "南康区"),
        ("360704", "赣县区"), ("360783", "龙南市"), ("360802", "吉州区"), ("360803", "青原区"),
        ("360881", "井冈山市"), ("361003", "东乡区"), ("361103", "广丰区"), ("361104", "广信区"),
        ("361128", "鄱阳县"),
    ],
)  # fmt: skip
def test_current_divisions_are_present(rows, code, name):
    assert {r["code"]: r["name"] for r in rows}.get(code) == name


@pytest.mark.parametrize(
    "code",
    ["360105", "360122", "360421", "360427", "360622", "360721", "360727", "360782",
     "361029", "361121", "361122", "362100", "362101"],
)  # fmt: skip
def test_retired_divisions_are_absent(rows, code):
    assert code not in {r["code"] for r in rows}


def test_new_area_code_collides_with_nothing_in_gb_t_2260():
    assert not any(code.startswith("3612") for code, _ in stdnum_jiangxi_entries())


def test_matches_stdnum_table(rows):
    """Fails after a stdnum upgrade that changes Jiangxi: regenerate the file then."""
    assert [tuple(r.values()) for r in rows] == expected_rows()


# --- regeneration from stdnum's GB/T 2260 table ------------------------------------


def stdnum_jiangxi_entries() -> list[tuple[str, str]]:
    """(code, raw value) pairs for province 36 from stdnum/cn/loc.dat."""
    text = (Path(stdnum.__file__).parent / "cn" / "loc.dat").read_text(encoding="utf-8")
    entries, inside = [], False
    for line in text.splitlines():
        if re.match(r"[0-9]", line):
            inside = line.startswith("36 ")
        elif inside and (match := re.fullmatch(r'\s+([0-9]{4}) county="(.*)"', line)):
            entries.append(("36" + match[1], match[2]))
    return entries


def current_name(value: str) -> str | None:
    """The alternative with no end year ("[2015-]x" or bare "x"); None if all retired."""
    for alternative in value.split(","):
        match = re.fullmatch(r"(?:\[([0-9]*)-([0-9]*)\])?(.+)", alternative)
        if match and not match[2]:
            return match[3]
    return None


def expected_rows() -> list[tuple[str, str, str, str]]:
    result = [NEW_AREA]
    for code, value in stdnum_jiangxi_entries():
        name = current_name(value)
        if name is None or name == "市辖区":
            continue
        if code == PROVINCE:
            result.append((code, name, "province", ""))
        elif code.endswith("00"):
            result.append((code, name, "city", PROVINCE))
        else:
            result.append((code, name, "county", code[:4] + "00"))
    return sorted(result)


def render_csv() -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(expected_rows())
    return out.getvalue()


def test_file_is_byte_identical_to_generated_output():
    assert DATA_FILE.read_text(encoding="utf-8") == render_csv()


if __name__ == "__main__":
    sys.stdout.buffer.write(render_csv().encode("utf-8"))
