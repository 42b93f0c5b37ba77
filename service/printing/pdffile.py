"""Reading our PDFs back, offline (pypdf): the associated files and the printed text."""

from __future__ import annotations

import io
import re


class NotOurPdf(ValueError):
    """Not a PDF, or not one that carries the expected attachment."""


def _reader(data: bytes):
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        return PdfReader(io.BytesIO(data))
    except (PdfReadError, ValueError, OSError) as error:
        raise NotOurPdf(f"not a readable PDF: {error}") from None


def is_pdf(data: bytes) -> bool:
    return data[:5] == b"%PDF-"


def attachment(data: bytes, name: str) -> bytes:
    """The embedded file `name` (a PDF/A-3 associated file)."""
    found = _reader(data).attachments.get(name)
    if not found:
        raise NotOurPdf(f"the PDF carries no attachment {name!r}")
    return found[0]


def printed_text(data: bytes) -> str:
    """The text on the pages, with all whitespace removed (lines wrap anywhere)."""
    return re.sub(r"\s+", "", "".join(page.extract_text() or "" for page in _reader(data).pages))
