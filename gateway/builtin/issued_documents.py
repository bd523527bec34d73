"""Issued documents' pages (the public check, the communes' keys, the downloads), registered as a default plugin."""

from __future__ import annotations

from starlette.routing import BaseRoute

from gateway import hookimpl
from gateway.pages import issued_document_pages


@hookimpl
def guichet_routes() -> list[BaseRoute]:
    return issued_document_pages.routes()
