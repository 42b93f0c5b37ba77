"""Passwords: argon2id hashes, and the rules a login name and a password must meet."""

from __future__ import annotations

import asyncio
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from service.errors import InvalidInput

HASHER = PasswordHasher()  # argon2id with the library's current recommended cost
# Verified when the login name is unknown, so both answers take the same time.
_DUMMY_HASH = HASHER.hash(secrets.token_urlsafe(16))
LOGIN_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$")
PASSWORD_MIN, PASSWORD_MAX = 10, 128


def validate_login(login: str | None) -> str:
    login = (login or "").strip()
    if not LOGIN_PATTERN.match(login):
        raise InvalidInput.field(
            "login", "invalid_login", "登录名为 3–64 位字母、数字、点、下划线或连字符，以字母或数字开头"
        )
    return login


def validate_password(password: str | None, login: str | None = None) -> str:
    password = password or ""
    if len(password) < PASSWORD_MIN or len(password) > PASSWORD_MAX:
        raise InvalidInput.field("password", "weak_password", f"密码长度须为 {PASSWORD_MIN}–{PASSWORD_MAX} 个字符")
    if login and password.lower() == login.lower():
        raise InvalidInput.field("password", "weak_password", "密码不能与登录名相同")
    if len(set(password)) < 4:
        raise InvalidInput.field("password", "weak_password", "密码过于简单，请混合使用不同字符")
    return password


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(HASHER.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """False for a wrong password and for no hash at all (an unknown login name), in
    the same time: the missing hash is replaced by a dummy one."""

    def check() -> bool:
        try:
            return HASHER.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)
