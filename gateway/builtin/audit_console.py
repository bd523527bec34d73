"""The auditor console, the audit log's API and its public transparency endpoints, registered as a default plugin."""

from __future__ import annotations

from starlette.routing import BaseRoute

from gateway import hookimpl
from gateway.api import audit_log, audit_review, audit_timelines, transparency
from gateway.pages import audit_log_pages, audit_review_pages, audit_timeline_pages, transparency_pages


@hookimpl
def guichet_routes() -> list[BaseRoute]:
    return [
        *audit_log_pages.routes(),
        *audit_timeline_pages.routes(),
        *audit_timelines.routes(),
        *audit_review_pages.routes(),
        *audit_log.routes(),
        *audit_review.routes(),
        *transparency_pages.routes(),
        *transparency.routes(),
    ]
