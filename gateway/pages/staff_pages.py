"""Staff sign-in (password, then a TOTP code), the staff home page, API tokens.

Registered by the default plugin :mod:`gateway.builtin.staff_pages`. Every page POST carries the CSRF token; a
new session id is issued after the password and again after the code.
Signing in through a commune's own identity provider, and signing out, are
in :mod:`gateway.pages.oidc_pages`.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.audit.builders import account_event
from gateway.audit.log import record
from gateway.identity import staff as staff_accounts
from gateway.identity import totp
from gateway.identity.access import principal_of, require_recent_authentication, require_staff_session
from gateway.identity.cookies import set_session_cookie
from gateway.identity.principal import Principal
from gateway.identity.providers import provider_registry, staff_sign_in_choices, syndicate_staff_sign_in
from gateway.identity.sessions import mark_reauthenticated, open_session, rotate
from gateway.identity.tokens import create_token
from gateway.models import ApiToken, StaffUser
from gateway.requests.backoffice.queries import BackOfficeQueries
from gateway.services import Localized
from gateway.settings import Settings
from gateway.web.callers import caller_of
from gateway.web.form_bodies import text_form
from gateway.web.grant_words import grant_words
from gateway.web.lookups import client_address, database_of, next_path, registry_of, request_origin
from gateway.web.numbers import bounds, integer_in
from gateway.web.templating import render

STAFF_HOME = "/agents"
BAD_CREDENTIALS = Localized("Identifiant ou mot de passe incorrect.", "Wrong username or password.")
BAD_CODE = Localized("Ce code n'est pas valable. Saisissez le code à 6 chiffres affiché par votre application.",
                     "This code is not valid. Enter the 6-digit code your app shows.")  # fmt: skip
#: an API token lives at most a year (``gateway.identity.tokens.MAX_LIFETIME``)
TOKEN_DAYS_MAX = 365
BAD_TOKEN_REQUEST = Localized("Donnez un nom au jeton et choisissez au moins un rôle.",
                              "Name the token and choose at least one role.")  # fmt: skip


async def login(request: Request) -> Response:
    settings = registry_of(request).settings
    choices = staff_sign_in_choices(settings)  # communes with their own provider
    syndicate = syndicate_staff_sign_in(settings)
    if request.method == "GET":
        context = {"error": None, "username": "", "staff_providers": choices, "syndicate_provider": syndicate}
        return render(request, "staff_login.html", context)
    form = await text_form(request)
    username, password = str(form.get("username", "")), str(form.get("password", ""))
    db = request.app.state.db

    def attempt() -> tuple[str | None, Localized | None]:
        with db.session() as session:
            result = staff_accounts.sign_in(session, username, password, address=client_address(request),
                                            origin=request_origin(request))  # fmt: skip
            if not result.ok:
                return None, result.locked.message() if result.locked else BAD_CREDENTIALS
            assert result.staff is not None and result.staff.id is not None
            return open_session(session, "staff", result.staff.id, mfa_pending=True), None

    session_id, error = await db.run(attempt)
    if session_id is None:
        context = {"error": error, "username": username, "staff_providers": choices, "syndicate_provider": syndicate}
        return render(request, "staff_login.html", context, status_code=429 if error is not BAD_CREDENTIALS else 401)
    response = RedirectResponse(f"/agents/connexion/code?suite={next_path(request, '/agents')}", status_code=303)
    set_session_cookie(response, registry_of(request).settings, session_id)
    return response


async def second_factor(request: Request) -> Response:
    principal = principal_of(request)
    if principal is None or principal.kind != "staff" or not principal.mfa_pending:
        return RedirectResponse("/agents/connexion", status_code=303)
    settings = registry_of(request).settings
    db = request.app.state.db

    def enrolment() -> tuple[str | None, str | None]:
        with db.session() as session:
            staff = session.get(StaffUser, principal.user_id)
            assert staff is not None
            if staff.totp_enrolled_at is not None:
                return None, None
            seed = (
                totp.open_seed(settings.secret_key, staff.totp_secret)
                if staff.totp_secret
                else staff_accounts.start_enrolment(session, staff, settings.secret_key)
            )
            return seed, totp.provisioning_uri(seed, staff.username, settings.gateway.name[:60])

    seed, uri = await db.run(enrolment)
    context = {"error": None, "seed": seed, "uri": uri, "suite": next_path(request, STAFF_HOME)}
    if request.method == "GET":
        return render(request, "staff_code.html", context)
    form = await text_form(request)

    def check() -> tuple[str | None, Localized | None]:
        with db.session() as session:
            result = staff_accounts.check_second_factor(session, principal, str(form.get("code", "")),
                                                        settings.secret_key, address=client_address(request),
                                                        origin=request_origin(request))  # fmt: skip
            if not result.ok:
                return None, result.locked.message() if result.locked else BAD_CODE
            return rotate(session, principal, mfa_passed=True), None

    session_id, error = await db.run(check)
    if session_id is None:
        return render(request, "staff_code.html", {**context, "error": error}, status_code=401)
    response = RedirectResponse(next_path(request, STAFF_HOME), status_code=303)
    set_session_cookie(response, settings, session_id)
    return response


async def staff_home(request: Request) -> Response:
    """Who the staff member is, in words, and how many requests wait in each commune whose queue they read."""
    principal = require_staff_session(request)
    is_auditor = any(grant.role in ("auditor", "administrator") for grant in principal.grants)
    registry, caller = registry_of(request), await caller_of(request)
    queries = BackOfficeQueries(database_of(request), registry)
    readable = [
        commune
        for commune in sorted(registry.communes.values(), key=lambda commune: commune.name)
        if queries.services_for(principal, commune)
    ]
    queues = await database_of(request).run(lambda: [(c, queries.counts(caller, c.slug)) for c in readable])
    roles = [grant_words(grant, registry, caller.locale) for grant in principal.grants]
    is_admin = any(grant.role == "administrator" for grant in principal.grants)
    context = {"principal": principal, "is_auditor": is_auditor, "is_admin": is_admin, "roles": roles,
               "queues": queues}  # fmt: skip
    return render(request, "staff_home.html", context)


def _reauth_provider(settings: Settings, principal: Principal) -> str | None:
    """The name of the provider a federated agent signed in through (they confirm with it), or None: a local account."""
    provider = provider_registry(settings).get(principal.provider) if principal.provider else None
    return provider.display_name if provider is not None and provider.purpose == "staff" else None


async def reauthenticate(request: Request) -> Response:
    """Confirm one's identity: password and code for a local account; the provider again for a federated one."""
    principal = require_staff_session(request)
    settings = registry_of(request).settings
    provider = _reauth_provider(settings, principal)
    if request.method == "GET":
        context = {"error": None, "suite": next_path(request, STAFF_HOME), "provider": provider}
        return render(request, "staff_reauth.html", context)
    form = await text_form(request)
    db = request.app.state.db

    def check() -> Localized | None:
        with db.session() as session:
            typed = str(form.get("password", ""))
            password = staff_accounts.sign_in(session, principal.handle, typed, address=client_address(request),
                                              origin=request_origin(request))  # fmt: skip
            if not password.ok:
                return password.locked.message() if password.locked else BAD_CREDENTIALS
            result = staff_accounts.check_second_factor(session, principal, str(form.get("code", "")),
                                                        settings.secret_key, address=client_address(request),
                                                        origin=request_origin(request))  # fmt: skip
            if not result.ok:
                return result.locked.message() if result.locked else BAD_CODE
            mark_reauthenticated(session, principal)
            return None

    error = await db.run(check)
    if error is not None:
        return render(
            request,
            "staff_reauth.html",
            {"error": error, "suite": next_path(request, STAFF_HOME), "provider": None},
            status_code=401,
        )
    return RedirectResponse(next_path(request, STAFF_HOME), status_code=303)


async def api_tokens(request: Request) -> Response:
    principal = require_staff_session(request)
    db = request.app.state.db
    created = None
    error = None
    if request.method == "POST":
        require_recent_authentication(principal)
        form = await text_form(request)
        name = str(form.get("name", "")).strip()
        scopes = [str(scope) for scope in form.getlist("scopes")]
        days = integer_in(str(form.get("days", "30")), 1, TOKEN_DAYS_MAX)
        lifetime = timedelta(days=days or 0)  # used only when days is not None (below)

        def make() -> str | None:
            with db.session() as session:
                staff = session.get(StaffUser, principal.user_id)
                assert staff is not None
                try:
                    row, secret = create_token(session, staff, name=name, scopes=scopes, lifetime=lifetime)
                except ValueError:
                    return None
                record(session, account_event("token.create", principal.actor(), resource=f"api-token/{row.id}",
                                              purpose="jeton d'accès à l'API pour une intégration",
                                              origin=request_origin(request)))  # fmt: skip
                return secret

        created = await db.run(make) if name and days is not None else None
        error = None if created else BAD_TOKEN_REQUEST if days is not None else bounds("days", 1, TOKEN_DAYS_MAX)

    def listing() -> list[ApiToken]:
        with db.session() as session:
            return list(session.exec(select(ApiToken).where(ApiToken.staff_id == principal.user_id)))

    tokens = await db.run(listing)
    roles = sorted({grant.role for grant in principal.grants})
    context = {"tokens": tokens, "created": created, "error": error, "roles": roles}
    return render(request, "staff_tokens.html", context, status_code=422 if error else 200)


def routes() -> list[BaseRoute]:
    return [
        Route("/agents", staff_home, name="staff_home"),
        Route("/agents/connexion", login, methods=["GET", "POST"], name="staff_login"),
        Route("/agents/connexion/code", second_factor, methods=["GET", "POST"], name="staff_code"),
        Route("/agents/reauthentification", reauthenticate, methods=["GET", "POST"], name="staff_reauth"),
        Route("/agents/jetons", api_tokens, methods=["GET", "POST"], name="staff_tokens"),
    ]
