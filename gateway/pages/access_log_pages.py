"""A citizen's access log as a page, as CSV or JSON to download, and as a bundle of proofs to verify offline.

Registered by the default plugin :mod:`gateway.builtin.access_log`, with its
API twin :mod:`gateway.api.access_log`; the reading itself is in
:mod:`gateway.web.access_log_reading`, the proofs in :mod:`gateway.web.access_log_proofs`.
"""

from __future__ import annotations

import csv
import io
import json

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from gateway.web.access_log_proofs import FILENAME, access_log_bundle, access_log_coverage
from gateway.web.access_log_reading import entries_of, load_access_log
from gateway.web.dates import when
from gateway.web.templating import render


async def access_log_page(request: Request) -> Response:
    principal, found, locale = await load_access_log(request)
    shown = [(act, when(act.time, locale), [when(access.time, locale) for access in act.entries]) for act in found]
    proofs = await access_log_coverage(request)
    return render(request, "access_log.html", {"accesses": shown, "principal": principal, "proofs": proofs})


async def access_log_csv(request: Request) -> Response:
    _principal, found, _locale = await load_access_log(request)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["time", "commune", "service", "who", "what", "purpose", "outcome", "act"])
    writer.writerows([list(access.as_dict().values()) for access in entries_of(found)])
    headers = {"Content-Disposition": 'attachment; filename="mon-journal-d-acces.csv"'}
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)


async def access_log_json(request: Request) -> Response:
    _principal, found, _locale = await load_access_log(request)
    headers = {"Content-Disposition": 'attachment; filename="mon-journal-d-acces.json"'}
    body = json.dumps({"accesses": [access.as_dict() for access in entries_of(found)]}, ensure_ascii=False)
    return Response(body, media_type="application/json", headers=headers)


async def access_log_proofs(request: Request) -> Response:
    bundle = await access_log_bundle(request)
    headers = {"Content-Disposition": f'attachment; filename="{FILENAME}"', "Cache-Control": "no-store"}
    body = json.dumps(bundle, ensure_ascii=False, indent=1) + "\n"
    return Response(body, media_type="application/json", headers=headers)


def routes() -> list[BaseRoute]:
    return [
        Route("/mon-compte/acces", access_log_page, name="access_log"),
        Route("/mon-compte/acces.csv", access_log_csv, name="access_log_csv"),
        Route("/mon-compte/acces.json", access_log_json, name="access_log_json"),
        Route("/mon-compte/acces-preuves.json", access_log_proofs, name="access_log_proofs"),
    ]
