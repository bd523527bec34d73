"""The citizen's request pages: drafts, attachments, submission, tracking, messages, withdrawal.

Registered as a default plugin through ``guichet_routes``.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from gateway import hookimpl


@hookimpl
def guichet_routes() -> list[BaseRoute]:
    return []
