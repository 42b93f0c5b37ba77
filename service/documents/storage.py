"""Content-addressed file storage behind a small interface.

Files are named by their SHA-256, so identical uploads are stored once and a stored
file can be checked against the hash the database recorded. Another backend
(S3-compatible) only has to implement `BlobStorage`.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Protocol, runtime_checkable


@runtime_checkable
class BlobStorage(Protocol):
    def put(self, content: bytes) -> str: ...

    def get(self, sha256: str) -> bytes: ...


class LocalBlobStorage:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, content: bytes) -> str:
        """Store the bytes (once) and return their hash. Writes are atomic renames."""
        digest = hashlib.sha256(content).hexdigest()
        target = self._path(digest)
        if target.exists():
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, target)
        return digest

    def get(self, sha256: str) -> bytes:
        content = self._path(sha256).read_bytes()
        if hashlib.sha256(content).hexdigest() != sha256:
            raise OSError(f"stored file {sha256} does not match its hash")
        return content
