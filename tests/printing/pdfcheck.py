"""What a reader of our PDFs can check: text, embedded fonts, real glyphs, PDF/A, attachments."""

from __future__ import annotations

import hashlib
import io
import os
import re
from pathlib import Path

from pypdf import PdfReader

BFCHAR = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>")
BFRANGE = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>")


def reader(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


def text(pdf: bytes) -> str:
    """All pages' text, whitespace removed (table cells wrap anywhere)."""
    return re.sub(r"\s+", "", "".join(page.extract_text() or "" for page in reader(pdf).pages))


def _fonts(pdf: PdfReader):
    seen = {}
    for page in pdf.pages:
        resources = page.get("/Resources") or {}
        for font in (resources.get("/Font") or {}).values():
            font = font.get_object()
            seen[id(font)] = font
    return list(seen.values())


def _to_unicode(font) -> dict[int, str]:
    data = font["/ToUnicode"].get_object().get_data()
    out = {}
    body = b"\n".join(re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S))
    for cid, uni in BFCHAR.findall(body):
        out[int(cid, 16)] = bytes.fromhex(uni.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
        for low, high, start in BFRANGE.findall(block):
            first = ord(bytes.fromhex(start.decode()).decode("utf-16-be"))
            for offset, cid in enumerate(range(int(low, 16), int(high, 16) + 1)):
                out[cid] = chr(first + offset)
    return out


def embedded_fonts(pdf: bytes) -> list[str]:
    """Names of the fonts whose program is embedded in the file."""
    names = []
    for font in _fonts(reader(pdf)):
        for descendant in font.get("/DescendantFonts") or [font]:
            descriptor = descendant.get_object().get("/FontDescriptor")
            if descriptor is not None and any(
                k in descriptor.get_object() for k in ("/FontFile", "/FontFile2", "/FontFile3")
            ):
                names.append(str(font["/BaseFont"]))
    return names


def missing_glyphs(pdf: bytes, characters: str) -> set[str]:
    """Characters not drawn with a real glyph (glyph 0 is .notdef, the box) of an embedded font."""
    covered = set()
    for font in _fonts(reader(pdf)):
        if "/ToUnicode" in font:
            covered |= {uni for cid, uni in _to_unicode(font).items() if cid != 0}
    return {ch for ch in characters if not ch.isspace() and ch not in covered}


def is_pdfa3b(pdf: bytes) -> bool:
    metadata = reader(pdf).trailer["/Root"]["/Metadata"].get_object().get_data()
    return (b"<pdfaid:part>3</pdfaid:part>" in metadata or b'pdfaid:part="3"' in metadata) and (
        b"<pdfaid:conformance>B</pdfaid:conformance>" in metadata or b'pdfaid:conformance="B"' in metadata
    )


def attachments(pdf: bytes) -> dict[str, bytes]:
    return {name: data[0] for name, data in reader(pdf).attachments.items()}


def assert_sound(pdf: bytes, expected_text: list[str], *, title: str | None = None) -> str:
    """The checks every document passes; returns the extracted text."""
    assert pdf.startswith(b"%PDF-")
    if os.environ.get("SCHOOLGATE_TEST_PDF_DIR"):  # to look at them as their readers will
        out = Path(os.environ["SCHOOLGATE_TEST_PDF_DIR"])
        out.mkdir(parents=True, exist_ok=True)
        (out / f"{reader(pdf).metadata.title}-{hashlib.sha256(pdf).hexdigest()[:8]}.pdf").write_bytes(pdf)
    found = text(pdf)
    for piece in expected_text:
        assert re.sub(r"\s+", "", piece) in found, piece
    assert embedded_fonts(pdf) and all("SchoolGate-Sans-SC" in name for name in embedded_fonts(pdf))
    assert is_pdfa3b(pdf)
    info = reader(pdf)
    assert str(info.trailer["/Root"].get("/Lang")) == "zh-CN"
    if title is not None:
        assert info.metadata.title == title
    assert not missing_glyphs(pdf, "".join(expected_text))
    return found
