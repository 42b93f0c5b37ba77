"""The one renderer: a Jinja template and plain data in, PDF/A-3b bytes out (synchronous).

It runs inside the render pool's worker processes (service/printing/pool.py), never on
the event loop. Everything that makes the output safe and the same every time is here:

- templates are autoescaped (every value, vendor names included, is text, never markup);
- the URL fetcher serves only the packaged assets (fonts, stylesheet) and `data:` URLs
  the templates make themselves (QR codes); any other URL — network, `file:` outside
  the package, anything else — is refused and nothing is fetched;
- the font is the packaged SchoolGate Sans SC (service/printing/fonts), declared in
  `@font-face`: no system font is needed or consulted for the text;
- the PDF's dates (metadata, attachments) come from the document's own instant and its
  identifier from its content, so the same data and instant give the same bytes.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from service.printing import words

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
ASSETS = (HERE / "fonts", TEMPLATES)
PDF_VARIANT = "pdf/a-3b"


@dataclass(frozen=True)
class Attachment:
    """A file embedded as a PDF/A-3 associated file (`AFRelationship` /Data or /Source)."""

    name: str
    data: bytes
    description: str
    relationship: str = "Data"


@dataclass(frozen=True)
class Job:
    """One document to render. Only plain values: it crosses a process boundary."""

    template: str
    context: dict[str, Any]
    title: str
    author: str
    created: datetime  # the document's instant: its date, and its PDF metadata dates
    attachments: tuple[Attachment, ...] = field(default=())


class RefusedURL(ValueError):
    """A template or a value asked for a resource outside the packaged assets."""


def _inside_assets(path: Path) -> bool:
    return any(path == root or root in path.parents for root in ASSETS)


@cache
def _fetcher():
    from urllib.parse import unquote, urlparse

    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class AssetsOnly(URLFetcher):
        """Packaged assets and inline `data:` only; every other URL is refused unopened."""

        def fetch(self, url, headers=None):
            scheme = url.split(":", 1)[0].lower()
            if scheme == "data":
                return super().fetch(url, headers)
            if scheme == "file":
                path = Path(unquote(urlparse(url).path)).resolve()
                if _inside_assets(path) and path.is_file():
                    return URLFetcherResponse(url, path.read_bytes())
            logging.getLogger("schoolgate.printing").warning("render_refused_url scheme=%s", scheme[:16])
            raise RefusedURL("only packaged assets may be loaded")

    return AssetsOnly(allowed_protocols=("data", "file"), timeout=1)


@cache
def _environment():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(words.FILTERS)
    return env


@cache
def _fonts():
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


@cache
def _stylesheet():
    from weasyprint import CSS

    return CSS(filename=str(TEMPLATES / "styles.css"), url_fetcher=_fetcher(), font_config=_fonts())


def html_of(job: Job) -> str:
    return (
        _environment()
        .get_template(job.template)
        .render(**job.context, doc_title=job.title, doc_author=job.author, doc_created=job.created.isoformat())
    )


def render(job: Job) -> bytes:
    """The PDF of `job`: PDF/A-3b, fonts embedded, title / author / language set."""
    from weasyprint import HTML
    from weasyprint import Attachment as PdfAttachment

    html = html_of(job)
    naive = job.created.replace(tzinfo=None)
    attachments = [
        PdfAttachment(
            string=a.data,
            name=a.name,
            description=a.description,
            created=naive,
            modified=naive,
            relationship=a.relationship,
        )
        for a in job.attachments
    ]
    identifier = hashlib.sha256(html.encode() + b"".join(a.data for a in job.attachments)).hexdigest()[:32]
    document = HTML(string=html, base_url=TEMPLATES.as_uri() + "/", url_fetcher=_fetcher())
    return document.write_pdf(
        stylesheets=[_stylesheet()],
        font_config=_fonts(),
        pdf_variant=PDF_VARIANT,
        attachments=attachments,
        pdf_identifier=identifier.encode(),
        uncompressed_pdf=False,
    )


def warm() -> None:
    """Load what every render needs once per worker process (the 7 MB font, the CSS)."""
    _stylesheet()


@cache
def layout_version() -> str:
    """Names the templates and stylesheet this process renders with (16 hex of their
    SHA-256): a stored PDF made with another layout is rendered again."""
    digest = hashlib.sha256()
    for path in sorted(TEMPLATES.iterdir()):
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]
