"""The auditor's timelines: one request's story, and one person's, oldest first, across the communes they may read.

Registered by the default plugin :mod:`gateway.builtin.audit_console`, with
their API twins in :mod:`gateway.api.audit_timelines`. Finding the entries,
and recording that they were read, are in :mod:`gateway.web.audit_timelines`
(a request) and :mod:`gateway.web.audit_log_reading` (a person).
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from gateway.audit.search import AuditQuery, Scope
from gateway.audit.search_purposes import AUDIT_PURPOSES
from gateway.models import AuditEntry
from gateway.web.audit_log_reading import Found, audit_query, auditor, person_kinds, run_search
from gateway.web.audit_log_words import ReadableEntry, readable, staff_names
from gateway.web.audit_timelines import request_link, request_timeline
from gateway.web.i18n import choose_locale
from gateway.web.lookups import database_of, registry_of
from gateway.web.templating import render


async def request_page(request: Request) -> Response:
    principal, scope = await auditor(request)
    timeline = await request_timeline(request, principal, scope)
    rows = await _rows(request, timeline.entries)
    context = {"timeline": timeline, "commune": request.path_params["commune"],
               "reference": request.path_params["reference"], "rows": rows}  # fmt: skip
    return render(request, "audit_request_timeline.html", context)


async def person_page(request: Request) -> Response:
    """The form asking who and why; once both are given, every entry about that person, oldest first."""
    principal, scope = await auditor(request)
    params = dict(request.query_params)
    params.setdefault("order", "oldest")
    query = audit_query(params)
    found = await run_search(request, "audit.search", query, principal, scope) if query.citizen else None
    following = [(key, value) for key, value in params.items() if key != "after"]
    full = found is not None and len(found.entries) == query.limit
    context = {"query": query, "found": found, "purposes": AUDIT_PURPOSES, "params": urlencode(following),
               "rows": await _rows(request, found.entries if found else []),
               "kinds": person_kinds(found, scope) if found else {}, "unjoined": _unjoined(found, query, scope),
               "next_after": found.entries[-1].seq if found and full else None}  # fmt: skip
    return render(request, "audit_person_timeline.html", context)


async def _rows(request: Request, entries: list[AuditEntry]) -> list[tuple[ReadableEntry, str | None]]:
    """Each entry in the reader's words, with the link to its request's timeline."""
    registry, locale = registry_of(request), choose_locale(request)
    names = await database_of(request).run(staff_names, database_of(request), entries)
    return [(readable(entry, registry, locale, names), request_link(entry)) for entry in entries]


def _unjoined(found: Found | None, query: AuditQuery, scope: Scope) -> str | None:
    """The search for an address's filings an account holds unconfirmed: the syndicate's auditors only (it says
    an account exists)."""
    if found is None or found.resolution is None or not found.resolution.unjoined or scope.communes is not None:
        return None
    return urlencode({"citizen": found.resolution.unjoined[0].value, "purpose": query.purpose or ""})


def routes() -> list[BaseRoute]:
    return [
        Route("/audit/personne", person_page, name="audit_person"),
        Route("/audit/demandes/{commune}/{reference}", request_page, name="audit_request"),
    ]
