"""The console's secret: one random key in the data dir, read by every worker.

Two keys are derived from it, one per use: the CSRF token signature and the keyed
hash of throttled login names and addresses."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path

KEY_FILE = "console.key"


def console_secret(keys_dir: Path) -> bytes:
    path = Path(keys_dir) / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            # O_EXCL: when two workers start at once, one writes and both read its key.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
                handle.flush()
                os.fsync(handle.fileno())
    for _ in range(50):  # the other worker may still be writing it
        value = path.read_text().strip()
        if len(value) >= 64:
            break
        time.sleep(0.02)
    if len(value) < 64:
        raise RuntimeError(f"{path} is empty or truncated; delete it to make a new one (signs everyone out)")
    return bytes.fromhex(value)


def derived(secret: bytes, purpose: str) -> bytes:
    return hmac.new(secret, purpose.encode(), hashlib.sha256).digest()
