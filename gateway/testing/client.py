"""Testing through HTTP: a client that fills forms like a browser, and sign-ins for it.

A test that checks pages or the JSON API drives the app with :class:`GuichetClient`
(an ``httpx.AsyncClient`` on the ASGI app, no server). The sign-ins give it a
session as a citizen, or as a staff member who went through both factors.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Mapping
from datetime import UTC, datetime

import httpx
from starlette.applications import Starlette

from gateway.identity import staff as staff_accounts
from gateway.identity import totp
from gateway.identity.claims import EMAIL_VERIFIED
from gateway.identity.sessions import COOKIE, cookie_value, open_session
from gateway.models import Citizen

BASE_URL = "http://testserver"
_CSRF_INPUT = re.compile(r'name="csrftoken" value="([^"]+)"')


class GuichetClient(httpx.AsyncClient):
    """An HTTP client on the ASGI app that can fill forms like a browser."""

    def __init__(self, app: Starlette, *, raise_app_exceptions: bool = True) -> None:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
        super().__init__(transport=transport, base_url=BASE_URL)
        self.app = app

    async def csrf_token(self, path: str = "/") -> str:
        """Load a page as a browser would, keeping its CSRF cookie; return the form token."""
        page = await self.get(path)
        match = _CSRF_INPUT.search(page.text)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    async def submit(
        self, path: str, data: Mapping[str, str | list[str]], *, page: str | None = None
    ) -> httpx.Response:
        """Fill the form at ``path`` (loaded first, as a person would) and send it (a list: each ticked box)."""
        loaded = await self.get(page or path)
        return await self.post(path, data={**_hidden_inputs(loaded.text), **data})

    async def file_request(self, commune: str, service: str, answers: dict[str, str]) -> httpx.Response:
        """File a request through the pages, as a signed-in citizen does: start a draft, fill it, submit it.

        Returns the last answer: a redirect (303) to the receipt when the request was filed, the
        draft's page with the form's errors (422) when not. Sign a citizen in first (:func:`sign_in_citizen`).
        """
        started = await self.submit(f"/{commune}/{service}", {})
        if started.status_code != 303:
            return started
        draft = started.headers["location"]
        return await self.submit(draft, {**answers, "action": "deposer", "champs": "1"})


def _hidden_inputs(html: str) -> dict[str, str]:
    found = {}
    for tag in re.findall(r"<input[^>]*>", html):
        if 'type="hidden"' in tag:
            name = re.search(r'name="([^"]+)"', tag)
            value = re.search(r'value="([^"]*)"', tag)
            if name and value and name.group(1) != "next":
                found[name.group(1)] = value.group(1)
    return found


STAFF_PASSWORD = "a long enough test password"  # noqa: S105  (test accounts only)


async def sign_in_staff(client: GuichetClient, username: str, *roles: str) -> None:
    """Create a staff account with ``roles`` and sign ``client`` in through the pages, password then second factor.

    Roles read ``role[:commune[:service[:level]]]``: ``agent:ville-a:cantine:instructor``,
    ``agent:ville-a:cantine:reader``, ``supervisor:ville-a``, ``auditor:ville-a``, ``auditor``.
    The account enrols its authenticator on the way, as a new agent does.
    """
    db = client.app.state.db
    with db.session() as session:
        staff_accounts.create(
            session,
            username=username,
            display_name=username.replace(".", " ").title(),
            email=f"{username}@guichet.example",
            password=STAFF_PASSWORD,
            grants=[staff_accounts.parse_grant(role) for role in roles],
        )
    await client.submit("/agents/connexion", {"username": username, "password": STAFF_PASSWORD})
    page = await client.get("/agents/connexion/code")
    seed = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page.text)
    assert seed, "no second-factor enrolment page"
    answer = await client.submit("/agents/connexion/code", {"code": totp.code_at(seed.group(1), time.time())})
    assert answer.status_code == 303, answer.text


def sign_in_citizen(
    client: GuichetClient,
    *,
    given_name: str = "Camille",
    family_name: str = "Exemple",
    email: str | None = None,
    email_verified: bool = True,
) -> int:
    """Create a federated citizen and give ``client`` a live session for them; return the citizen's id.

    For tests of what signed-in citizens see; the sign-in flows themselves are
    tested against the demo identity provider. ``email_verified``: whether
    the provider said it checked the address (only then does it find what was
    filed under it without an account).
    """
    db = client.app.state.db
    with db.session() as session:
        citizen = Citizen(public_id=secrets.token_hex(16), issuer="https://idp.test", sub=secrets.token_hex(8),
                          given_name=given_name, family_name=family_name, email=email,
                          claims={EMAIL_VERIFIED: "true"} if email and email_verified else {},
                          created_at=datetime.now(UTC))  # fmt: skip
        session.add(citizen)
        session.flush()
        assert citizen.id is not None
        session_id = open_session(session, "citizen", citizen.id)
        citizen_id = citizen.id
    client.cookies.set(COOKIE, cookie_value(client.app.state.registry.settings.secret_key, session_id))
    return citizen_id


async def sign_in_agent(
    client: GuichetClient, commune: str, service: str, *, level: str = "instructor", username: str | None = None
) -> str:
    """Sign ``client`` in as an agent of ``service`` in ``commune`` (``instructor`` acts, ``reader`` reads,
    ``supervisor`` also takes the steps reserved to supervisors).

    Returns the username (``agent.<commune>`` unless given).
    """
    name = username or f"agent.{commune}"
    await sign_in_staff(client, name, f"agent:{commune}:{service}:{level}")
    return name


async def sign_in_auditor(client: GuichetClient, commune: str | None = None, *, username: str | None = None) -> str:
    """Sign ``client`` in as an auditor of ``commune`` (of the whole syndicate when ``None``); returns the username."""
    name = username or f"auditor.{commune or 'syndicate'}"
    await sign_in_staff(client, name, f"auditor:{commune}" if commune else "auditor")
    return name
