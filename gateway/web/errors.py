"""Every error answered in words a person understands, never a stack trace.

Pages get an HTML page in the visitor's language; the API (``/api/...``) gets
an RFC 9457 problem document. Texts written in Python are :class:`Localized`
pairs; the templates take theirs from the translation catalogue.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match, Route
from starlette.types import Receive, Scope, Send

from gateway.services import Localized
from gateway.web.i18n import choose_locale
from gateway.web.security_headers import security_headers
from gateway.web.templating import render

logger = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_MEDIA_TYPE


#: status -> (title, explanation) shown for plain HTTP errors
MESSAGES: dict[int, tuple[Localized, Localized]] = {
    400: (
        Localized("Demande incorrecte", "Bad request"),
        Localized("Ce qui a été envoyé n'a pas pu être compris.", "What was sent could not be understood."),
    ),
    403: (
        Localized("Accès refusé", "Access denied"),
        Localized("Vous n'avez pas le droit d'accéder à cette page.", "You are not allowed to see this page."),
    ),
    404: (
        Localized("Page introuvable", "Page not found"),
        Localized(
            "Cette adresse ne correspond à aucune page. Vérifiez-la ou repartez de l'accueil.",
            "This address matches no page. Check it or start again from the home page.",
        ),
    ),
    409: (
        Localized("Conflit", "Conflict"),
        Localized(
            "Cette demande entre en conflit avec une demande déjà enregistrée. Rien n'a été modifié.",
            "This request conflicts with one already recorded. Nothing was changed.",
        ),
    ),
    405: (
        Localized("Méthode non autorisée", "Method not allowed"),
        Localized("Cette adresse ne s'utilise pas de cette façon.", "This address cannot be used this way."),
    ),
    413: (
        Localized("Envoi trop volumineux", "Content too large"),
        Localized(
            "Ce que vous avez envoyé dépasse la taille autorisée. Réduisez la taille des fichiers et réessayez.",
            "What you sent is larger than allowed. Make the files smaller and try again.",
        ),
    ),
    415: (
        Localized("Format non pris en charge", "Unsupported media type"),
        Localized(
            "Envoyez les données au format JSON (application/json).", "Send the data as JSON (application/json)."
        ),
    ),
    422: (
        Localized("Saisie à corriger", "Input to correct"),
        Localized(
            "Ce qui a été envoyé contient une erreur. Corrigez-la et réessayez.",
            "What was sent contains a mistake. Correct it and try again.",
        ),
    ),
    429: (
        Localized("Trop de demandes", "Too many requests"),
        Localized(
            "Trop de demandes ont été envoyées en peu de temps. Patientez quelques minutes et réessayez.",
            "Too many requests were sent in a short time. Wait a few minutes and try again.",
        ),
    ),
    500: (
        Localized("Erreur inattendue", "Unexpected error"),
        Localized(
            "Une erreur inattendue s'est produite de notre côté. Rien n'a été enregistré ; réessayez dans un moment.",
            "Something went wrong on our side. Nothing was saved; please try again in a moment.",
        ),
    ),
    503: (
        Localized("Service temporairement indisponible", "Service temporarily unavailable"),
        Localized(
            "Ce service est temporairement indisponible. Rien n'a été enregistré ; réessayez plus tard "
            "ou contactez votre mairie.",
            "This service is temporarily unavailable. Nothing was saved; "
            "please try again later or contact your town hall.",
        ),
    ),
}


class PageError(HTTPException):
    """An HTTP error with texts of its own, for pages and problems alike."""

    def __init__(self, status_code: int, detail: Localized | None = None, title: Localized | None = None) -> None:
        super().__init__(status_code=status_code)
        self.title = title
        self.text = detail


def wants_problem(scope: Scope) -> bool:
    path: str = scope.get("path", "")
    return path.startswith("/api/") or path == "/openapi.json"


def problem(
    status: int, title: str, detail: str | None = None, *, type_: str = "about:blank", **extensions: Any
) -> ProblemResponse:
    body: dict[str, Any] = {"type": type_, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extensions)
    return ProblemResponse(body, status_code=status)


def error_response(
    request: Request, status: int, title: Localized | None = None, detail: Localized | None = None
) -> Response:
    """The page or problem document for ``status``, with optional specific texts."""
    default_title, default_detail = MESSAGES.get(status, MESSAGES[400] if status < 500 else MESSAGES[500])
    title = title or default_title
    detail = detail or default_detail
    if wants_problem(request.scope):
        locale = choose_locale(request)
        return problem(status, title(locale), detail(locale))
    return render(request, "error.html", {"title": title, "detail": detail, "status": status}, status_code=status)


async def http_exception_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if isinstance(exc, PageError):
        response = error_response(request, exc.status_code, exc.title, exc.text)
    else:
        response = error_response(request, exc.status_code)
    if exc.headers:
        response.headers.update(exc.headers)
    if exc.status_code == 405:
        response.headers["Allow"] = allowed_methods(request)
    return response


def allowed_methods(request: Request) -> str:
    """Every method the path answers to, for a 405's ``Allow``.

    Starlette names only the methods of the first route whose path matched,
    but one path may be served by several routes (``GET`` and ``POST`` of
    ``/api/v1/me/requests`` are two endpoints), and ``Allow`` must list them all.
    """
    methods: set[str] = set()
    for route in request.app.routes:
        if isinstance(route, Route) and route.methods and route.matches(request.scope)[0] != Match.NONE:
            methods |= route.methods
    return ", ".join(sorted(methods))


async def server_error_handler(request: Request, exc: Exception) -> Response:
    """Last resort: log the trace for operators, show the visitor a plain apology."""
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    try:
        response = error_response(request, 500)
    except Exception:  # the page itself failed: fall back to text
        locale = choose_locale(request)
        response = Response(MESSAGES[500][1](locale), status_code=500, media_type="text/plain; charset=utf-8")
    https = request.app.state.registry.settings.https if hasattr(request.app.state, "registry") else False
    response.headers.update(security_headers(https))
    return response


async def respond_error(status: int, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer an error from ASGI middleware, outside any route."""
    response = error_response(Request(scope, receive), status)
    await response(scope, receive, send)


async def service_unavailable_handler(request: Request, exc: Exception) -> Response:
    """A service whose plugin failed: say so plainly; every other service keeps serving."""
    response = error_response(request, 503)
    response.headers["Retry-After"] = "300"
    return response


DATABASE_BUSY = Localized(
    "Le service est très demandé en ce moment et n'a pas pu traiter votre demande : rien n'a été enregistré. "
    "Réessayez dans quelques secondes ; un formulaire renvoyé ne sera pas enregistré deux fois.",
    "The service is very busy right now and could not handle your request: nothing was saved. "
    "Try again in a few seconds; a form sent again will not be recorded twice.",
)


async def database_unavailable_handler(request: Request, exc: Exception) -> Response:
    """The database was locked past the wait, unreachable or out of connections: 503, not a 500.

    The transaction was rolled back; the operator hears of it in the log, the
    person is told to try again (filings carry a submission key, so a retry is safe).
    """
    logger.error("database unavailable for %s %s: %s", request.method, request.url.path, exc.__class__.__name__,
                 exc_info=exc)  # fmt: skip
    response = error_response(request, 503, detail=DATABASE_BUSY)
    response.headers["Retry-After"] = "5"
    return response


KEY_REUSED = Localized(
    "Cette clé d'envoi (Idempotency-Key) a déjà servi pour une autre démarche de cette commune. "
    "Utilisez une nouvelle clé pour chaque demande.",
    "This submission key (Idempotency-Key) was already used for another service of this commune. "
    "Use a new key for each request.",
)


async def submission_key_reused_handler(request: Request, exc: Exception) -> Response:
    return error_response(request, 409, detail=KEY_REUSED)


KEY_CONFLICT = Localized(
    "Cette clé d'envoi (Idempotency-Key) a déjà servi pour une demande au contenu différent : rien de nouveau "
    "n'a été enregistré. Utilisez une nouvelle clé pour une nouvelle demande.",
    "This submission key (Idempotency-Key) was already used for a request with different content: nothing new "
    "was recorded. Use a new key for a new request.",
)


async def submission_key_conflict_handler(request: Request, exc: Exception) -> Response:
    """The same key with other answers: refused (422), the first request stays as it was."""
    return error_response(request, 422, detail=KEY_CONFLICT)


AUDIT_DOWN = Localized(
    "Votre demande n'a pas pu être enregistrée car le journal de traçabilité est indisponible. "
    "Rien n'a été enregistré ; réessayez dans un moment.",
    "Your request could not be recorded because the audit log is unavailable. Nothing was saved; "
    "please try again in a moment.",
)


async def audit_unavailable_handler(request: Request, exc: Exception) -> Response:
    """No audit record, no action: the transaction was rolled back (fail closed)."""
    logger.error("audit log unavailable on %s %s", request.method, request.url.path, exc_info=exc)
    response = error_response(request, 503, detail=AUDIT_DOWN)
    response.headers["Retry-After"] = "60"
    return response


async def request_error_handler(request: Request, exc: Exception) -> Response:
    """A refused request action (not found, forbidden, wrong state, stale, bad input): its reason, its status."""
    from gateway.requests.errors import RequestError

    assert isinstance(exc, RequestError)
    response: Response
    if wants_problem(request.scope):
        locale = choose_locale(request)
        title = MESSAGES.get(exc.status, MESSAGES[400])[0](locale)
        response = problem(exc.status, title, exc.reason(locale), type_=exc.problem_type)
    else:
        response = error_response(request, exc.status, detail=exc.reason)
    if exc.retry_after is not None:  # a limit reached (429): when to try again
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


async def upload_refused_handler(request: Request, exc: Exception) -> Response:
    """A file refused before anything was stored (too large, wrong type, antivirus)."""
    from gateway.requests.attachments import UploadRefused

    assert isinstance(exc, UploadRefused)
    if wants_problem(request.scope):
        locale = choose_locale(request)
        title = MESSAGES.get(exc.status, MESSAGES[400])[0](locale)
        return problem(exc.status, title, exc.reason(locale), type_="urn:guichet:problem:upload-refused")
    return error_response(request, exc.status, detail=exc.reason)
