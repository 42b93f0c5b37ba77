"""The service's Ed25519 signing key: one PEM file shared by every worker process.

Created on first use with O_EXCL, so two processes starting together end up with the
same key: the loser of the race reads the winner's file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from service.audit.checkpoint import make_vkey


@dataclass(frozen=True)
class Signer:
    """Signs checkpoints (and receipts) as `name`, the log's origin."""

    name: str
    private_key: Ed25519PrivateKey

    @property
    def public_key_raw(self) -> bytes:
        return self.private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def vkey(self) -> str:
        """The C2SP note verifier key: `name+keyhash+base64(0x01||pubkey)`."""
        return make_vkey(self.name, self.private_key.public_key())

    @property
    def public_key_pem(self) -> str:
        return (
            self.private_key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process won the race; use its key
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 private key")
    return key


def load_signer(path: Path, origin: str) -> Signer:
    return Signer(name=origin, private_key=load_or_create_key(path))
