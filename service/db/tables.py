"""The one module that imports every domain's tables, so Alembic sees the whole schema."""

from sqlmodel import SQLModel

from service.accounts.models import Account, ApiToken
from service.audit.models import AuditEvent
from service.documents.models import Document
from service.personnel.models import (
    BackgroundCheck,
    BarLift,
    Certificate,
    CheckImportJob,
    ConsentDocument,
    Engagement,
    Person,
)
from service.regions.models import Region
from service.schools.models import School
from service.vendors.models import Vendor

metadata = SQLModel.metadata

__all__ = [
    "Account", "ApiToken", "AuditEvent", "BackgroundCheck", "BarLift", "Certificate", "CheckImportJob",
    "ConsentDocument", "Document", "Engagement", "Person", "Region", "School", "Vendor", "metadata",
]
