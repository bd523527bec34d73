"""The auditor console: search the audit log, see an entry with its proof, export CSV or JSON, see who witnessed it.

Entries read in words, in the page's language (:mod:`gateway.web.audit_log_words`);
the sealed entry stays one click away on its page, and its proof downloads
as a file that ``guichet audit verify-bundle`` checks offline.

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

from gateway.audit.bundle import bundle_bytes
from gateway.audit.search import as_dict
from gateway.audit.search_purposes import AUDIT_PURPOSES
from gateway.web.audit_log_reading import (
    audit_query,
    auditor,
    load_entry,
    load_entry_bundle,
    proof_checkpoint,
    run_search,
    witnessed_checkpoints,
)
from gateway.web.audit_log_words import (
    action_choices,
    commune_choices,
    csv_rows_in_words,
    outcome_choices,
    readable,
    staff_names,
)
from gateway.web.audit_timelines import request_link
from gateway.web.i18n import choose_locale
from gateway.web.lookups import database_of, registry_of
from gateway.web.templating import render
from gateway.web.transparency import verifier_key_text

PROOF_FILENAME = "preuve-entree-{seq}.json"


async def console(request: Request) -> Response:
    principal, scope = await auditor(request)
    query = audit_query(dict(request.query_params))
    searched = bool(request.query_params)
    entries = (await run_search(request, "audit.search", query, principal, scope)).entries if searched else []
    params = urlencode([(key, value) for key, value in request.query_params.items() if key != "before"])
    registry, locale = registry_of(request), choose_locale(request)
    communes = sorted(registry.communes) if scope.communes is None else sorted(scope.communes)
    names = await database_of(request).run(staff_names, database_of(request), entries)
    context = {"query": query, "entries": [readable(entry, registry, locale, names) for entry in entries],
               "searched": searched, "params": params, "communes": commune_choices(registry, communes),
               "actions": action_choices(locale), "outcomes": outcome_choices(locale), "purposes": AUDIT_PURPOSES,
               "links": {entry.seq: request_link(entry) for entry in entries},
               "next_before": entries[-1].seq if len(entries) == query.limit else None,
               "checkpoints": [] if searched else await witnessed_checkpoints(request)}  # fmt: skip
    return render(request, "audit_search.html", context)


async def entry_page(request: Request) -> Response:
    principal, scope = await auditor(request)
    entry, proof = await load_entry(request, principal, scope)
    locale = choose_locale(request)
    names = await database_of(request).run(staff_names, database_of(request), [entry])
    context = {"entry": entry, "words": readable(entry, registry_of(request), locale, names), "fields": as_dict(entry),
               "proof": proof,
               "witnessed": await proof_checkpoint(request, proof.tree_size) if proof is not None else None,
               "key": verifier_key_text(request)}  # fmt: skip
    return render(request, "audit_entry.html", context)


async def entry_proof(request: Request) -> Response:
    """The entry's proof as a bundle file to keep and check offline (``docs/audit_format.md`` §6)."""
    principal, scope = await auditor(request)
    bundle = await load_entry_bundle(request, principal, scope)
    seq = bundle["entries"][0]["seq"]
    headers = {"Content-Disposition": f'attachment; filename="{PROOF_FILENAME.format(seq=seq)}"'}
    return Response(bundle_bytes(bundle), media_type="application/json", headers=headers)


async def _export(request: Request, kind: str) -> Response:
    principal, scope = await auditor(request)
    query = audit_query(dict(request.query_params))
    entries = (await run_search(request, "audit.export", query, principal, scope)).entries
    if kind == "csv":
        buffer = io.StringIO()
        names = await database_of(request).run(staff_names, database_of(request), entries)
        csv.writer(buffer).writerows(csv_rows_in_words(entries, registry_of(request), choose_locale(request), names))
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
        Route("/audit/entrees/{seq}/preuve.json", entry_proof, name="audit_entry_proof"),
        Route("/audit/export.csv", export_csv, name="audit_export_csv"),
        Route("/audit/export.json", export_json, name="audit_export_json"),
    ]
