"""The one rule for text that comes in: which characters no input may carry.

Every string the API accepts — JSON fields, form fields, query and path parameters —
is declared with one of the types below, and a test walks every route to make sure no
plain `str` is left (tests/web/test_text_rule.py). Import cells, which arrive inside a
spreadsheet, are checked with `bad_character()` against the same classes.

Refused everywhere: C0 and C1 controls (tab, newline and carriage return only in
multi-line text), DEL, bidi embeddings, overrides and isolates (U+202A–U+202E,
U+2066–U+2069), the byte-order mark U+FEFF, noncharacters, lone surrogates and
private-use characters. Single-line text also refuses U+2028 and U+2029, which are
line breaks. A refused string answers 422 `invalid_characters` naming the field.

The patterns use Python's regular-expression syntax (`\\U` escapes, `\\Z` for the end of
the string: `$` would let a trailing newline through).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

import msgspec

_NONCHARACTERS = r"\ufdd0-\ufdef\ufffe\uffff" + "".join(
    rf"\U{plane:04x}fffe\U{plane:04x}ffff" for plane in range(0x1, 0xF)
)
_ALWAYS_REFUSED = (
    r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"  # C0 (but tab, newline, CR), DEL, C1
    r"\u202a-\u202e\u2066-\u2069"  # bidi embeddings, overrides, isolates
    r"\ufeff"  # byte-order mark / zero-width no-break space
    r"\ud800-\udfff"  # lone surrogates
    r"\ue000-\uf8ff\U000f0000-\U0010ffff" + _NONCHARACTERS  # private use (planes 15 and 16 hold nothing else)
)
MULTILINE_PATTERN = rf"^[^{_ALWAYS_REFUSED}]*\Z"
LINE_PATTERN = rf"^[^{_ALWAYS_REFUSED}\t\n\r\u2028\u2029]*\Z"
TEXT_PATTERNS = frozenset({LINE_PATTERN, MULTILINE_PATTERN})

_LINE_BAD = re.compile(rf"[{_ALWAYS_REFUSED}\t\n\r\u2028\u2029]")
_MULTILINE_BAD = re.compile(rf"[{_ALWAYS_REFUSED}]")

Text = Annotated[str, msgspec.Meta(pattern=LINE_PATTERN, description="单行文本")]
"""Single-line text: names, codes, references, identifiers, search terms."""

MultilineText = Annotated[str, msgspec.Meta(pattern=MULTILINE_PATTERN, description="多行文本")]
"""Free text that may hold tabs and line breaks: reasons, descriptions, addresses."""

INVALID_CHARACTERS = "invalid_characters"
INVALID_CHARACTERS_MESSAGE = "含有不允许的字符（控制字符、双向控制符、非字符或私用区字符）"


def bad_character(value: str, *, multiline: bool = False) -> int | None:
    """The index of the first refused character in `value`, or None when it is clean."""
    found = (_MULTILINE_BAD if multiline else _LINE_BAD).search(value)
    return None if found is None else found.start()


def nfc(value: str) -> str:
    """Names are stored and compared in NFC, so that 'é' typed two ways is one name."""
    return value if value.isascii() else unicodedata.normalize("NFC", value)
