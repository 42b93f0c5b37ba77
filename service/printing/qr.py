"""QR codes as inline SVG `data:` URLs (segno: no image library, nothing fetched)."""

from __future__ import annotations

import segno


def qr_data_url(text: str) -> str:
    """A QR code holding `text`, error correction M, as an SVG data URL for <img src>."""
    return segno.make_qr(text, error="m").svg_data_uri(scale=4, border=2)
