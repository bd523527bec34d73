"""Reading JSON request bodies for the API: one place decides what is refused, and how.

A body that is not declared as JSON is a 415; one that does not parse (bad
syntax, bad encoding, absurd nesting) or is not a JSON object is a 400. Each
is a problem document saying so, never a stack trace.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from gateway.services import Localized
from gateway.web.errors import PageError

NOT_JSON = Localized("Le corps de la requête n'est pas un JSON valide.", "The request body is not valid JSON.")
NOT_AN_OBJECT = Localized("Le corps doit être un objet JSON.", "The body must be a JSON object.")


async def json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object, or a 415/400 :class:`PageError`."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise PageError(415)
    try:
        body = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise PageError(400, NOT_JSON) from None
    if not isinstance(body, dict):
        raise PageError(400, NOT_AN_OBJECT)
    return body
