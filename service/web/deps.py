"""Named dependencies handlers ask for: `db: DB`, `actor: CurrentActor`, ..."""

from __future__ import annotations

from litestar.di import NamedDependency

from service.audit.keys import Signer
from service.config import Settings
from service.db.engine import Database
from service.documents.storage import BlobStorage
from service.security.actor import Actor
from service.security.keyring import Keyring

DB = NamedDependency[Database]
CurrentActor = NamedDependency[Actor]
Storage = NamedDependency[BlobStorage]
AppSettings = NamedDependency[Settings]
AuditSigner = NamedDependency[Signer]
Keys = NamedDependency[Keyring]
