"""Build the packaged fonts from Debian's fonts-noto-cjk (run by hand, not at run time).

    apt-get install -y fonts-noto-cjk
    python -m service.printing.fonts.build_fonts

The documents need one face that never shows a box for a Chinese name, and a heavier
one for titles and headings. Sizes are chosen, not inherited:

- Regular: every character of Noto Sans CJK SC in Latin, punctuation, CJK symbols,
  CJK Unified Ideographs, Extension A (䶮), the Extension B and later ideographs the
  face carries (𠮷) and the compatibility ideographs (~31,800 characters, ~7 MB).
  Names come from identity documents, so no "common characters" subset is safe here.
- Bold: GB 2312 (the 6,763 characters of ordinary text) plus every character of the
  Jiangxi region names, Latin and punctuation (~1.7 MB). It sets fixed headings and
  bureau names; a heading character outside it falls back to the regular face
  (see styles.css), so it never turns into a box either.

Both are renamed "SchoolGate Sans SC" (the OFL asks modified fonts not to keep the
original's name); OFL.txt beside them is the licence. Vertical metrics, layout
features and hinting are dropped: the documents are set horizontally, in Chinese
and Latin, and printed.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

HERE = Path(__file__).resolve().parent
SOURCE = Path("/usr/share/fonts/opentype/noto")
SC_FACE = 2  # the face order in NotoSansCJK-*.ttc: JP, KR, SC, TC, HK
FAMILY = "SchoolGate Sans SC"

COMMON = [
    (0x20, 0x7E),
    (0xA0, 0x17F),
    (0x2000, 0x206F),
    (0x2100, 0x218F),
    (0x2190, 0x21FF),
    (0x2200, 0x22FF),
    (0x2460, 0x24FF),
    (0x2500, 0x257F),
    (0x25A0, 0x26FF),
    (0x3000, 0x303F),
    (0x3200, 0x32FF),
    (0xFE30, 0xFE4F),
    (0xFF00, 0xFFEF),
]
IDEOGRAPHS = [(0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x3134F)]


def _gb2312() -> set[int]:
    out = set()
    for high in range(0xB0, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                out.add(ord(bytes((high, low)).decode("gb2312")))
            except UnicodeDecodeError:
                pass
    return out


def _region_characters() -> set[int]:
    path = HERE.parent.parent / "regions" / "jiangxi.csv"
    with path.open(encoding="utf-8") as handle:
        return {ord(ch) for row in csv.DictReader(handle) for ch in row["name"]}


def _in(ranges, cp: int) -> bool:
    return any(low <= cp <= high for low, high in ranges)


def build(weight: str, wanted) -> Path:
    font = TTCollection(str(SOURCE / f"NotoSansCJK-{weight}.ttc")).fonts[SC_FACE]
    codepoints = [cp for cp in font.getBestCmap() if wanted(cp)]
    options = subset.Options()
    options.layout_features = []
    options.hinting = False
    options.notdef_outline = True
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]
    options.drop_tables += ["VORG", "vhea", "vmtx", "GSUB", "GPOS"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=codepoints)
    subsetter.subset(font)
    names = font["name"]
    postscript = f"SchoolGateSansSC-{weight}"
    for record in list(names.names):
        if record.nameID in (1, 3, 4, 6):
            value = {1: FAMILY, 3: f"{postscript};subset of Noto Sans CJK SC", 4: f"{FAMILY} {weight}", 6: postscript}[
                record.nameID
            ]
            names.setName(value, record.nameID, record.platformID, record.platEncID, record.langID)
    font["CFF "].cff.fontNames = [postscript]
    out = HERE / f"{postscript}.otf"
    font.save(str(out))
    print(f"{out.name}: {len(codepoints)} characters, {out.stat().st_size:,} bytes")
    return out


def main() -> int:
    bold_extra = _gb2312() | _region_characters()
    build("Regular", lambda cp: _in(COMMON, cp) or _in(IDEOGRAPHS, cp))
    build("Bold", lambda cp: _in(COMMON, cp) or cp in bold_extra)
    return 0


if __name__ == "__main__":
    sys.exit(main())
