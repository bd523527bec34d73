"""The audit log's public page: its latest signed checkpoint, who witnessed it, its key and how to check it.

Anyone may read it, signed in or not: it shows sizes, hashes and witnesses'
names, nothing personal. Its API twin is :mod:`gateway.api.transparency`.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from gateway.web.templating import render
from gateway.web.transparency import published_checkpoint, verifier_key_text


async def transparency_page(request: Request) -> Response:
    context = {"published": await published_checkpoint(request), "key": verifier_key_text(request)}
    return render(request, "audit_transparency.html", context)


def routes() -> list[BaseRoute]:
    return [Route("/audit/transparence", transparency_page, name="audit_transparency")]
