"""The log's public face: its latest signed checkpoint, its verifier key, consistency proofs between two sizes.

Public, with no personal data in any answer (sizes and hashes only), so that
witnesses, auditors and anyone else can hold the log to what it signed
(docs/audit_format.md §10). Its page twin is :mod:`gateway.pages.transparency_pages`;
both are registered by the default plugin :mod:`gateway.builtin.audit_console`.
"""

from __future__ import annotations

import base64

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.audit.publication import ProofUnavailable, consistency, latest_checkpoint
from gateway.services import Localized
from gateway.web.errors import PageError
from gateway.web.numbers import BIGINT_MAX, integer_parameter
from gateway.web.openapi import json_response, operation, problem_response, text_response
from gateway.web.transparency import published_checkpoint, verifier_key_text

NOTE_TYPE = "text/plain; charset=utf-8"
_SIZE = {"type": "integer", "minimum": 0, "maximum": BIGINT_MAX}
_NEW = {**_SIZE, "description": "Default: the size of the latest checkpoint."}


@operation(
    summary="The latest signed checkpoint of the audit log, with the witnesses' cosignatures",
    operationId="getAuditCheckpoint",
    responses={
        "200": text_response("A C2SP checkpoint note: the gateway's signature, then one line per witness."),
        "404": problem_response("No checkpoint sealed yet."),
    },
)
async def checkpoint(request: Request) -> Response:
    published = await published_checkpoint(request)
    if published is None:
        raise PageError(404, Localized("Aucun point de contrôle scellé.", "No checkpoint sealed yet."))
    return Response(published.note, media_type=NOTE_TYPE)


@operation(
    summary="The verifier key of the audit log's checkpoints",
    operationId="getAuditVerifierKey",
    responses={
        "200": text_response("The note verifier key: <name>+<key hint>+<base64 key>."),
        "404": problem_response("No signing key configured."),
    },
)
async def verifier_key(request: Request) -> Response:
    key = verifier_key_text(request)
    if key is None:
        raise PageError(404, Localized("Aucune clé de signature configurée.", "No signing key configured."))
    return Response(key + "\n", media_type=NOTE_TYPE)


@operation(
    summary="A consistency proof between two sizes of the audit log",
    operationId="getAuditConsistencyProof",
    parameters=[
        {"name": "old", "in": "query", "required": True, "schema": _SIZE},
        {"name": "new", "in": "query", "required": False, "schema": _NEW},
    ],
    responses={
        "200": json_response("The RFC 9162 consistency proof, hashes in base64.", "ConsistencyProof"),
        "400": problem_response("A size is missing, malformed, or the old size is above the new one."),
        "404": problem_response("A size beyond the log, or reaching into entries removed by retention."),
    },
)
async def consistency_proof(request: Request) -> Response:
    params = request.query_params
    unknown = sorted(set(params) - {"old", "new"})
    if unknown or "old" not in params:
        raise PageError(400, Localized("Paramètres attendus : old, et new (facultatif).",
                                       "Expected parameters: old, and new (optional)."))  # fmt: skip
    old = integer_parameter(params["old"], "old", 0, BIGINT_MAX)
    new = integer_parameter(params["new"], "new", 0, BIGINT_MAX) if "new" in params else None
    if new is not None and old > new:
        raise PageError(400, Localized("« old » dépasse « new ».", "“old” is above “new”."))
    db = request.app.state.db

    def prove() -> tuple[int, list[bytes]] | str:
        with db.session(all_communes=True) as session:
            size = new
            if size is None:
                latest = latest_checkpoint(session)
                if latest is None:
                    return "no checkpoint sealed yet"
                size = latest.size
            try:
                return size, consistency(session, old, size)
            except ProofUnavailable as error:
                return str(error)

    result = await db.run(prove)
    if isinstance(result, str):
        raise PageError(404, Localized(f"Preuve indisponible : {result}.", f"No proof: {result}."))
    size, proof = result
    body = {"old_size": old, "new_size": size, "proof": [base64.b64encode(node).decode("ascii") for node in proof]}
    return JSONResponse(body)


def routes() -> list[BaseRoute]:
    return [
        Route("/api/v1/audit/checkpoint", checkpoint, name="api_audit_checkpoint"),
        Route("/api/v1/audit/key", verifier_key, name="api_audit_key"),
        Route("/api/v1/audit/consistency", consistency_proof, name="api_audit_consistency"),
    ]
