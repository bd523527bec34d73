"""The provider's endpoints under ``/demo-idp/api/v2``, FranceConnect's layout.

Each endpoint reads the Starlette request, hands it to a provider built for
this request (see :mod:`.server`) and answers. The authorisation page carries
the client's parameters in hidden fields, so choosing a person needs no
server-side session: the POST is validated again from scratch. Having no
session of its own, the provider asks every time: ``prompt=login`` and
``max_age`` are always honoured (the page then says the service asks to
confirm one's identity), and the ID token's ``auth_time`` is the moment the
person was chosen.
"""

from __future__ import annotations

from collections.abc import Sequence

from authlib.oauth2.rfc6749 import OAuth2Error
from babel.dates import format_date
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.demo.identity_provider import discovery
from gateway.demo.identity_provider.adapter import StarletteOAuth2Request, oauth2_request, read_parameters
from gateway.demo.identity_provider.clients import ISSUER_PATH, DemoClient, gateway_client, issuer_url, staff_clients
from gateway.demo.identity_provider.config import ProviderConfig
from gateway.demo.identity_provider.keys import public_jwks, signing_key
from gateway.demo.identity_provider.people import CLAIMS, SYNDICATE, Person, StaffPerson, directory, person_in
from gateway.demo.identity_provider.server import DemoProvider
from gateway.demo.identity_provider.tokens import Signer
from gateway.identity.claims import SCOPE_CLAIMS
from gateway.services import Localized
from gateway.settings import Settings
from gateway.web.csrf import BackChannelRoute
from gateway.web.errors import PageError
from gateway.web.i18n import choose_locale
from gateway.web.templating import render

#: the authorization parameters carried from the page to its POST (anything else is dropped)
CARRIED = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "acr_values",
    "prompt",
    "max_age",
    "code_challenge",
    "code_challenge_method",
)
PAGE_FIELDS = ("csrftoken", "person", "cancel")
PUBLIC_CACHE = {"Cache-Control": "public, max-age=300"}

REFUSED = Localized("Demande de connexion refusée", "Sign-in request refused")
MALFORMED = Localized(
    "La demande de connexion contient des caractères non admis. Retournez sur le service et réessayez.",
    "The sign-in request holds characters that are not allowed. Go back to the service and try again.",
)
NO_PERSON = Localized(
    "Choisissez l'une des personnes fictives proposées, ou annulez.", "Choose one of the fictitious people, or cancel."
)


def _explained(error: OAuth2Error) -> Localized:
    technical = f"{error.error}: {error.get_error_description() or '-'}"
    return Localized(
        "Le service qui vous a envoyé ici a fait une demande de connexion que le fournisseur d'identité de "
        f"démonstration ne peut pas accepter. Retournez sur ce service et réessayez. (Détail technique : {technical})",
        "The service that sent you here made a sign-in request the demo identity provider cannot accept. "
        f"Go back to that service and try again. (Technical detail: {technical})",
    )


class Endpoints:
    """The route handlers, sharing one immutable configuration."""

    def __init__(self, config: ProviderConfig, base_url: str) -> None:
        self.config = config
        self.base_url = base_url

    def provider(self, request: Request) -> DemoProvider:
        return DemoProvider(self.config, request.app.state.db)

    async def oauth2_request(self, request: Request) -> StarletteOAuth2Request:
        return oauth2_request(request, self.base_url, await read_parameters(request))

    async def metadata(self, request: Request) -> Response:
        return JSONResponse(discovery.provider_metadata(self.config.issuer), headers=PUBLIC_CACHE)

    async def jwks(self, request: Request) -> Response:
        return JSONResponse(public_jwks(self.config.signer.key), headers=PUBLIC_CACHE)

    async def authorize(self, request: Request) -> Response:
        provider = self.provider(request)
        parameters = await read_parameters(request)
        page = dict(pair for pair in parameters if pair[0] in PAGE_FIELDS)
        oauth_request = oauth2_request(request, self.base_url, [p for p in parameters if p[0] not in PAGE_FIELDS])
        cancelled = request.method == "POST" and "cancel" in page
        # only someone of the client's own directory (residents, or one commune's staff); an unknown client fails below
        known = self.config.clients.get(oauth_request.payload.client_id or "")
        commune = known.commune if known is not None else None
        person = person_in(commune, page.get("person")) if request.method == "POST" and known is not None else None
        try:
            grant = provider.get_consent_grant(oauth_request, end_user=person)
        except OAuth2Error as error:
            if error.redirect_uri:  # client and redirect_uri are good: the client hears of it (RFC 6749 §4.1.2.1)
                return _see_other(provider.handle_error_response(oauth_request, error))
            raise PageError(400, _explained(error), title=REFUSED) from None
        except ValueError:  # authlib refuses to quote some characters of a bad parameter in its error text
            raise PageError(400, MALFORMED, title=REFUSED) from None
        if request.method != "POST":
            return self._chooser(request, oauth_request, grant.client)
        if person is None and not cancelled:
            raise PageError(400, NO_PERSON)
        db = request.app.state.db
        response: Response = await db.run(
            lambda: provider.create_authorization_response(
                oauth_request, grant_user=None if cancelled else person, grant=grant
            )
        )
        return _see_other(response)

    def _chooser(self, request: Request, oauth_request: StarletteOAuth2Request, client: DemoClient) -> Response:
        locale = choose_locale(request)
        data = oauth_request.payload.data
        scopes = oauth_request.scope.split()  # filtered by the client's allowed scopes during validation
        released = {claim for scope in scopes for claim in SCOPE_CLAIMS.get(scope, ())}
        people = [_card(person, locale) for person in directory(client.commune)]
        context = {
            "client_name": client.name or client.client_id,
            "staff_of": client.commune_name if client.commune is not None else None,
            "syndicate": client.commune == SYNDICATE,
            # the demo keeps no session of its own: every request asks again; this one says why
            "again": "login" in (data.get("prompt") or "").split() or data.get("max_age") is not None,
            "hidden": [(name, data[name]) for name in CARRIED if name in data],
            "people": people,
            "released": [claim for claim in CLAIMS if claim in released],
            "action": ISSUER_PATH + discovery.AUTHORIZE,
            # switching language comes back to this very request, not to a bare /authorize
            "current_path": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        }
        return render(request, "demo_idp/authorize.html", context)

    async def token(self, request: Request) -> Response:
        provider = self.provider(request)
        oauth_request = await self.oauth2_request(request)
        response: Response = await request.app.state.db.run(provider.create_token_response, oauth_request)
        return response

    async def userinfo(self, request: Request) -> Response:
        provider = self.provider(request)
        oauth_request = await self.oauth2_request(request)
        response: Response = await request.app.state.db.run(provider.userinfo_response, oauth_request)
        return response

    async def end_session(self, request: Request) -> Response:
        provider = self.provider(request)
        oauth_request = await self.oauth2_request(request)
        try:
            validated = provider.validate_endpoint_request("end_session", oauth_request)
        except OAuth2Error as error:
            raise PageError(400, _logout_refused(error.get_error_description()), title=LOGOUT_REFUSED) from None
        if validated.id_token_claims is None:
            raise PageError(400, _logout_refused("'id_token_hint' is required."), title=LOGOUT_REFUSED)
        if validated.redirect_uri is None:
            reason = "'post_logout_redirect_uri' is missing or not registered for this client."
            raise PageError(400, _logout_refused(reason), title=LOGOUT_REFUSED)
        response: Response = provider.create_endpoint_response("end_session", validated)
        return response


def _card(person: Person | StaffPerson, locale: str) -> dict[str, object]:
    """What the chooser shows of a person: a resident's birth, or a staff member's role."""
    if isinstance(person, StaffPerson):
        return {"person": person, "role": f"syndicate-{person.role}" if person.of_syndicate else person.role}
    return {"person": person, "born_on": format_date(person.born_on, "d MMMM y", locale=locale)}


LOGOUT_REFUSED = Localized("Déconnexion impossible", "Cannot sign out")


def _logout_refused(technical: str) -> Localized:
    return Localized(
        "Le service qui vous a envoyé ici a demandé une déconnexion que le fournisseur d'identité de démonstration "
        f"ne peut pas accepter. Fermez votre navigateur pour terminer votre session. (Détail technique : {technical})",
        "The service that sent you here asked for a sign-out the demo identity provider cannot accept. "
        f"Close your browser to end your session. (Technical detail: {technical})",
    )


def _see_other(response: Response) -> Response:
    """Answer a form POST's redirect with 303, so the browser follows it with a GET."""
    if response.status_code == 302:
        response.status_code = 303
    return response


def demo_provider_routes(settings: Settings, *, clients: Sequence[DemoClient] | None = None) -> list[BaseRoute]:
    """The provider's routes; ``clients`` defaults to the gateway (residents, and each demo staff directory).

    Creates the signing key under the data folder on first use.
    """
    issuer = issuer_url(settings)
    registered = list(clients) if clients is not None else [gateway_client(settings), *staff_clients(settings)]
    config = ProviderConfig(
        issuer=issuer,
        signer=Signer(issuer, signing_key(settings.data_dir)),
        clients={client.client_id: client for client in registered},
        secret_key=settings.secret_key,
    )
    endpoints = Endpoints(config, settings.gateway.public_base_url)
    return [
        Route(ISSUER_PATH + discovery.DISCOVERY, endpoints.metadata, name="demo_idp_metadata"),
        Route(
            ISSUER_PATH + discovery.AUTHORIZE, endpoints.authorize, methods=["GET", "POST"], name="demo_idp_authorize"
        ),
        BackChannelRoute(ISSUER_PATH + discovery.TOKEN, endpoints.token, methods=["POST"], name="demo_idp_token"),
        Route(ISSUER_PATH + discovery.USERINFO, endpoints.userinfo, methods=["GET", "POST"], name="demo_idp_userinfo"),
        Route(ISSUER_PATH + discovery.JWKS, endpoints.jwks, name="demo_idp_jwks"),
        Route(ISSUER_PATH + discovery.END_SESSION, endpoints.end_session, name="demo_idp_end_session"),
    ]
