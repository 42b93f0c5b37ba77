"""create_app(): the one place that wires controllers, dependencies, errors and docs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from litestar import Litestar, Router
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.routes import HTTPRoute
from litestar.types import ControllerRouterHandler

from service.accounts import SignInPolicy, Throttle
from service.accounts.controllers import me, revoke_current_token
from service.applications import run_notice_jobs
from service.applications.controllers import (
    ApplicationController,
    ObjectionController,
    PublicNoticeController,
)
from service.audit import keep_log_sealed, load_signer
from service.audit.controllers import AuditController
from service.complaints.controllers import ComplaintController, PublicComplaintController
from service.config import Settings
from service.console.keys import console_secret, derived
from service.console.routes import console_router, static_router, template_config
from service.db import Database
from service.documents import LocalBlobStorage
from service.documents.controllers import DocumentController
from service.logging import configure_logging, flush_request_lines
from service.lookup import configure_rate_limit, keep_cache_warm, run_lookup_housekeeping
from service.lookup.controllers import (
    LookupController,
    PersonLookupsController,
    ReceiptController,
    service_keys,
)
from service.orders import order_standings
from service.orders.controllers import OrderController, PublicFeeController, SchoolOrderController, TermController
from service.personnel.controllers import (
    CheckImportController,
    ConsentController,
    PeopleController,
    VendorPeopleController,
)
from service.printing import configure as configure_printing
from service.printing.controllers import (
    AuditReportController,
    LetterController,
    PublicDocumentsController,
    RosterController,
)
from service.ratings.controllers import OrderRatingController, PublicRatingController, ReReviewController
from service.region_settings.controllers import RegionSettingsController
from service.reminders import run_reminder_jobs, sender_from
from service.reminders.controllers import reminders
from service.security import load_keyring
from service.service_items.controllers import ServiceItemController
from service.supervision.controllers import dashboard
from service.timetables.controllers import (
    PublicTimetableController,
    RegionTimetablesController,
    TimetableController,
)
from service.vendors.controllers import VendorController
from service.web.access import PUBLIC, authorize, provide_actor
from service.web.errors import EXCEPTION_HANDLERS
from service.web.health import healthz, readyz
from service.web.input_errors import document_input_errors
from service.web.jsonbody import JSONRequest
from service.web.requestid import with_request_context
from service.webhooks import run_webhook_jobs
from service.webhooks.controllers import WebhookController
from service.whitelist.controllers import PublicWhitelistController, WhitelistController

ROUTES: list[ControllerRouterHandler] = [
    healthz,
    readyz,
    me,
    revoke_current_token,
    VendorController,
    DocumentController,
    ServiceItemController,
    RegionSettingsController,
    ApplicationController,
    ObjectionController,
    PublicNoticeController,
    AuditController,
    VendorPeopleController,
    PeopleController,
    ConsentController,
    CheckImportController,
    WhitelistController,
    PublicWhitelistController,
    LookupController,
    PersonLookupsController,
    ReceiptController,
    service_keys,
    TermController,
    SchoolOrderController,
    OrderController,
    PublicDocumentsController,
    LetterController,
    RosterController,
    AuditReportController,
    TimetableController,
    PublicTimetableController,
    RegionTimetablesController,
    dashboard,
    WebhookController,
    ComplaintController,
    PublicComplaintController,
    PublicFeeController,
    OrderRatingController,
    PublicRatingController,
    ReReviewController,
    reminders,
]
MULTIPART_OVERHEAD = 64 * 1024


def create_app(settings: Settings | None = None, db: Database | None = None) -> Litestar:
    """Build the app. Pass `db` to share an engine (tests); otherwise the lifespan opens
    one on `settings.database_url`, which `schoolgate serve` always provides."""
    settings = settings or Settings.from_env()
    configure_logging(settings.log_format, settings.log_level)
    configure_rate_limit(settings.lookup_rate_per_minute)
    configure_printing(
        workers=settings.render_workers,
        timeout=settings.render_timeout_seconds,
        max_rows=settings.document_max_rows,
        publication_wait=settings.publication_wait_seconds,
    )

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        owned = None
        if getattr(app.state, "db", None) is None:
            if not settings.database_url:
                raise RuntimeError("SCHOOLGATE_DATABASE_URL is not set; start through `schoolgate serve`")
            owned = app.state.db = Database.configured(settings.database_url, settings)
        # Background duties run in every worker; each is safe with several workers.
        # The audit sequencer seals the log; the notice job ends public notices by itself.
        tasks = [
            asyncio.create_task(
                keep_log_sealed(
                    app.state.db, app.state.signer, checkpoint_interval=settings.checkpoint_interval_seconds
                )
            ),
            asyncio.create_task(run_notice_jobs(app.state.db, settings.notice_job_interval)),
            asyncio.create_task(run_lookup_housekeeping(app.state.db)),
            asyncio.create_task(keep_cache_warm(app.state.db)),
            # Webhooks: the outbox fanned out to schools, deliveries sent and retried.
            asyncio.create_task(run_webhook_jobs(app.state.db, keyring, settings, order_standings)),
            # Reminders of what ends in 30, 7 and 1 days, through the configured sender.
            asyncio.create_task(run_reminder_jobs(app.state.db, reminder_sender, settings.reminder_interval)),
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with suppress(asyncio.CancelledError):
                    await task
            if owned is not None:
                await owned.dispose()
            flush_request_lines()  # the last turn's request lines, before the loop stops

    def from_state(name: str):
        async def provide(state: State):
            return getattr(state, name)

        return Provide(provide)

    settings.files_dir.mkdir(parents=True, exist_ok=True)
    # Loaded once here, never per request; every worker reads the same key file.
    keyring = load_keyring(settings.data_dir, settings.personal_data_keys)
    reminder_sender = sender_from(settings.reminder_sender, settings)  # an unknown sender fails at start
    secret = console_secret(settings.keys_dir)
    throttle = Throttle(derived(secret, "throttle"), SignInPolicy(delay_seconds=settings.sign_in_delay_seconds))
    app = Litestar(
        route_handlers=[*ROUTES, console_router(secret, settings.secure_cookies), static_router()],
        template_config=template_config(),
        lifespan=[lifespan],
        state=State(
            {
                "db": db,
                "settings": settings,
                "storage": LocalBlobStorage(settings.files_dir),
                "signer": load_signer(settings.signing_key_file, settings.audit_origin),
                "keyring": keyring,
                "console_throttle": throttle,
            }
        ),
        dependencies={
            "db": from_state("db"),
            "settings": from_state("settings"),
            "storage": from_state("storage"),
            "signer": from_state("signer"),
            "keyring": from_state("keyring"),
            "actor": Provide(provide_actor),
        },
        exception_handlers=EXCEPTION_HANDLERS,
        request_class=JSONRequest,
        request_max_body_size=settings.max_upload_bytes + MULTIPART_OVERHEAD,
        openapi_config=OpenAPIConfig(
            title="SchoolGate API",
            version="1",
            description="白名单与人员核验服务 API。Authenticate with `Authorization: Bearer <token>`.",
            render_plugins=[JsonRenderPlugin()],
            openapi_router=Router(path="/schema", route_handlers=[], opt={"access": "public"}),
            components=Components(
                security_schemes={
                    "BearerToken": SecurityScheme(type="http", scheme="bearer", description="API token (sg_...)"),
                }
            ),
        ),
        debug=False,
        logging_config=None,  # logging is ours (service/logging.py); Litestar would replace the root handler
    )
    _declare_preflight_public(app)
    _refuse_unguarded_routes(app)
    document_input_errors(app)
    # Outside Litestar's own exception handling, so every response gets the request id and
    # its log line (service/web/requestid.py); Litestar calls `asgi_handler` per request.
    app.asgi_handler = with_request_context(app.asgi_handler)
    return app


def _refuse_unguarded_routes(app: Litestar) -> None:
    """Fail closed, at start: every route is public or carries the access guard (which
    `access(...)` attaches with the rule). The guard is per route, not app-level: Litestar
    copies the route handler for every guard call, ~15 µs a request (docs/performance.md),
    which the public routes (probes, the public whitelist) need not pay."""
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                if handler.opt.get("access") != PUBLIC and authorize not in handler.resolve_guards():
                    raise RuntimeError(
                        f"{sorted(handler.http_methods)} {route.path} declares no access rule: "
                        "use access(...) or public()"
                    )


def _declare_preflight_public(app: Litestar) -> None:
    """Litestar adds an OPTIONS handler to every path; it answers only which methods
    exist, so it is declared public here rather than left undeclared (and refused)."""
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                if handler.http_methods == {"OPTIONS"} and "access" not in handler.opt:
                    handler.opt["access"] = PUBLIC
