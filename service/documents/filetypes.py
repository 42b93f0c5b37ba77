"""File types recognised by their magic bytes, never by name or declared type."""

from __future__ import annotations

SIGNATURES = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
)


def sniff(content: bytes) -> tuple[str, str] | None:
    """(content type, extension) of an accepted file, or None."""
    for magic, content_type, extension in SIGNATURES:
        if content.startswith(magic):
            return content_type, extension
    return None
