"""Entry applications (入驻申请): a vendor's service items through review to the whitelist."""

from service.applications.deadlines import REVIEW_STAGES, STAGE_TARGET_DAYS
from service.applications.jobs import run_forever as run_notice_jobs
from service.applications.models import Application
from service.applications.notices import conclude_due_notices, settle_due_notices
from service.applications.objections import ObjectionResult, file_objection, resolve_objection
from service.applications.queries import (
    Notice,
    count_waiting_for,
    list_applications,
    public_notices,
    public_notices_next_change,
)
from service.applications.rules import (
    REASON_LIMIT,
    WORKFLOWS,
    notice_due,
    notice_due_sql,
    notice_running_sql,
    parse_version,
    table_actions_for,
)
from service.applications.services import (
    ApplicationInput,
    create_application,
    get_application,
    transition,
)
from service.applications.view import ApplicationView

__all__ = [
    "Application",
    "ApplicationInput",
    "ApplicationView",
    "conclude_due_notices",
    "count_waiting_for",
    "create_application",
    "file_objection",
    "get_application",
    "list_applications",
    "Notice",
    "notice_due",
    "notice_due_sql",
    "notice_running_sql",
    "ObjectionResult",
    "parse_version",
    "public_notices",
    "public_notices_next_change",
    "resolve_objection",
    "REASON_LIMIT",
    "REVIEW_STAGES",
    "run_notice_jobs",
    "settle_due_notices",
    "STAGE_TARGET_DAYS",
    "table_actions_for",
    "transition",
    "WORKFLOWS",
]
