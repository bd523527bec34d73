"""The glue between Starlette and authlib's framework-free OAuth 2 core.

authlib ships request/response adapters for Flask and Django only. Here a
Starlette request becomes an :class:`OAuth2Request` (parameters from the
query string on GET, from the form body on POST, never both), and authlib's
``(status, body, headers)`` triple becomes a Starlette response.

The request is read before authlib runs, so authlib's synchronous code (and
the database work it triggers) can run in a worker thread.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from authlib.oauth2.rfc6749 import OAuth2Payload, OAuth2Request
from starlette.requests import Request
from starlette.responses import Response


class StarlettePayload(OAuth2Payload):  # type: ignore[misc]  # authlib ships no type hints
    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self._datalist: defaultdict[str, list[str]] = defaultdict(list)
        for name, value in pairs:
            self._datalist[name].append(value)
        self._data = {name: values[0] for name, values in self._datalist.items()}

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class StarletteOAuth2Request(OAuth2Request):  # type: ignore[misc]
    """An OAuth 2 request read off a Starlette request, detached from it."""

    def __init__(self, method: str, uri: str, headers: Mapping[str, str], pairs: Iterable[tuple[str, str]]) -> None:
        super().__init__(method=method, uri=uri, headers=headers)
        self.payload = StarlettePayload(pairs)

    @property
    def args(self) -> dict[str, str]:
        return self.payload.data if self.method == "GET" else {}

    @property
    def form(self) -> dict[str, str]:
        return self.payload.data if self.method == "POST" else {}


async def read_parameters(request: Request) -> list[tuple[str, str]]:
    """The request's parameters: the query string on GET, the form body on POST (never both)."""
    if request.method == "POST":
        async with request.form() as form:
            return [(name, value) for name, value in form.multi_items() if isinstance(value, str)]
    return list(request.query_params.multi_items())


def oauth2_request(request: Request, base_url: str, parameters: Iterable[tuple[str, str]]) -> StarletteOAuth2Request:
    """An authlib request; ``base_url`` is the public one (authlib refuses plain http off loopback)."""
    return StarletteOAuth2Request(request.method, base_url + request.url.path, request.headers, parameters)


def to_response(status: int, body: Any, headers: Iterable[tuple[str, str]]) -> Response:
    """authlib's answer as a Starlette response (a dict body is JSON, as authlib's own headers say)."""
    content = json.dumps(body) if isinstance(body, dict) else (body or "")
    return Response(content, status_code=status, headers=dict(headers))
