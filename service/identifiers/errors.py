"""The one error every identifier check raises.

It is an `InvalidInput` so that a caller who forgets to catch it still produces a
422 with a stable code and a Chinese message instead of a 500. Callers that know the
form field should re-raise with `InvalidInput.field(field, exc.code, exc.message)`.
The message never contains the identifier itself: ID numbers are personal data and
error messages end up in logs.
"""

from __future__ import annotations

from service.errors import InvalidInput


class InvalidIdentifier(InvalidInput):
    """An identifier failed validation; `code` is stable snake_case, `message` is zh-CN."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, code=code)
