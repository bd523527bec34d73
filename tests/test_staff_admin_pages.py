"""Staff management in pages: create, give and withdraw roles, reset the second factor, disable, enable.

Through real HTTP, signed in as the syndicate's or a commune's administrator;
every act audited, every refusal a clear 4xx with nothing changed.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest_asyncio
from sqlalchemy import update
from sqlmodel import select
from starlette.applications import Starlette

from gateway.identity import staff as staff_accounts
from gateway.identity import totp
from gateway.identity.grants import grants_of
from gateway.models import StaffRole, StaffUser, UserSession
from gateway.testing import ConfigFolder, GuichetClient, assert_audited, audit_records, sign_in_staff
from gateway.testing.client import STAFF_PASSWORD
from gateway.testing.fixtures import build_app
from tests import hostile_corpus

PEOPLE = "/agents/personnel"
NEW = f"{PEOPLE}/nouveau"
CONTACT = {"topics": ["voirie", "autre"], "reply_within_days": 15}


@pytest_asyncio.fixture
async def app(guichet_config: ConfigFolder, guichet_database_url: str) -> AsyncIterator[Starlette]:
    guichet_config.set_gateway(database={"url": guichet_database_url})
    guichet_config.enable_service("ville-a", "contact", **CONTACT)
    guichet_config.enable_service("ville-b", "contact", **CONTACT)
    application = build_app(guichet_config)
    yield application
    application.state.db.dispose()


@pytest_asyncio.fixture
async def admin_a(app: Starlette) -> AsyncIterator[GuichetClient]:
    """Signed in as the administrator of ville-a."""
    async with GuichetClient(app) as client:
        await sign_in_staff(client, "admin.a", "administrator:ville-a")
        yield client


@pytest_asyncio.fixture
async def syndicate_admin(app: Starlette) -> AsyncIterator[GuichetClient]:
    async with GuichetClient(app) as client:
        await sign_in_staff(client, "admin.syndicat", "administrator")
        yield client


def account(app: Starlette, username: str, *grants: str) -> int:
    """An existing staff account (made as ``guichet users create`` does); its id."""
    with app.state.db.session() as session:
        row = staff_accounts.create(session, username=username, display_name=username.title(),
                                    email=f"{username}@guichet.example", password=STAFF_PASSWORD,
                                    grants=[staff_accounts.parse_grant(grant) for grant in grants])  # fmt: skip
        assert row.id is not None
        return row.id


def staff_row(app: Starlette, staff_id: int) -> StaffUser:
    with app.state.db.session() as session:
        row = session.get(StaffUser, staff_id)
        assert row is not None
        session.expunge(row)
        return row


def roles(app: Starlette, staff_id: int) -> list[str]:
    with app.state.db.session() as session:
        return [staff_accounts.grant_text(grant) for grant in grants_of(session, staff_id)]


def role_id(app: Starlette, staff_id: int, text: str) -> int:
    grant = staff_accounts.parse_grant(text)
    with app.state.db.session() as session:
        for row in session.exec(select(StaffRole).where(StaffRole.staff_id == staff_id)):
            if (row.role, row.commune, row.service, row.level) == (grant.role, grant.commune, grant.service,
                                                                   grant.level):  # fmt: skip
                assert row.id is not None
                return row.id
    raise AssertionError(f"no role {text}")


def actions(app: Starlette) -> list[str]:
    return [record.action for record in audit_records(app)]


def actor(app: Starlette, username: str) -> str:
    with app.state.db.session() as session:
        row = staff_accounts.find(session, username)
        assert row is not None
        return f"staff:{row.id}"


NEW_AGENT = {"username": "Camille.Martin", "display_name": "Camille Martin", "email": "camille@ville-a.example",
             "role": "agent:ville-a:contact:instructor"}  # fmt: skip


# creating an account --------------------------------------------------------------------------------


async def test_a_commune_administrator_creates_an_agent_and_sees_the_password_once(
    app: Starlette, admin_a: GuichetClient
) -> None:
    answer = await admin_a.submit(NEW, NEW_AGENT)
    assert answer.status_code == 201
    password = re.search(r'<code class="secret">([^<]+)</code>', answer.text)
    assert password and answer.headers["cache-control"] == "no-store"
    with app.state.db.session() as session:
        created = staff_accounts.find(session, "camille.martin")
        assert created is not None and created.id is not None
        assert [staff_accounts.grant_text(g) for g in grants_of(session, created.id)] == [NEW_AGENT["role"]]
    [entry] = assert_audited(app, "staff.create", actor_id=actor(app, "admin.a"), commune="ville-a",
                             resource=f"staff/{created.id}")  # fmt: skip
    assert entry.purpose == staff_accounts.MANAGEMENT
    assert not any(password.group(1) in str(record) for record in audit_records(app))


async def test_the_new_agent_signs_in_with_the_initial_password_and_sets_up_the_second_factor(
    app: Starlette, admin_a: GuichetClient
) -> None:
    created = await admin_a.submit(NEW, NEW_AGENT)
    password = re.search(r'<code class="secret">([^<]+)</code>', created.text)
    assert password
    async with GuichetClient(app) as newcomer:
        await newcomer.submit("/agents/connexion", {"username": "camille.martin", "password": password.group(1)})
        page = await newcomer.get("/agents/connexion/code")
        seed = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page.text)
        assert seed, "no second-factor enrolment"
        done = await newcomer.submit("/agents/connexion/code", {"code": totp.code_at(seed.group(1), time.time())})
    assert done.status_code == 303 and done.headers["location"] == "/agents"


async def test_a_taken_username_is_refused_with_nothing_written(app: Starlette, admin_a: GuichetClient) -> None:
    account(app, "camille.martin", "agent:ville-a:contact")
    before = actions(app)
    answer = await admin_a.submit(NEW, NEW_AGENT)
    assert answer.status_code == 409 and "déjà pris" in answer.text
    assert actions(app) == before


async def test_an_unknown_role_is_refused_with_nothing_written(app: Starlette, admin_a: GuichetClient) -> None:
    before = actions(app)
    answer = await admin_a.submit(NEW, {**NEW_AGENT, "role": "agent:ville-a:nothing-here"})
    assert answer.status_code == 422 and "Choisissez-en un dans la liste" in answer.text
    with app.state.db.session() as session:
        assert staff_accounts.find(session, "camille.martin") is None
    assert actions(app) == before


async def test_a_malformed_address_is_refused(app: Starlette, admin_a: GuichetClient) -> None:
    answer = await admin_a.submit(NEW, {**NEW_AGENT, "email": "not an address"})
    assert answer.status_code == 422 and 'id="email"' in answer.text and 'aria-invalid="true"' in answer.text


async def test_a_commune_administrator_cannot_create_an_account_in_another_commune(
    app: Starlette, admin_a: GuichetClient
) -> None:
    answer = await admin_a.submit(NEW, {**NEW_AGENT, "role": "agent:ville-b:contact:instructor"})
    assert answer.status_code == 403
    with app.state.db.session() as session:
        assert staff_accounts.find(session, "camille.martin") is None
    assert_audited(app, "access.denied", actor_id=actor(app, "admin.a"))


async def test_role_choices_are_in_words_and_only_the_administrators_communes(admin_a: GuichetClient) -> None:
    page = await admin_a.get(NEW)
    assert "Agent instructeur — Ville-A, toutes les démarches" in page.text
    assert 'value="agent:ville-a:contact:instructor"' in page.text
    assert "ville-b" not in page.text and 'value="administrator"' not in page.text


async def test_the_pages_read_in_english(admin_a: GuichetClient) -> None:
    page = await admin_a.get(NEW, headers={"Accept-Language": "en"})
    assert "Case officer" in page.text and "Create the account" in page.text


# giving and withdrawing roles -------------------------------------------------------------------------


async def test_giving_a_role_is_audited(app: Starlette, admin_a: GuichetClient) -> None:
    agent = account(app, "sam.agent", "agent:ville-a:contact:reader")
    answer = await admin_a.submit(f"{PEOPLE}/{agent}/roles", {"role": "supervisor:ville-a"}, page=f"{PEOPLE}/{agent}")
    assert answer.status_code == 303 and answer.headers["location"] == f"{PEOPLE}/{agent}?fait=role-donne"
    assert roles(app, agent) == ["agent:ville-a:contact:reader", "supervisor:ville-a"]
    assert_audited(app, "staff.grant", actor_id=actor(app, "admin.a"), commune="ville-a",
                   resource=f"staff/{agent}/role/supervisor:ville-a")  # fmt: skip


async def test_withdrawing_a_role_is_audited(app: Starlette, admin_a: GuichetClient) -> None:
    agent = account(app, "sam.agent", "agent:ville-a:contact:reader", "supervisor:ville-a")
    answer = await admin_a.submit(f"{PEOPLE}/{agent}/roles/retrait",
                                  {"role_id": str(role_id(app, agent, "supervisor:ville-a"))},
                                  page=f"{PEOPLE}/{agent}")  # fmt: skip
    assert answer.status_code == 303
    assert roles(app, agent) == ["agent:ville-a:contact:reader"]
    assert_audited(app, "staff.revoke", actor_id=actor(app, "admin.a"), commune="ville-a",
                   resource=f"staff/{agent}/role/supervisor:ville-a")  # fmt: skip


async def test_a_role_already_held_is_refused(app: Starlette, admin_a: GuichetClient) -> None:
    agent = account(app, "sam.agent", "supervisor:ville-a")
    answer = await admin_a.submit(f"{PEOPLE}/{agent}/roles", {"role": "supervisor:ville-a"}, page=f"{PEOPLE}/{agent}")
    assert answer.status_code == 409 and roles(app, agent) == ["supervisor:ville-a"]


async def test_a_commune_administrator_cannot_give_a_syndicate_wide_role(
    app: Starlette, admin_a: GuichetClient
) -> None:
    agent = account(app, "sam.agent", "agent:ville-a:contact")
    for role in ("auditor", "administrator", "supervisor:ville-b"):
        answer = await admin_a.submit(f"{PEOPLE}/{agent}/roles", {"role": role}, page=f"{PEOPLE}/{agent}")
        assert answer.status_code == 403, role
    assert roles(app, agent) == ["agent:ville-a:contact:instructor"]
    assert "staff.grant" not in actions(app)


async def test_a_role_missing_from_the_form_is_refused(app: Starlette, admin_a: GuichetClient) -> None:
    agent = account(app, "sam.agent", "agent:ville-a:contact")
    answer = await admin_a.submit(f"{PEOPLE}/{agent}/roles", {"role": ""}, page=f"{PEOPLE}/{agent}")
    assert answer.status_code == 422 and "Choisissez-en un dans la liste" in answer.text


async def test_a_malformed_role_number_is_refused(app: Starlette, admin_a: GuichetClient) -> None:
    agent = account(app, "sam.agent", "agent:ville-a:contact", "supervisor:ville-a")
    answer = await admin_a.submit(f"{PEOPLE}/{agent}/roles/retrait", {"role_id": "abc"}, page=f"{PEOPLE}/{agent}")
    assert answer.status_code == 422 and len(roles(app, agent)) == 2


async def test_a_role_of_another_account_is_not_found(app: Starlette, admin_a: GuichetClient) -> None:
    agent = account(app, "sam.agent", "agent:ville-a:contact", "supervisor:ville-a")
    other = account(app, "lou.agent", "agent:ville-a:contact", "auditor:ville-a")
    answer = await admin_a.submit(f"{PEOPLE}/{agent}/roles/retrait",
                                  {"role_id": str(role_id(app, other, "auditor:ville-a"))},
                                  page=f"{PEOPLE}/{agent}")  # fmt: skip
    assert answer.status_code == 404 and len(roles(app, other)) == 2


async def test_the_last_role_of_an_account_cannot_be_withdrawn(app: Starlette, admin_a: GuichetClient) -> None:
    agent = account(app, "sam.agent", "agent:ville-a:contact")
    answer = await admin_a.submit(f"{PEOPLE}/{agent}/roles/retrait",
                                  {"role_id": str(role_id(app, agent, "agent:ville-a:contact"))},
                                  page=f"{PEOPLE}/{agent}")  # fmt: skip
    assert answer.status_code == 409 and "désactivez le compte" in answer.text
    assert roles(app, agent) == ["agent:ville-a:contact:instructor"]


async def test_an_administrator_cannot_withdraw_their_own_last_administrator_role(
    app: Starlette, admin_a: GuichetClient
) -> None:
    me = int(actor(app, "admin.a").split(":")[1])
    with app.state.db.session() as session:
        session.add(StaffRole(staff_id=me, role="auditor", commune="ville-a"))
    answer = await admin_a.submit(f"{PEOPLE}/{me}/roles/retrait",
                                  {"role_id": str(role_id(app, me, "administrator:ville-a"))},
                                  page=f"{PEOPLE}/{me}")  # fmt: skip
    assert answer.status_code == 409 and "administrator:ville-a" in roles(app, me)


# second factor, disabling --------------------------------------------------------------------------------


async def test_resetting_the_second_factor_forgets_it_and_is_audited(app: Starlette, admin_a: GuichetClient) -> None:
    agent = account(app, "sam.agent", "agent:ville-a:contact")
    with app.state.db.session() as session:
        row = session.get(StaffUser, agent)
        assert row is not None
        row.totp_secret, row.totp_enrolled_at = "x", datetime.now(UTC)
        session.add(row)
    answer = await admin_a.submit(f"{PEOPLE}/{agent}/second-facteur", {}, page=f"{PEOPLE}/{agent}")
    assert answer.status_code == 303
    row = staff_row(app, agent)
    assert row.totp_secret is None and row.totp_enrolled_at is None
    assert_audited(app, "staff.mfa-reset", actor_id=actor(app, "admin.a"), commune="ville-a")


async def test_disabling_ends_the_accounts_sessions_and_is_audited(app: Starlette, admin_a: GuichetClient) -> None:
    async with GuichetClient(app) as agent_client:
        await sign_in_staff(agent_client, "sam.agent", "agent:ville-a:contact")
        agent = int(actor(app, "sam.agent").split(":")[1])
        answer = await admin_a.submit(f"{PEOPLE}/{agent}/desactivation", {}, page=f"{PEOPLE}/{agent}")
        assert answer.status_code == 303
        home = await agent_client.get("/agents")
    assert home.status_code == 303 and home.headers["location"].startswith("/agents/connexion")
    assert staff_row(app, agent).disabled_at is not None
    assert_audited(app, "staff.disable", actor_id=actor(app, "admin.a"), commune="ville-a")


async def test_enabling_again_is_audited(app: Starlette, admin_a: GuichetClient) -> None:
    agent = account(app, "sam.agent", "agent:ville-a:contact")
    await admin_a.submit(f"{PEOPLE}/{agent}/desactivation", {}, page=f"{PEOPLE}/{agent}")
    answer = await admin_a.submit(f"{PEOPLE}/{agent}/reactivation", {}, page=f"{PEOPLE}/{agent}")
    assert answer.status_code == 303 and staff_row(app, agent).disabled_at is None
    assert_audited(app, "staff.enable", actor_id=actor(app, "admin.a"), commune="ville-a")


async def test_an_administrator_cannot_disable_themselves(app: Starlette, admin_a: GuichetClient) -> None:
    me = int(actor(app, "admin.a").split(":")[1])
    answer = await admin_a.post(f"{PEOPLE}/{me}/desactivation", data={"csrftoken": await admin_a.csrf_token(PEOPLE)})
    assert answer.status_code == 409 and staff_row(app, me).disabled_at is None


# reach -------------------------------------------------------------------------------------------------


async def test_a_commune_administrator_lists_only_their_communes_accounts(
    app: Starlette, admin_a: GuichetClient
) -> None:
    account(app, "sam.agent", "agent:ville-a:contact")
    account(app, "lou.agent", "agent:ville-b:contact")
    account(app, "dominique.shared", "agent:ville-a:contact", "agent:ville-b:contact")
    page = await admin_a.get(PEOPLE)
    assert "sam.agent" in page.text
    assert "lou.agent" not in page.text and "dominique.shared" not in page.text


async def test_the_syndicate_administrator_lists_every_account(app: Starlette, syndicate_admin: GuichetClient) -> None:
    account(app, "sam.agent", "agent:ville-a:contact")
    account(app, "lou.agent", "agent:ville-b:contact")
    page = await syndicate_admin.get(PEOPLE)
    assert "sam.agent" in page.text and "lou.agent" in page.text


async def test_the_syndicate_administrator_gives_a_syndicate_wide_role(
    app: Starlette, syndicate_admin: GuichetClient
) -> None:
    agent = account(app, "sam.agent", "agent:ville-b:contact")
    answer = await syndicate_admin.submit(f"{PEOPLE}/{agent}/roles", {"role": "auditor"}, page=f"{PEOPLE}/{agent}")
    assert answer.status_code == 303 and "auditor" in roles(app, agent)
    assert_audited(app, "staff.grant", actor_id=actor(app, "admin.syndicat"), commune=None)


async def test_another_communes_account_is_not_found_and_the_attempt_recorded(
    app: Starlette, admin_a: GuichetClient
) -> None:
    other = account(app, "lou.agent", "agent:ville-b:contact")
    answer = await admin_a.get(f"{PEOPLE}/{other}")
    assert answer.status_code == 404 and "lou" not in answer.text.lower()
    assert_audited(app, "access.denied", actor_id=actor(app, "admin.a"), resource=f"GET {PEOPLE}/{other}")


async def test_another_communes_account_cannot_be_disabled(app: Starlette, admin_a: GuichetClient) -> None:
    other = account(app, "lou.agent", "agent:ville-b:contact")
    answer = await admin_a.post(f"{PEOPLE}/{other}/desactivation", data={"csrftoken": await admin_a.csrf_token(PEOPLE)})
    assert answer.status_code == 404 and staff_row(app, other).disabled_at is None
    assert "staff.disable" not in actions(app)


async def test_a_syndicate_wide_account_is_out_of_a_commune_administrators_reach(
    app: Starlette, admin_a: GuichetClient
) -> None:
    auditor = account(app, "dom.auditor", "auditor")
    answer = await admin_a.post(
        f"{PEOPLE}/{auditor}/second-facteur", data={"csrftoken": await admin_a.csrf_token(PEOPLE)}
    )
    assert answer.status_code == 404 and "staff.mfa-reset" not in actions(app)


async def test_an_unknown_account_is_not_found(admin_a: GuichetClient) -> None:
    for path in (f"{PEOPLE}/99999", f"{PEOPLE}/99999999999999999999999"):
        assert (await admin_a.get(path)).status_code == 404, path


async def test_an_agent_is_refused_the_staff_management_pages(app: Starlette) -> None:
    target = account(app, "lou.agent", "agent:ville-a:contact")
    async with GuichetClient(app) as client:
        await sign_in_staff(client, "sam.agent", "agent:ville-a:contact:supervisor")
        listing = await client.get(PEOPLE)
        token = await client.csrf_token("/agents/jetons")
        act = await client.post(f"{PEOPLE}/{target}/desactivation", data={"csrftoken": token})
    assert listing.status_code == 403 and act.status_code == 403
    assert staff_row(app, target).disabled_at is None


async def test_someone_not_signed_in_is_sent_to_the_staff_sign_in(app: Starlette) -> None:
    async with GuichetClient(app) as client:
        answer = await client.get(PEOPLE)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/agents/connexion")


# the form's safeguards ------------------------------------------------------------------------------------


async def test_an_act_long_after_signing_in_asks_for_the_password_and_code_again(
    app: Starlette, admin_a: GuichetClient
) -> None:
    agent = account(app, "sam.agent", "agent:ville-a:contact")
    page = f"{PEOPLE}/{agent}"
    token = await admin_a.csrf_token(page)
    with app.state.db.session() as session:
        session.execute(update(UserSession).values(authenticated_at=datetime.now(UTC) - timedelta(minutes=10)))
    answer = await admin_a.post(f"{page}/desactivation", data={"csrftoken": token})
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/agents/reauthentification?suite=/agents/personnel/{agent}"
    assert staff_row(app, agent).disabled_at is None


async def test_a_form_without_its_csrf_token_is_refused(app: Starlette, admin_a: GuichetClient) -> None:
    agent = account(app, "sam.agent", "agent:ville-a:contact")
    answer = await admin_a.post(f"{PEOPLE}/{agent}/desactivation", data={})
    assert answer.status_code == 403 and staff_row(app, agent).disabled_at is None


async def test_the_staff_home_links_administrators_to_the_accounts(admin_a: GuichetClient) -> None:
    page = await admin_a.get("/agents")
    assert f'href="{PEOPLE}"' in page.text


async def test_hostile_form_values_get_a_clear_answer_and_change_nothing(
    app: Starlette, syndicate_admin: GuichetClient
) -> None:
    agent = account(app, "sam.agent", "agent:ville-a:contact", "supervisor:ville-a")
    token = await syndicate_admin.csrf_token(PEOPLE)
    paths = [NEW, *(f"{PEOPLE}/{agent}/{act}" for act in ("roles", "roles/retrait"))]
    before = (actions(app), roles(app, agent))
    for value in hostile_corpus.PARAMETER_VALUES:
        fields = {name: value for name in ("username", "display_name", "email", "role", "role_id")}
        for path in paths:
            answer = await syndicate_admin.post(path, data={**fields, "csrftoken": token})
            assert answer.status_code in (403, 404, 409, 422), f"{path} {value!r}: {answer.status_code}"
            assert hostile_corpus.SCRIPT not in answer.text
    assert (actions(app), roles(app, agent)) == before
