"""The one module that imports every domain's tables, so Alembic sees the whole schema."""

from sqlmodel import SQLModel

from service.accounts.models import Account, ApiToken, ConsoleSession, SignInThrottle
from service.applications.models import (
    Application,
    ApplicationDocument,
    ApplicationItem,
    Objection,
    StageChange,
)
from service.audit.models import AuditEvent
from service.complaints.models import Complaint, ComplaintEvidence, PublicRateWindow
from service.documents.models import Document
from service.idempotency.models import IdempotencyRecord, PublicIdempotencyRecord
from service.lookup.models import LookupRateWindow, LookupReceipt, LookupStateVersion
from service.numbering.models import DocumentNumberCounter
from service.orders.models import SchoolOrder, SchoolOrderPerson, Term
from service.personnel.models import (
    BackgroundCheck,
    BarLift,
    Certificate,
    CheckImport,
    CheckImportJob,
    ConsentDocument,
    Engagement,
    Person,
    PersonSuspension,
)
from service.printing.models import DecisionLetter, NoticeStateVersion, PublishedList
from service.ratings.models import ItemReReview, OrderRating, RatingCode
from service.region_settings.models import RegionSettings
from service.regions.models import Region
from service.reminders.models import Reminder
from service.schools.models import School
from service.service_items.models import ServiceItem
from service.timetables.models import Timetable
from service.vendors.models import Vendor
from service.webhooks.models import StandingChange, Webhook, WebhookDelivery, WebhookOrderStanding
from service.whitelist.models import (
    WhitelistActionRequest,
    WhitelistEntry,
    WhitelistEntryStatus,
)

metadata = SQLModel.metadata

__all__ = [
    "Account",
    "ApiToken",
    "ConsoleSession",
    "SignInThrottle",
    "Application",
    "ApplicationDocument",
    "ApplicationItem",
    "AuditEvent",
    "ItemReReview",
    "OrderRating",
    "RatingCode",
    "Complaint",
    "ComplaintEvidence",
    "PublicRateWindow",
    "PersonSuspension",
    "BackgroundCheck",
    "BarLift",
    "Certificate",
    "CheckImport",
    "CheckImportJob",
    "ConsentDocument",
    "DecisionLetter",
    "NoticeStateVersion",
    "PublishedList",
    "Document",
    "DocumentNumberCounter",
    "Engagement",
    "IdempotencyRecord",
    "PublicIdempotencyRecord",
    "LookupRateWindow",
    "LookupReceipt",
    "LookupStateVersion",
    "Objection",
    "Person",
    "Region",
    "RegionSettings",
    "School",
    "SchoolOrder",
    "SchoolOrderPerson",
    "ServiceItem",
    "StageChange",
    "Vendor",
    "WhitelistActionRequest",
    "WhitelistEntry",
    "Term",
    "Timetable",
    "WhitelistEntryStatus",
    "Reminder",
    "StandingChange",
    "Webhook",
    "WebhookDelivery",
    "WebhookOrderStanding",
    "metadata",
]
