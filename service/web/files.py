"""Stored files as HTTP responses: one shape for every download."""

from __future__ import annotations

from urllib.parse import quote

from litestar import Response


def file_response(
    content: bytes,
    *,
    filename: str,
    content_type: str,
    sha256: str,
    inline: bool = False,
    personal: bool = False,
) -> Response[bytes]:
    """The file as an attachment (or `inline`, to open in the browser: the console),
    with the type sniffed at upload (never a guess from the name), its hash for the
    caller to check, and no sniffing by the browser. A `personal` file (one whose every
    read is audited) is never kept by the browser or a proxy: each open is a new read."""
    disposition = "inline" if inline else "attachment"
    headers = {
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(filename)}",
        "X-Content-SHA256": sha256,
        "X-Content-Type-Options": "nosniff",
    }
    if personal:
        headers["Cache-Control"] = "no-store"
    return Response(content, media_type=content_type, headers=headers)


PDF = "application/pdf"


def pdf_response(content: bytes, filename: str) -> Response[bytes]:
    """A rendered document, shown in the browser and never cached (it may be personal)."""
    return Response(
        content,
        media_type=PDF,
        headers={"Content-Disposition": f'inline; filename="{filename}"', "Cache-Control": "no-store"},
    )


def _matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 If-None-Match: `*`, or any listed tag equal to ours (weak comparison)."""
    if not if_none_match:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags


def published_response(
    body: bytes, *, etag: str, if_none_match: str | None, media_type: str, filename: str | None = None
) -> Response[bytes]:
    """A published (public, non-personal) file with its entity tag: 304 and no body when
    the client already holds these bytes. Caches may keep it but must ask again each
    time (`no-cache`), since the list can change at any moment."""
    headers = {"ETag": etag, "Cache-Control": "public, no-cache", "X-Content-Type-Options": "nosniff"}
    if _matches(if_none_match, etag):
        return Response(b"", status_code=304, headers=headers, media_type=media_type)
    if filename:
        headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return Response(body, media_type=media_type, headers=headers)
