"""Pages of local citizen accounts: create, confirm the address, sign in, forgotten password.

Registered by the default plugin :mod:`gateway.builtin.account_pages`. The logic is in
:mod:`gateway.identity.local_accounts`; these handlers read the forms, run it
in one transaction each, and answer. Every form carries the CSRF token. Links
from e-mails open a page with a button: following a link (which mail scanners
do on their own) never changes anything; the POST does.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.identity import local_accounts
from gateway.identity.access import principal_of, require_citizen
from gateway.identity.cookies import set_session_cookie
from gateway.identity.local_accounts import AccountProblem
from gateway.identity.sessions import open_session, revoke
from gateway.requests.attachments import content_disposition
from gateway.requests.personal_data import PersonalArchive, export_personal_data
from gateway.services import FieldError, Localized
from gateway.web.callers import caller_of
from gateway.web.form_bodies import text_form
from gateway.web.i18n import choose_locale
from gateway.web.lookups import client_address, next_path, registry_of, request_origin
from gateway.web.templating import render

BAD_CREDENTIALS = Localized("Adresse électronique ou mot de passe incorrect.", "Wrong e-mail address or password.")
UNVERIFIED = Localized(
    "Votre adresse électronique n'est pas encore confirmée : ouvrez le lien du message que nous vous avons "
    "envoyé. Vous ne le trouvez plus ? Demandez un nouveau lien ci-dessous.",
    "Your e-mail address is not confirmed yet: open the link in the message we sent you. "
    "Cannot find it? Ask for a new link below.",
)
MISMATCH = Localized("Les deux mots de passe ne sont pas identiques.", "The two passwords are not the same.")
MISSING_PASSWORD = Localized("Saisissez un mot de passe.", "Enter a password.")


def _form_text(form: Any, name: str, limit: int = 300) -> str:
    return str(form.get(name, ""))[:limit]


def _sent(request: Request, kind: str, email: str) -> Response:
    return render(request, "account_sent.html", {"kind": kind, "email": email})


# Create an account ------------------------------------------------------------------------------


async def create_account(request: Request) -> Response:
    context: dict[str, Any] = {"errors": [], "field_errors": {}, "email": ""}
    if request.method == "GET":
        return render(request, "account_create.html", context)
    form = await text_form(request)
    email = _form_text(form, "email")
    password = _form_text(form, "password", 1000)
    errors = []
    try:
        email = local_accounts.normalized_email(email)
    except AccountProblem as problem:
        errors.append(FieldError(problem.field, problem.message))
    try:
        local_accounts.check_new_password(password)
    except AccountProblem as problem:
        errors.append(FieldError(problem.field, problem.message))
    else:
        if password != _form_text(form, "password_confirmation", 1000):
            errors.append(FieldError("password_confirmation", MISMATCH))
    if errors:
        context.update(errors=errors, field_errors={error.field: error.message for error in errors}, email=email)
        return render(request, "account_create.html", context, status_code=422)
    settings = registry_of(request).settings
    locale = choose_locale(request)

    def work() -> None:
        with request.app.state.db.session() as session:
            local_accounts.register(session, email, password, locale=locale, settings=settings,
                                    origin=request_origin(request))  # fmt: skip

    await request.app.state.db.run_racing(work)
    return _sent(request, "created", email)


# Confirm the address ----------------------------------------------------------------------------


async def verification(request: Request) -> Response:
    settings = registry_of(request).settings
    if request.method == "GET":
        token = request.query_params.get("jeton", "")
        if not local_accounts.verification_is_plausible(settings, token):
            return render(request, "account_verify.html", {"state": "invalid", "token": ""}, status_code=400)
        return render(request, "account_verify.html", {"state": "confirm", "token": token})
    form = await text_form(request)
    token = _form_text(form, "jeton", 600)

    def work() -> bool:
        with request.app.state.db.session() as session:
            citizen = local_accounts.verify_email(session, token, settings=settings, origin=request_origin(request))
            return citizen is not None

    if not await request.app.state.db.run_racing(work):
        return render(request, "account_verify.html", {"state": "invalid", "token": ""}, status_code=400)
    return render(request, "account_verify.html", {"state": "done", "token": ""})


async def resend_verification(request: Request) -> Response:
    form = await text_form(request)
    email = _form_text(form, "email")
    settings = registry_of(request).settings

    def work() -> None:
        with request.app.state.db.session() as session:
            local_accounts.resend_verification(session, email, settings=settings, origin=request_origin(request))

    await request.app.state.db.run_racing(work)
    return _sent(request, "resend", email.strip()[:254])


# Sign in ----------------------------------------------------------------------------------------


async def sign_in(request: Request) -> Response:
    context: dict[str, Any] = {"error": None, "email": "", "unverified": False, "suite": next_path(request, "")}
    if request.method == "GET":
        return render(request, "account_login.html", context)
    form = await text_form(request)
    email, password = _form_text(form, "email"), _form_text(form, "password", 1000)
    settings = registry_of(request).settings
    previous = principal_of(request)
    locale = choose_locale(request)

    def attempt() -> tuple[str | None, Localized | None, int]:
        with request.app.state.db.session() as session:
            result = local_accounts.sign_in(session, email, password, address=client_address(request),
                                            origin=request_origin(request), settings=settings,
                                            locale=locale)  # fmt: skip
            if result.locked is not None:
                return None, result.locked.message(), 429
            if result.unverified:
                return None, UNVERIFIED, 403
            if result.citizen is None:
                return None, BAD_CREDENTIALS, 401
            assert result.citizen.id is not None
            if previous is not None:  # whoever was signed in on this browser is not any more
                revoke(session, previous.session_hash)
            return open_session(session, "citizen", result.citizen.id), None, 303

    session_id, error, status = await request.app.state.db.run(attempt)
    if session_id is None:
        context.update(error=error, email=email.strip()[:254], unverified=status == 403)
        return render(request, "account_login.html", context, status_code=status)
    response = RedirectResponse(next_path(request), status_code=303)
    set_session_cookie(response, settings, session_id)
    return response


# Forgotten password -----------------------------------------------------------------------------


async def forgot_password(request: Request) -> Response:
    context: dict[str, Any] = {"errors": [], "field_errors": {}, "email": ""}
    if request.method == "GET":
        return render(request, "account_forgot.html", context)
    form = await text_form(request)
    email = _form_text(form, "email")
    try:
        email = local_accounts.normalized_email(email)
    except AccountProblem as problem:
        error = FieldError(problem.field, problem.message)
        context.update(errors=[error], field_errors={error.field: error.message}, email=email)
        return render(request, "account_forgot.html", context, status_code=422)
    settings = registry_of(request).settings

    def work() -> None:
        with request.app.state.db.session() as session:
            local_accounts.request_password_reset(session, email, settings=settings, origin=request_origin(request))

    await request.app.state.db.run_racing(work)
    return _sent(request, "reset", email)


async def new_password(request: Request) -> Response:
    settings = registry_of(request).settings
    db = request.app.state.db
    invalid = {"state": "invalid", "token": "", "errors": [], "field_errors": {}}
    if request.method == "GET":
        token = request.query_params.get("jeton", "")

        def check() -> bool:
            with db.session() as session:
                return local_accounts.account_for_reset(session, settings, token) is not None

        if not await db.run(check):
            return render(request, "account_reset.html", invalid, status_code=400)
        return render(request, "account_reset.html", {"state": "form", "token": token, "errors": [],
                                                      "field_errors": {}})  # fmt: skip
    form = await text_form(request)
    token = _form_text(form, "jeton", 600)
    password = _form_text(form, "password", 1000)
    errors = []
    if not password:
        errors.append(FieldError("password", MISSING_PASSWORD))
    elif password != _form_text(form, "password_confirmation", 1000):
        errors.append(FieldError("password_confirmation", MISMATCH))

    def work() -> bool | AccountProblem:
        try:
            with db.session() as session:
                result = local_accounts.reset_password(session, token, password, settings=settings,
                                                       origin=request_origin(request))  # fmt: skip
                return result.ok
        except AccountProblem as problem:  # raised before anything was written; the transaction is rolled back
            return problem

    outcome = await request.app.state.db.run_racing(work) if not errors else None
    if isinstance(outcome, AccountProblem):
        errors.append(FieldError(outcome.field, outcome.message))
    if errors:
        context = {"state": "form", "token": token, "errors": errors,
                   "field_errors": {error.field: error.message for error in errors}}  # fmt: skip
        return render(request, "account_reset.html", context, status_code=422)
    if outcome is not True:
        return render(request, "account_reset.html", invalid, status_code=400)
    return render(request, "account_reset.html", {**invalid, "state": "done"})


# Download everything held about oneself ---------------------------------------------------------


async def personal_data(request: Request) -> Response:
    """What the archive holds, and the button that builds it (a POST: the download is audited)."""
    principal = require_citizen(request)
    return render(request, "account_data.html", {"principal": principal})


async def personal_data_archive(request: Request) -> Response:
    require_citizen(request)
    caller = await caller_of(request)
    registry = registry_of(request)
    db = request.app.state.db
    archive: PersonalArchive = await db.run(lambda: export_personal_data(db, registry, caller))
    headers = {"Content-Disposition": content_disposition(archive.filename), "Cache-Control": "no-store"}
    return Response(archive.content, media_type="application/zip", headers=headers)


def routes() -> list[BaseRoute]:
    return [
        Route("/compte/creer", create_account, methods=["GET", "POST"], name="account_create"),
        Route("/compte/verification", verification, methods=["GET", "POST"], name="account_verify"),
        Route("/compte/verification/renvoyer", resend_verification, methods=["POST"], name="account_resend"),
        Route("/compte/connexion", sign_in, methods=["GET", "POST"], name="account_login"),
        Route("/compte/mot-de-passe-oublie", forgot_password, methods=["GET", "POST"], name="account_forgot"),
        Route("/compte/nouveau-mot-de-passe", new_password, methods=["GET", "POST"], name="account_reset"),
        Route("/mon-compte/donnees", personal_data, name="personal_data"),
        Route("/mon-compte/donnees/archive", personal_data_archive, methods=["POST"], name="personal_data_archive"),
    ]
