"""Stored files as HTTP responses: one shape for every download."""

from __future__ import annotations

from urllib.parse import quote

from litestar import Response


def file_response(content: bytes, *, filename: str, content_type: str, sha256: str) -> Response[bytes]:
    """The file as an attachment, with the type sniffed at upload (never a guess from the
    name), its hash for the caller to check, and no sniffing by the browser."""
    return Response(content, media_type=content_type,
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
                             "X-Content-SHA256": sha256, "X-Content-Type-Options": "nosniff"})
