"""Staff sign-in: password then TOTP, sessions, lock-outs, sign-out, and what each leaves in the audit log."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from sqlalchemy import select, update
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.identity import staff as staff_accounts
from gateway.identity import totp
from gateway.identity.sessions import COOKIE
from gateway.models import AuditEntry, StaffUser, UserSession
from gateway.testing import ConfigFolder, GuichetClient

PASSWORD = "correct horse battery staple"


@pytest_asyncio.fixture
async def app(guichet_config: ConfigFolder, guichet_database_url: str) -> AsyncIterator[Starlette]:
    guichet_config.set_gateway(database={"url": guichet_database_url})
    application = create_app(guichet_config.path)
    with application.state.db.session() as session:
        staff_accounts.create(
            session,
            username="camille.agent",
            display_name="Camille Agent",
            email="camille.agent@venissieux.example",
            password=PASSWORD,
            grants=[staff_accounts.parse_grant("agent:venissieux:contact:instructor")],
        )
    yield application
    application.state.db.dispose()


@pytest_asyncio.fixture
async def client(app: Starlette) -> AsyncIterator[GuichetClient]:
    async with GuichetClient(app) as http:
        yield http


def audit_actions(app: Starlette) -> list[tuple[str, str]]:
    with app.state.db.session() as session:
        return [(row.action, row.outcome) for row in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))]


async def password_step(client: GuichetClient, password: str = PASSWORD, username: str = "camille.agent"):  # type: ignore[no-untyped-def]
    return await client.submit("/agents/connexion", {"username": username, "password": password})


async def enrol(client: GuichetClient) -> str:
    """Sign in with the password, read the seed from the enrolment page, confirm with a code; return the seed."""
    await password_step(client)
    page = await client.get("/agents/connexion/code")
    seed = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page.text)
    assert seed, "the enrolment page shows the key"
    answer = await client.submit("/agents/connexion/code", {"code": totp.code_at(seed.group(1), time.time())})
    assert answer.status_code == 303 and answer.headers["location"] == "/agents"
    return seed.group(1)


async def test_wrong_password_is_refused_and_recorded(client: GuichetClient, app: Starlette) -> None:
    answer = await password_step(client, "not the password")
    assert answer.status_code == 401
    assert "Identifiant ou mot de passe incorrect." in answer.text
    assert audit_actions(app) == [("staff.create", "success"), ("auth.login", "failure")]


async def test_unknown_username_gets_the_same_answer(client: GuichetClient) -> None:
    answer = await password_step(client, username="nobody")
    assert answer.status_code == 401
    assert "Identifiant ou mot de passe incorrect." in answer.text


async def test_password_alone_does_not_open_the_staff_area(client: GuichetClient) -> None:
    await password_step(client)
    answer = await client.get("/agents")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/agents/connexion")


async def test_first_sign_in_sets_up_the_second_factor(client: GuichetClient, app: Starlette) -> None:
    await enrol(client)
    home = await client.get("/agents")
    assert home.status_code == 200 and "Bonjour Camille Agent" in home.text
    assert "Agent instructeur — Vénissieux, Écrire à la mairie" in home.text
    assert ("auth.mfa", "success") in audit_actions(app)


async def test_session_id_changes_at_each_step(client: GuichetClient) -> None:
    await client.get("/")
    await password_step(client)
    after_password = client.cookies.get(COOKIE)
    await enrol_from_password_page(client)
    assert after_password and client.cookies.get(COOKIE) not in (None, after_password)


async def enrol_from_password_page(client: GuichetClient) -> None:
    page = await client.get("/agents/connexion/code")
    seed = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page.text)
    assert seed
    await client.submit("/agents/connexion/code", {"code": totp.code_at(seed.group(1), time.time())})


async def test_a_code_is_never_accepted_twice(client: GuichetClient, app: Starlette) -> None:
    seed = await enrol(client)
    used = totp.code_at(seed, time.time())
    await client.submit("/deconnexion", {})
    await password_step(client)
    answer = await client.submit("/agents/connexion/code", {"code": used})
    assert answer.status_code == 401
    assert "Ce code n&#39;est pas valable" in answer.text
    assert audit_actions(app)[-1] == ("auth.mfa", "failure")


async def test_repeated_wrong_passwords_lock_the_account_and_say_how_long(
    client: GuichetClient, app: Starlette
) -> None:
    for _ in range(5):
        await password_step(client, "wrong password!")
    answer = await password_step(client)  # even the right password now waits
    assert answer.status_code == 429
    assert re.search(r"Réessayez dans \d+ minute", answer.text)
    assert ("auth.lockout", "denied") in audit_actions(app)


async def test_lock_holds_for_every_gateway_process(
    app: Starlette, guichet_config: ConfigFolder, guichet_database_url: str
) -> None:
    async with GuichetClient(app) as first:
        for _ in range(5):
            await password_step(first, "wrong password!")
    other_process = create_app(guichet_config.path)
    async with GuichetClient(other_process) as second:
        answer = await password_step(second)
    other_process.state.db.dispose()
    assert answer.status_code == 429


async def test_repeated_wrong_codes_lock_the_second_factor(client: GuichetClient) -> None:
    await enrol(client)
    await client.submit("/deconnexion", {})
    await password_step(client)
    for _ in range(5):
        await client.submit("/agents/connexion/code", {"code": "000000"})
    answer = await client.submit("/agents/connexion/code", {"code": "000000"})
    assert "Trop d&#39;essais infructueux" in answer.text


async def test_disabled_account_cannot_sign_in(client: GuichetClient, app: Starlette) -> None:
    with app.state.db.session() as session:
        staff = staff_accounts.find(session, "camille.agent")
        assert staff is not None
        staff_accounts.set_disabled(session, staff, True)
    answer = await password_step(client)
    assert answer.status_code == 401


async def test_disabling_ends_open_sessions(client: GuichetClient, app: Starlette) -> None:
    await enrol(client)
    with app.state.db.session() as session:
        staff = staff_accounts.find(session, "camille.agent")
        assert staff is not None
        staff_accounts.set_disabled(session, staff, True)
    assert (await client.get("/agents")).status_code == 303


async def test_sign_out_revokes_the_session_on_the_server(client: GuichetClient) -> None:
    await enrol(client)
    stolen = client.cookies.get(COOKIE)
    await client.submit("/deconnexion", {})
    client.cookies.set(COOKIE, stolen or "")
    assert (await client.get("/agents")).status_code == 303


async def test_idle_session_expires(client: GuichetClient, app: Starlette) -> None:
    await enrol(client)
    with app.state.db.session() as session:
        session.execute(update(UserSession).values(last_seen_at=datetime.now(UTC) - timedelta(minutes=31)))
    assert (await client.get("/agents")).status_code == 303


async def test_forged_session_cookie_is_ignored(client: GuichetClient) -> None:
    client.cookies.set(COOKIE, "forged.value")
    assert (await client.get("/agents")).status_code == 303


async def test_session_cookie_is_httponly_and_same_site(client: GuichetClient) -> None:
    answer = await password_step(client)
    cookie = next(value for value in answer.headers.get_list("set-cookie") if value.startswith(COOKIE))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie


async def test_sign_in_form_without_csrf_token_is_refused(client: GuichetClient) -> None:
    await client.get("/agents/connexion")
    answer = await client.post("/agents/connexion", data={"username": "camille.agent", "password": PASSWORD})
    assert answer.status_code == 403


async def test_creating_a_token_needs_a_recent_sign_in(client: GuichetClient, app: Starlette) -> None:
    await enrol(client)
    with app.state.db.session() as session:
        session.execute(update(UserSession).values(authenticated_at=datetime.now(UTC) - timedelta(minutes=10)))
    answer = await client.submit("/agents/jetons", {"name": "export", "scopes": "agent", "days": "30"})
    assert answer.status_code == 303 and answer.headers["location"].startswith("/agents/reauthentification")


async def test_token_is_shown_once_and_recorded(client: GuichetClient, app: Starlette) -> None:
    await enrol(client)
    answer = await client.submit("/agents/jetons", {"name": "export", "scopes": "agent", "days": "30"})
    assert re.search(r"gtk_[A-Za-z0-9_-]{43}", answer.text)
    again = await client.get("/agents/jetons")
    assert not re.search(r"gtk_[A-Za-z0-9_-]{43}", again.text)
    assert ("token.create", "success") in audit_actions(app)


def test_totp_seed_is_stored_encrypted(app: Starlette) -> None:
    with app.state.db.session() as session:
        staff = staff_accounts.find(session, "camille.agent")
        assert staff is not None
        seed = staff_accounts.start_enrolment(session, staff, app.state.registry.settings.secret_key)
        stored = session.get(StaffUser, staff.id)
        assert stored is not None and stored.totp_secret is not None and seed not in stored.totp_secret


@pytest.mark.parametrize(
    ("text", "fault"),
    [
        ("mayor", "unknown role"),
        ("agent", "an agent belongs to a commune"),
        ("agent:corbas:contact:boss", "level must be one of"),
        ("auditor:corbas:contact", "only agents have a service"),
        ("supervisor", "a supervisor belongs to a commune"),
    ],
)
def test_malformed_grant_is_refused(text: str, fault: str) -> None:
    with pytest.raises(staff_accounts.StaffError, match=fault):
        staff_accounts.parse_grant(text)


async def test_sign_in_is_recorded_in_the_role_the_account_holds(client: GuichetClient, app: Starlette) -> None:
    with app.state.db.session() as session:
        staff_accounts.create(session, username="dominique.auditrice", display_name="Dominique Auditrice",
                              email="dominique@syndicat.example", password=PASSWORD,
                              grants=[staff_accounts.parse_grant("auditor:corbas")])  # fmt: skip
    await password_step(client, username="dominique.auditrice")
    with app.state.db.session() as session:
        login = session.scalars(select(AuditEntry).where(AuditEntry.action == "auth.login")).one()
    assert (login.actor_role, login.outcome) == ("auditor", "success")
