"""Showing a one-time secret after Post/Redirect/Get.

A webhook's signing secret and the pupils' rating codes are shown once, and are stored
only encrypted or hashed, so the page the POST redirects to cannot read them back. The
POST therefore hands them to that one page in a cookie: encrypted under the service
keyring (AES-GCM), bound to the session and to the page's path (the purpose), kept to
that path, HttpOnly, SameSite=Strict, Secure over HTTPS, for 5 minutes. The page opens it
and deletes it in its answer (Cache-Control: no-store): a refresh shows that the secret
was already shown, never the secret again, and never a second creation.
"""

from __future__ import annotations

import base64
import json
import time

from litestar import Request, Response

from service.console.web import current_user, secure_cookies
from service.security import Keyring, KeyringError

COOKIE = "sg_reveal"
LIFETIME_SECONDS = 300


def _purpose(request: Request, path: str) -> bytes:
    return b"console.reveal\x00" + current_user(request).session_id.bytes + path.encode()


def hand_over(request: Request, keyring: Keyring, response: Response, path: str, secret: str) -> Response:
    """Put `secret` in the cookie the page at `path` (where `response` redirects) opens."""
    sealed = keyring.encrypt(json.dumps({"s": secret, "at": int(time.time())}).encode(), _purpose(request, path))
    response.set_cookie(
        COOKIE,
        base64.urlsafe_b64encode(sealed).decode(),
        path=path,
        max_age=LIFETIME_SECONDS,
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request),
    )
    return response


def take(request: Request, keyring: Keyring, path: str) -> str | None:
    """The secret handed to this page, if it is still there, fresh and this session's."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        opened = json.loads(keyring.decrypt(base64.urlsafe_b64decode(raw.encode()), _purpose(request, path)))
    except (KeyringError, ValueError):
        return None
    if not isinstance(opened, dict) or time.time() - int(opened.get("at", 0)) > LIFETIME_SECONDS:
        return None
    secret = opened.get("s")
    return secret if isinstance(secret, str) else None


def shown_once(response: Response, path: str) -> Response:
    """The answer that showed (or would have shown) the secret: not stored, cookie gone."""
    response.headers["Cache-Control"] = "no-store"
    response.delete_cookie(COOKIE, path=path)
    return response
