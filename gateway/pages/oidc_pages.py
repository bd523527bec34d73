"""Sign-in with OpenID Connect (FranceConnect, a commune's own provider, the demo) and sign-out, as pages.

Registered by the default plugin :mod:`gateway.builtin.oidc_pages`. ``/connexion`` is the residents' sign-in hub:
one button per provider, and the local-account pages. A button is a form
``POST`` (CSRF token checked) that starts a flow and redirects to the
provider; the provider sends the browser back to ``/connexion/retour``, the
one callback of every flow, residents' and staff's alike. ``POST
/deconnexion`` ends any session, and sends a person who came through a
provider to the provider's end-session endpoint, which returns to
``/deconnexion/retour``. An agent who signed in through a provider and must
confirm their identity before a sensitive act starts a flow at ``POST
/agents/reauthentification/fournisseur``; the same callback then refreshes
their session instead of opening one. The checks themselves are in
:mod:`gateway.identity.oidc`, the accounts in :mod:`gateway.identity.federation`.
"""

from __future__ import annotations

import secrets
from urllib.parse import quote

from sqlalchemy.exc import IntegrityError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.audit.builders import sign_out
from gateway.audit.events import ANONYMOUS
from gateway.audit.log import record
from gateway.identity import federation, spent_states
from gateway.identity.access import principal_of, require_staff_session
from gateway.identity.cookies import clear_session_cookie, set_session_cookie
from gateway.identity.oidc import Identity, LoginFailure, RelyingParty, error_code
from gateway.identity.oidc_flows import (
    FLOW_COOKIE,
    FLOW_COOKIE_PATH,
    FLOW_LIFETIME,
    LOGIN_CALLBACK_PATH,
    LOGOUT_CALLBACK_PATH,
    LOGOUT_COOKIE,
    LOGOUT_COOKIE_PATH,
    Flow,
    LogoutFlow,
    new_flow,
    open_flow,
    open_logout,
    same_secret,
    seal_flow,
    seal_logout,
)
from gateway.identity.providers import Provider, ProviderRegistry, provider_registry
from gateway.identity.reauthentication import check_reauthentication
from gateway.identity.service_claims import claims_for
from gateway.identity.sessions import revoke
from gateway.models import UserSession
from gateway.services import Localized
from gateway.settings import Settings
from gateway.web.errors import PageError
from gateway.web.i18n import choose_locale
from gateway.web.lookups import local_path, registry_of, request_origin
from gateway.web.templating import render

FAILED_TITLE = Localized("La connexion n'a pas abouti", "Signing in did not work")
NO_FLOW = Localized(
    "Cette page de retour ne correspond à aucune connexion commencée dans ce navigateur, ou la connexion a "
    "expiré (elle doit aboutir dans les 10 minutes). Rien n'a été enregistré ; recommencez la connexion.",
    "This return page matches no sign-in started in this browser, or the sign-in expired (it must be "
    "completed within 10 minutes). Nothing was saved; start signing in again.",
)
CANCELLED = Localized(
    "La connexion a été annulée auprès du fournisseur d'identité. Rien n'a été enregistré.",
    "Signing in was cancelled at the identity provider. Nothing was saved.",
)
UNKNOWN_PROVIDER = Localized(
    "Ce fournisseur d'identité n'est pas proposé ici. Choisissez-en un dans la liste.",
    "This identity provider is not offered here. Choose one from the list.",
)
STAFF_REFUSED_TITLE = Localized("Connexion refusée", "Sign-in refused")
REAUTH_REFUSED_TITLE = Localized("Identité non confirmée", "Identity not confirmed")
NOT_FEDERATED = Localized(
    "Vous ne vous êtes pas connecté par un fournisseur d'identité : confirmez votre identité avec votre mot de "
    "passe et votre code.",
    "You did not sign in through an identity provider: confirm who you are with your password and code.",
)
NO_SESSION = Localized(
    "Vous n'êtes plus connecté : votre session a pris fin pendant la confirmation. Rien n'a été modifié ; "
    "connectez-vous à nouveau.",
    "You are no longer signed in: your session ended during the confirmation. Nothing was changed; sign in again.",
)


def _provider_refused(code: str) -> Localized:
    return Localized(
        f"Le fournisseur d'identité a refusé la connexion (code : {code}). Rien n'a été enregistré ; "
        "recommencez, ou choisissez une autre façon de vous connecter.",
        f"The identity provider refused to sign you in (code: {code}). Nothing was saved; "
        "try again, or choose another way to sign in.",
    )


def _set_cookie(response: Response, settings: Settings, name: str, value: str, path: str) -> None:
    response.set_cookie(name, value, max_age=int(FLOW_LIFETIME.total_seconds()), path=path, httponly=True,
                        secure=settings.https, samesite="lax")  # fmt: skip


def _delete_cookie(response: Response, settings: Settings, name: str, path: str) -> None:
    response.delete_cookie(name, path=path, httponly=True, secure=settings.https, samesite="lax")


class SignInPages:
    """The route handlers, sharing the deployment's providers and one relying party (its caches)."""

    def __init__(self, providers: ProviderRegistry, relying_party: RelyingParty) -> None:
        self.providers = providers
        self.rp = relying_party

    # The hub and the start of a flow ------------------------------------------------------------

    async def hub(self, request: Request) -> Response:
        suite = local_path(request.query_params.get("suite"), "")
        context = {"providers": self.providers.citizen, "suite": suite}
        return render(request, "oidc_sign_in.html", context)

    async def start(self, request: Request) -> Response:
        provider = self.providers.get(request.path_params["provider"])
        if provider is None or provider.purpose != "citizen":
            raise PageError(404, UNKNOWN_PROVIDER)
        return await self._start(request, provider, default_next="/")

    async def start_staff(self, request: Request) -> Response:
        provider = self.providers.staff_of(request.path_params["commune"], with_demo=True)
        if provider is None:
            raise PageError(404, UNKNOWN_PROVIDER)
        return await self._start(request, provider, default_next="/agents")

    async def start_syndicate_staff(self, request: Request) -> Response:
        """The syndicate's own staff directory (its auditor and administrator act for every commune)."""
        provider = self.providers.staff_of(None, with_demo=True)
        if provider is None:
            raise PageError(404, UNKNOWN_PROVIDER)
        return await self._start(request, provider, default_next="/agents")

    async def start_reauthentication(self, request: Request) -> Response:
        """A federated agent confirms who they are: their provider is asked to authenticate them again, now.

        Only for a session opened through a staff provider (a local account confirms with password and code,
        :mod:`gateway.pages.staff_pages`); the ``suite`` is kept only when it is a path of this site.
        """
        principal = require_staff_session(request)
        provider = self.providers.get(principal.provider)
        if provider is None or provider.purpose != "staff":
            raise PageError(400, NOT_FEDERATED)
        next_path = local_path(request.query_params.get("suite"), "/agents")
        return await self._redirect(request, provider, new_flow(provider, next_path, reauth=True))

    async def _start(self, request: Request, provider: Provider, *, default_next: str) -> Response:
        registry = registry_of(request)
        next_path = local_path(request.query_params.get("suite"), default_next)
        # a resident is asked for the base claims plus those of the service the sign-in started from, no more
        scopes = provider.scopes_for(claims_for(registry, next_path)) if provider.purpose == "citizen" else ()
        return await self._redirect(request, provider, new_flow(provider, next_path, scopes))

    async def _redirect(self, request: Request, provider: Provider, flow: Flow) -> Response:
        """To the provider's authorization endpoint, the flow sealed in a cookie for the callback."""
        settings = registry_of(request).settings
        try:
            url = await self.rp.authorization_url(
                provider, flow, settings.gateway.public_base_url + LOGIN_CALLBACK_PATH
            )
        except LoginFailure as failure:
            await self._record_failure(request, provider, provider.key, failure.reason)
            return self._failure_page(request, provider, failure.message, failure.reason, failure.status)
        response = RedirectResponse(url, status_code=303)
        _set_cookie(response, settings, FLOW_COOKIE, seal_flow(settings.secret_key, flow), FLOW_COOKIE_PATH)
        return response

    # The callback -------------------------------------------------------------------------------------

    async def callback(self, request: Request) -> Response:
        settings = registry_of(request).settings
        flow = open_flow(settings.secret_key, request.cookies.get(FLOW_COOKIE))
        provider = self.providers.get(flow.provider) if flow is not None else None
        params = request.query_params
        try:
            if flow is None:
                raise LoginFailure("flow-missing" if FLOW_COOKIE not in request.cookies else "flow-invalid", NO_FLOW)
            if not params.get("state"):
                raise LoginFailure("state-missing", NO_FLOW)
            if not same_secret(flow.state, params.get("state")):
                raise LoginFailure("state-mismatch", NO_FLOW)
            if provider is None:
                raise LoginFailure("provider-unknown", UNKNOWN_PROVIDER)
            if not await _spend_state(request, flow.state):
                raise LoginFailure("state-replayed", NO_FLOW)
            await self.rp.check_response_issuer(provider, params.get("iss"))
            if "error" in params:
                code = error_code(params.get("error"))
                message = CANCELLED if code == "access_denied" else _provider_refused(code)
                raise LoginFailure(f"provider-error-{code}", message)
            if not params.get("code"):
                raise LoginFailure("code-missing")
            redirect_uri = settings.gateway.public_base_url + LOGIN_CALLBACK_PATH
            identity = await self.rp.complete(provider, flow, params["code"], redirect_uri)
            if flow.reauth:
                check_reauthentication(identity, flow)
        except LoginFailure as failure:
            await self._record_failure(request, provider, flow.provider if flow else None, failure.reason)
            response = self._failure_page(request, provider, failure.message, failure.reason, failure.status,
                                          flow=flow)  # fmt: skip
            _delete_cookie(response, settings, FLOW_COOKIE, FLOW_COOKIE_PATH)
            return response
        if flow.reauth:
            return await self._reauthenticated(request, provider, flow, identity)
        previous = principal_of(request)
        previous_session = previous.session_hash if previous is not None else None
        origin = request_origin(request)
        db = request.app.state.db
        if provider.purpose == "staff":

            def staff_work() -> federation.SignedIn | federation.StaffRefused:
                with db.session() as session:
                    return federation.sign_in_staff(session, identity, origin=origin, previous_session=previous_session)

            outcome = await request.app.state.db.run_racing(staff_work)
            if isinstance(outcome, federation.StaffRefused):
                response = self._failure_page(request, provider, outcome.message, outcome.reason, 403,
                                              title=STAFF_REFUSED_TITLE)  # fmt: skip
                _delete_cookie(response, settings, FLOW_COOKIE, FLOW_COOKIE_PATH)
                return response
            signed = outcome
        else:

            def citizen_work() -> federation.SignedIn:
                with db.session() as session:
                    return federation.sign_in_citizen(session, identity, secret_key=settings.secret_key,
                                                      origin=origin, previous_session=previous_session)  # fmt: skip

            signed = await request.app.state.db.run_racing(citizen_work)
        default = "/agents" if provider.purpose == "staff" else "/"
        response = RedirectResponse(local_path(flow.next, default), status_code=303)
        set_session_cookie(response, settings, signed.session_id)
        _delete_cookie(response, settings, FLOW_COOKIE, FLOW_COOKIE_PATH)
        return response

    async def _reauthenticated(self, request: Request, provider: Provider, flow: Flow, identity: Identity) -> Response:
        """The provider authenticated someone again: if it is the signed-in agent, their session is fresh again."""
        settings = registry_of(request).settings
        principal = principal_of(request)
        origin = request_origin(request)
        db = request.app.state.db
        outcome: federation.StaffRefused | None
        if principal is not None and principal.kind == "staff" and not principal.mfa_pending:
            staff = principal

            def work() -> federation.StaffRefused | None:
                with db.session() as session:
                    return federation.reauthenticate_staff(session, identity, staff, origin=origin)

            outcome = await db.run(work)
        else:  # the session ended (or another browser's cookie) while at the provider: nothing to refresh
            outcome = federation.StaffRefused("reauthentication-no-session", NO_SESSION)
            await self._record_failure(request, provider, provider.key, outcome.reason)
        response: Response
        if outcome is not None:
            response = self._failure_page(request, provider, outcome.message, outcome.reason, 403,
                                          title=REAUTH_REFUSED_TITLE, flow=flow)  # fmt: skip
        else:
            response = RedirectResponse(local_path(flow.next, "/agents"), status_code=303)
        _delete_cookie(response, settings, FLOW_COOKIE, FLOW_COOKIE_PATH)
        return response

    async def _record_failure(
        self, request: Request, provider: Provider | None, provider_key: str | None, reason: str
    ) -> None:
        staff = provider is not None and provider.purpose == "staff"
        key = provider.commune if staff and provider is not None else provider_key
        origin = request_origin(request)

        def write() -> None:
            with request.app.state.db.session() as session:
                federation.record_failure(session, provider_key=key, reason=reason, origin=origin, staff=staff,
                                          commune=provider.commune if provider is not None else None)  # fmt: skip

        await request.app.state.db.run(write)

    def _failure_page(
        self,
        request: Request,
        provider: Provider | None,
        message: Localized,
        reason: str,
        status: int,
        *,
        title: Localized = FAILED_TITLE,
        flow: Flow | None = None,
    ) -> Response:
        staff = provider is not None and provider.purpose == "staff"
        retry = "/agents/connexion" if staff else "/connexion"
        if flow is not None and flow.reauth:  # back to confirming one's identity, for the same page
            retry = f"/agents/reauthentification?suite={quote(local_path(flow.next, '/agents'))}"
        context = {"title": title, "message": message, "reason": reason, "retry": retry}
        return render(request, "oidc_error.html", context, status_code=status)

    # Sign-out -------------------------------------------------------------------------------------------

    async def sign_out(self, request: Request) -> Response:
        """End the session here; then, for a session opened through a provider, end it at the provider too."""
        principal = principal_of(request)
        settings = registry_of(request).settings
        db = request.app.state.db
        id_token: str | None = None
        provider_key: str | None = None
        if principal is not None:
            origin = request_origin(request)

            def close() -> tuple[str | None, str | None]:
                with db.session() as session:
                    row: UserSession | None = revoke(session, principal.session_hash)
                    hint, key = (row.id_token, row.provider) if row is not None else (None, None)
                    if row is not None and row.id_token is not None:
                        row.id_token = None  # used once, for the provider's logout; not kept longer
                        session.add(row)
                    actor = principal.actor()
                    record(session, sign_out(actor, resource="session", origin=origin))
                    return hint, key

            id_token, provider_key = await db.run(close)
        provider = self.providers.get(provider_key) if id_token else None
        response: Response
        if provider is not None and id_token is not None:
            response = await self._provider_logout(request, settings, provider, id_token)
        else:
            response = RedirectResponse("/", status_code=303)
        clear_session_cookie(response, settings)
        response.headers["Content-Language"] = choose_locale(request)
        return response

    async def _provider_logout(
        self, request: Request, settings: Settings, provider: Provider, id_token: str
    ) -> Response:
        state = secrets.token_urlsafe(32)
        return_to = settings.gateway.public_base_url + LOGOUT_CALLBACK_PATH
        try:
            url = await self.rp.end_session_url(provider, id_token, state, return_to)
        except LoginFailure:  # signed out here all the same; the person is told how to finish
            context = {"state": "unreachable", "provider": provider, "continue_to": provider.post_logout_redirect}
            return render(request, "oidc_signed_out.html", context)
        response = RedirectResponse(url, status_code=303)
        sealed = seal_logout(settings.secret_key, LogoutFlow(provider.key, state))
        _set_cookie(response, settings, LOGOUT_COOKIE, sealed, LOGOUT_COOKIE_PATH)
        return response

    async def signed_out(self, request: Request) -> Response:
        """The provider sends the browser back here after its logout: check the state, say it is done."""
        settings = registry_of(request).settings
        flow = open_logout(settings.secret_key, request.cookies.get(LOGOUT_COOKIE))
        state = request.query_params.get("state")
        provider = self.providers.get(flow.provider) if flow is not None else None
        if flow is None or not same_secret(flow.state, state):
            reason = "state-mismatch" if flow is not None and state else "state-missing"
            key = flow.provider if flow is not None else None
            origin = request_origin(request)

            def write() -> None:
                with request.app.state.db.session() as session:
                    record(session, sign_out(ANONYMOUS, resource=f"oidc-logout/{key or '-'}/{reason}", origin=origin,
                                             outcome="failure"))  # fmt: skip

            await request.app.state.db.run(write)
            response = render(request, "oidc_signed_out.html", {"state": "unconfirmed", "provider": provider,
                                                                "continue_to": "/"}, status_code=400)  # fmt: skip
        else:
            continue_to = provider.post_logout_redirect if provider is not None else "/"
            response = render(request, "oidc_signed_out.html", {"state": "done", "provider": provider,
                                                                "continue_to": continue_to})  # fmt: skip
        _delete_cookie(response, settings, LOGOUT_COOKIE, LOGOUT_COOKIE_PATH)
        return response


async def _spend_state(request: Request, state: str) -> bool:
    """Whether this is the first time the flow's state comes back (a replay is refused before the provider is asked)."""
    db = request.app.state.db

    def work() -> bool:
        with db.session() as session:
            return spent_states.spend(session, state, keep_for=FLOW_LIFETIME)

    try:
        first: bool = await db.run(work)
    except IntegrityError:  # the same callback, twice at once: the other copy spent it
        return False
    return first


def routes(settings: Settings) -> list[BaseRoute]:
    pages = SignInPages(provider_registry(settings), RelyingParty())
    routes: list[BaseRoute] = [
        Route("/connexion", pages.hub, name="sign_in"),
        Route(LOGIN_CALLBACK_PATH, pages.callback, name="oidc_callback"),
        Route("/connexion/{provider}", pages.start, methods=["POST"], name="oidc_start"),
        Route("/agents/connexion/commune/{commune}", pages.start_staff, methods=["POST"], name="staff_oidc_start"),
        Route("/agents/connexion/syndicat", pages.start_syndicate_staff, methods=["POST"], name="staff_oidc_syndicat"),
        Route(
            "/agents/reauthentification/fournisseur",
            pages.start_reauthentication,
            methods=["POST"],
            name="staff_oidc_reauth",
        ),
        Route("/deconnexion", pages.sign_out, methods=["POST"], name="sign_out"),
        Route(LOGOUT_CALLBACK_PATH, pages.signed_out, name="signed_out"),
    ]
    return routes
