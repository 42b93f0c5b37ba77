"""The console's routes as one router, with its CSRF check and HTML error pages."""

from __future__ import annotations

from pathlib import Path

from litestar import Router
from litestar.config.csrf import CSRFConfig
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from service.console import (
    admin_pages,
    audit_pages,
    complaint_pages,
    dashboard_pages,
    objection_pages,
    order_pages,
    personnel_pages,
    public_pages,
    rating_pages,
    reviewer_pages,
    school_pages,
    settings_pages,
    signin_pages,
    timetable_pages,
    vendor_application_pages,
    vendor_pages,
    webhook_pages,
    whitelist_pages,
)
from service.console import format as fmt
from service.console.keys import derived
from service.console.web import CONSOLE_ERRORS, CSRF_COOKIE
from service.web.access import PUBLIC

HERE = Path(__file__).parent
PAGE_MODULES = [
    signin_pages,
    reviewer_pages,
    school_pages,
    public_pages,
    objection_pages,
    audit_pages,
    vendor_application_pages,
    vendor_pages,
    admin_pages,
    whitelist_pages,
    settings_pages,
    personnel_pages,
    order_pages,
    timetable_pages,
    dashboard_pages,
    complaint_pages,
    rating_pages,
    webhook_pages,
]


def console_router(secret: bytes, secure_cookies: str) -> Router:
    """Every page, behind a CSRF check: each form carries the token (`csrf_input`), and
    HTMX sends it as a header. The API's bearer-token routes are not in this router."""
    csrf = CSRFConfig(
        secret=derived(secret, "csrf").hex(),
        cookie_name=CSRF_COOKIE,
        cookie_path="/",
        cookie_httponly=True,
        cookie_samesite="strict",
        cookie_secure=secure_cookies == "always",
        header_name="x-csrftoken",
    )
    handlers = [handler for module in PAGE_MODULES for handler in module.ROUTES]
    return Router(
        path="/",
        route_handlers=handlers,
        middleware=[DefineMiddleware(CSRFMiddleware, config=csrf)],
        exception_handlers=CONSOLE_ERRORS,
    )


def static_router() -> Router:
    return create_static_files_router(
        path="/static",
        directories=[HERE / "static"],
        opt={"access": PUBLIC},
        include_in_schema=False,
        send_as_attachment=False,
    )


def template_config() -> TemplateConfig:
    def register(engine: JinjaTemplateEngine) -> None:
        engine.engine.filters.update(fmt.FILTERS)
        engine.engine.globals.update(chip=fmt.chip_html, doc_status=fmt.document_status)

    return TemplateConfig(directory=HERE / "templates", engine=JinjaTemplateEngine, engine_callback=register)
