"""Input clean-up shared by the identifier checks."""

from __future__ import annotations

import unicodedata


def compact_upper(raw: str) -> str:
    """Fold full-width characters, drop all whitespace, upper-case.

    Chinese input methods readily produce full-width digits and letters (`９１３６`)
    and the ideographic space; NFKC turns them into their ASCII forms so that a
    correct identifier typed in full-width mode is not rejected. Callers still
    check the charset strictly afterwards, so nothing exotic slips through.
    """
    folded = unicodedata.normalize("NFKC", raw)
    return "".join(folded.split()).upper()
