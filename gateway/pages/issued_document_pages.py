"""Issued documents on the web: the public check, each commune's published keys, and the downloads.

- ``/documents/verifier``: anyone types a document's code and reads back only
  what its service declared confirmable, who issued it, and whether it was
  revoked. No sign-in; throttled (:mod:`gateway.requests.document_check`).
- ``/documents/cles`` (HTML) and ``/documents/cles.json``: every commune's
  verifier keys, current and retired, for offline checks
  (``guichet documents verify``).
- ``/mes-demandes/<id>/documents-delivres/<number>``: the owner's download;
  ``/agents/<commune>/demandes/<reference>/documents-delivres/<number>``: an agent's.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.identity.access import require_citizen
from gateway.pages.agent_pages import _agent
from gateway.requests.document_check import CheckedDocument, CheckRefused, DocumentCheck
from gateway.requests.issued_downloads import AgentDocuments, CitizenDocuments
from gateway.requests.issuing import CHECK_PATH, KEYS_PATH
from gateway.requests.signing_keys import CommuneKeys, PublicKey, published_listing
from gateway.services import Localized
from gateway.web.callers import caller_of
from gateway.web.dates import day
from gateway.web.downloads import download_response
from gateway.web.form_bodies import text_form
from gateway.web.i18n import choose_locale
from gateway.web.lookups import database_of, registry_of, request_origin
from gateway.web.templating import render

PDF = "application/pdf"

TEXT = {
    "check_title": Localized("Vérifier un document délivré par une commune", "Check a document issued by a commune"),
    "check_intro": Localized(
        "Saisissez le code de vérification imprimé sur le document (11 caractères, par exemple 7K2M-Q9XH-4TC). "
        "La page confirme seulement ce que la démarche a prévu de confirmer, et la commune qui l'a délivré.",
        "Type the verification code printed on the document (11 characters, for example 7K2M-Q9XH-4TC). "
        "The page confirms only what the service chose to confirm, and the commune that issued it.",
    ),
    "code": Localized("Code de vérification", "Verification code"),
    "check": Localized("Vérifier", "Check"),
    "error": Localized("Erreur :", "Error:"),
    "valid": Localized("Ce document a bien été délivré.", "This document was issued."),
    "revoked": Localized(
        "Ce document a été RÉVOQUÉ : il n'est plus valable.", "This document was REVOKED: it is no longer valid."
    ),
    "issued_by": Localized("Délivré par", "Issued by"),
    "number": Localized("Numéro", "Number"),
    "issued_on": Localized("Date de délivrance", "Date of issue"),
    "document": Localized("Document", "Document"),
    "logged": Localized(
        "Cette vérification est inscrite au journal d'accès de la personne concernée.",
        "This check is recorded in the access log of the person concerned.",
    ),
    "offline": Localized(
        "Vous pouvez aussi vérifier le code QR hors ligne avec la clé publique de la commune.",
        "You can also check the QR code offline with the commune's public key.",
    ),
    "keys_title": Localized("Clés publiques des communes", "The communes' public keys"),
    "keys_intro": Localized(
        "Chaque commune signe les documents qu'elle délivre avec sa clé Ed25519. Avec la clé publique ci-dessous, "
        "chacun vérifie le code QR d'un document sans connexion : guichet documents verify CONTENU --key FICHIER. "
        "Les anciennes clés restent publiées pour que les documents déjà délivrés restent vérifiables.",
        "Each commune signs the documents it issues with its Ed25519 key. With the public key below, anyone checks "
        "a document's QR code offline: guichet documents verify PAYLOAD --key FILE. Retired keys stay published so "
        "that documents already issued can still be checked.",
    ),
    "key_id": Localized("Identifiant de clé", "Key id"),
    "public_key": Localized("Clé publique (Ed25519, base64url)", "Public key (Ed25519, base64url)"),
    "status": Localized("État", "Status"),
    "current": Localized("en service", "in use"),
    "retired": Localized("retirée (vérification seulement)", "retired (checking only)"),
    "no_key": Localized("Aucune clé publiée.", "No key published."),
    "json": Localized("Les mêmes clés en JSON", "The same keys as JSON"),
}


def _keys(request: Request) -> list[tuple[str, str, list[PublicKey]]]:
    """(slug, name, keys) for every commune, in the order of the deployment."""
    registry = registry_of(request)
    keys = CommuneKeys(registry.settings)
    return [(slug, commune.name, keys.published(slug)) for slug, commune in registry.communes.items()]


async def keys_page(request: Request) -> Response:
    found = await database_of(request).run(lambda: _keys(request))
    return render(request, "documents_keys.html", {"text": TEXT, "communes": found, "json_path": KEYS_PATH + ".json"})


async def keys_json(request: Request) -> Response:
    registry = registry_of(request)
    names = {slug: commune.name for slug, commune in registry.communes.items()}
    body = await database_of(request).run(lambda: published_listing(registry.settings, names))
    return JSONResponse(body, headers={"Cache-Control": "public, max-age=300"})


def _shown(checked: CheckedDocument, locale: str) -> dict[str, object]:
    return {
        "commune": checked.commune_name,
        "number": checked.number,
        "title": checked.title(locale),
        "issued_on": day(checked.issued_at, locale),
        "fields": [(label(locale), value) for label, value in checked.fields],
        "revoked": checked.revoked,
    }


async def check_page(request: Request) -> Response:
    context: dict[str, object] = {"text": TEXT, "action": CHECK_PATH, "keys_path": KEYS_PATH, "typed": "",
                                  "error": None, "found": None}  # fmt: skip
    if request.method == "GET":
        return render(request, "documents_check.html", context)
    form = await text_form(request)
    code = form.get("code", "")
    typed = code if isinstance(code, str) else ""
    checker = DocumentCheck(database_of(request), registry_of(request))
    origin = request_origin(request)
    try:
        checked = await database_of(request).run(lambda: checker.check(typed, origin))
    except CheckRefused as refused:
        context.update(typed=typed[:40], error=refused.reason(choose_locale(request)))
        response = render(request, "documents_check.html", context, status_code=refused.status)
        if refused.retry_after is not None:
            response.headers["Retry-After"] = str(refused.retry_after)
        return response
    context["found"] = _shown(checked, choose_locale(request))
    return render(request, "documents_check.html", context)


async def citizen_download(request: Request) -> Response:
    require_citizen(request)
    caller = await caller_of(request)
    public_id, number = request.path_params["public_id"], request.path_params["number"]
    documents = CitizenDocuments(database_of(request), registry_of(request))
    found = await database_of(request).run(lambda: documents.download_issued(caller, public_id, number))
    return download_response(found.content, PDF, found.filename)


async def agent_download(request: Request) -> Response:
    caller, commune = await _agent(request)
    reference, number = request.path_params["reference"], request.path_params["number"]
    documents = AgentDocuments(database_of(request), registry_of(request))
    found = await database_of(request).run(lambda: documents.download_issued(caller, commune.slug, reference, number))
    return download_response(found.content, PDF, found.filename)


def routes() -> list[BaseRoute]:
    return [
        Route(CHECK_PATH, check_page, methods=["GET", "POST"], name="documents_check"),
        Route(KEYS_PATH, keys_page, name="documents_keys"),
        Route(KEYS_PATH + ".json", keys_json, name="documents_keys_json"),
        Route("/mes-demandes/{public_id}/documents-delivres/{number}", citizen_download, name="my_issued_document"),
        Route(
            "/agents/{commune}/demandes/{reference}/documents-delivres/{number}",
            agent_download,
            name="agents_issued_document",
        ),
    ]
