"""The auditor console: search the audit log, see an entry with its proof, export CSV or JSON, see who witnessed it.

Registered by the default plugin :mod:`gateway.builtin.audit_console`, with
its API twin :mod:`gateway.api.audit_log`. Who may read, and the record of
each reading, are in :mod:`gateway.web.audit_log_reading`.
"""

from __future__ import annotations

import csv
import io
import json
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from gateway.audit.search import as_dict, csv_rows
from gateway.audit.search_purposes import AUDIT_PURPOSES
from gateway.web.audit_log_reading import audit_query, auditor, load_entry, run_search, witnessed_checkpoints
from gateway.web.lookups import registry_of
from gateway.web.templating import render


async def console(request: Request) -> Response:
    principal, scope = await auditor(request)
    query = audit_query(dict(request.query_params))
    searched = bool(request.query_params)
    entries = (await run_search(request, "audit.search", query, principal, scope)).entries if searched else []
    params = urlencode([(key, value) for key, value in request.query_params.items() if key != "before"])
    communes = sorted(registry_of(request).communes) if scope.communes is None else sorted(scope.communes)
    context = {"query": query, "entries": entries, "searched": searched, "params": params, "communes": communes,
               "purposes": AUDIT_PURPOSES,
               "next_before": entries[-1].seq if len(entries) == query.limit else None,
               "checkpoints": [] if searched else await witnessed_checkpoints(request)}  # fmt: skip
    return render(request, "audit_search.html", context)


async def entry_page(request: Request) -> Response:
    principal, scope = await auditor(request)
    entry, proof = await load_entry(request, principal, scope)
    return render(request, "audit_entry.html", {"entry": entry, "fields": as_dict(entry), "proof": proof})


async def _export(request: Request, kind: str) -> Response:
    principal, scope = await auditor(request)
    query = audit_query(dict(request.query_params))
    entries = (await run_search(request, "audit.export", query, principal, scope)).entries
    if kind == "csv":
        buffer = io.StringIO()
        csv.writer(buffer).writerows(csv_rows(entries))
        body, media = buffer.getvalue(), "text/csv; charset=utf-8"
    else:
        body, media = (
            json.dumps({"entries": [as_dict(entry) for entry in entries]}, ensure_ascii=False),
            "application/json",
        )
    headers = {"Content-Disposition": f'attachment; filename="audit.{kind}"'}
    return Response(body, media_type=media, headers=headers)


async def export_csv(request: Request) -> Response:
    return await _export(request, "csv")


async def export_json(request: Request) -> Response:
    return await _export(request, "json")


def routes() -> list[BaseRoute]:
    return [
        Route("/audit", console, name="audit_console"),
        Route("/audit/entrees/{seq}", entry_page, name="audit_entry"),
        Route("/audit/export.csv", export_csv, name="audit_export_csv"),
        Route("/audit/export.json", export_json, name="audit_export_json"),
    ]
