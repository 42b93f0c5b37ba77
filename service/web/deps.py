"""Named dependencies handlers ask for: `db: DB`, `actor: CurrentActor`, ..."""

from __future__ import annotations

from litestar.di import NamedDependency

from service.audit import Signer
from service.config import Settings
from service.db import Database
from service.documents import BlobStorage
from service.security import Actor, Keyring

DB = NamedDependency[Database]
CurrentActor = NamedDependency[Actor]
Storage = NamedDependency[BlobStorage]
AppSettings = NamedDependency[Settings]
AuditSigner = NamedDependency[Signer]
Keys = NamedDependency[Keyring]
