"""The API answers as its OpenAPI document says, for anonymous callers, citizens, agents and auditors.

schemathesis loads the app's own ``/openapi.json`` and sends generated
requests to the ASGI app in-process, once per caller: valid ones, invalid
ones, and methods the document does not list. Every answer must be what the
document promises: no server error, a documented status code, content type,
headers and body. The number of cases is bounded and the generation is
deterministic, so a failure seen in CI is seen again on a laptop. Every
operation of the document is exercised for every caller; none is excluded.
See docs/api_conformance.md.
"""

from __future__ import annotations

import asyncio
import atexit
import tempfile
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import schemathesis
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.identity import staff as staff_accounts
from gateway.identity.sessions import COOKIE
from gateway.identity.tokens import create_token
from gateway.testing import STAFF_PASSWORD, ConfigFolder, GuichetClient, migrate, sign_in_citizen

#: cases generated per operation and phase; the coverage phase adds its own (each parameter at its bounds,
#: missing, of the wrong type; each undocumented method): about 43 cases per operation and caller in all
MAX_EXAMPLES = 10
SEED = 15


def _staff_token(app: Starlette, username: str, grant: str) -> str:
    """A staff account holding ``grant`` and a personal API token for that role, as an integration would use."""
    with app.state.db.session() as session:
        staff = staff_accounts.create(
            session,
            username=username,
            display_name=username.replace(".", " ").title(),
            email=f"{username}@guichet.example",
            password=STAFF_PASSWORD,
            grants=[staff_accounts.parse_grant(grant)],
        )
        role = grant.split(":")[0]
        _row, token = create_token(session, staff, name="conformance", scopes=[role], lifetime=timedelta(days=1))
        return token


def _citizen_credentials(app: Starlette) -> Credentials:
    """A signed-in citizen's session cookie and the CSRF header a same-origin script sends with it."""

    async def sign_in() -> Credentials:
        async with GuichetClient(app) as client:
            sign_in_citizen(client, email="camille@example.org")
            token = await client.csrf_token("/corbas/contact")
            return Credentials(cookies={COOKIE: client.cookies[COOKIE]}, headers={"x-csrftoken": token})

    return asyncio.run(sign_in())


@dataclass(frozen=True)
class Credentials:
    cookies: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


def _app_under_test() -> tuple[Starlette, dict[str, Credentials]]:
    """The app on a migrated SQLite database, and the credentials of a citizen, an agent and an auditor.

    Built when the module is collected, not in a fixture: schemathesis builds
    its coverage cases (credentials included) while it collects the tests.
    The folder goes when the process ends.
    """
    folder = tempfile.TemporaryDirectory(prefix="guichet-conformance-")
    atexit.register(folder.cleanup)
    root = Path(folder.name)
    config = ConfigFolder.demo(root)
    url = f"sqlite:///{root / 'guichet.db'}"
    migrate(url)
    config.set_gateway(database={"url": url})
    application = create_app(config.path)
    atexit.register(application.state.db.dispose)
    credentials = {"citizen": _citizen_credentials(application)}
    for caller, username, grant in (("agent", "alix.agent", "agent:corbas:contact"),
                                    ("auditor", "aude.auditrice", "auditor:corbas")):  # fmt: skip
        token = _staff_token(application, username, grant)
        credentials[caller] = Credentials(headers={"Authorization": f"Bearer {token}"})
    return application, credentials


APP, CREDENTIALS = _app_under_test()


CONFIG: dict[str, Any] = {
    "seed": SEED,
    "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
    "checks": {
        # A request the document allows can still break a rule that belongs to the configuration, not to
        # the document: a form field's own checks, a commune that does not offer the service (422 naming
        # the field), a queue filter on a service or state this commune does not have, a period that
        # ends before it starts (400 naming the parameter). A request matching the document may get
        # those besides the default answers; anything else (a 400 for a well-formed body, a 415) fails.
        "positive_data_acceptance": {"expected-statuses": ["2XX", "3XX", 400, 401, 403, 404, 409, 422, 429]},
    },
}


def _document_schema(caller: str) -> Any:
    """The app's own document, loaded by schemathesis with ``caller``'s credentials.

    A signed-in caller's credentials are applied by a schemathesis auth
    provider, so its checks know them for what they are (and remove them to
    check that the API then refuses the request).
    """
    schema = schemathesis.openapi.from_asgi("/openapi.json", APP, config=schemathesis.Config.from_dict(CONFIG))
    if caller != "anonymous":

        class SignedIn:
            def get(self, case: schemathesis.Case, ctx: schemathesis.AuthContext) -> Credentials:
                return CREDENTIALS[caller]

            def set(self, case: schemathesis.Case, data: Credentials, ctx: schemathesis.AuthContext) -> None:
                case.cookies = {**(case.cookies or {}), **data.cookies}
                case.headers = {**(case.headers or {}), **data.headers}

        schema.auth(refresh_interval=None)(SignedIn)
    return schema


anonymous = _document_schema("anonymous")
citizen = _document_schema("citizen")
agent = _document_schema("agent")
auditor = _document_schema("auditor")


@anonymous.parametrize()
def test_anonymous_callers_get_the_documented_answers(case: schemathesis.Case) -> None:
    case.call_and_validate()


@citizen.parametrize()
def test_a_signed_in_citizen_gets_the_documented_answers(case: schemathesis.Case) -> None:
    case.call_and_validate()


@agent.parametrize()
def test_an_agent_with_an_api_token_gets_the_documented_answers(case: schemathesis.Case) -> None:
    case.call_and_validate()


@auditor.parametrize()
def test_an_auditor_with_an_api_token_gets_the_documented_answers(case: schemathesis.Case) -> None:
    case.call_and_validate()
