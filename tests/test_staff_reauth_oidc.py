# ruff: noqa: F811  (test parameters are named after the imported fixtures they receive)
"""A federated agent confirms who they are through their identity provider, not with a password they do not have.

Real HTTP against the demo deployment (see :mod:`tests.test_demo_staff`): the syndicate's administrator signs
in through the demo staff directory, their sign-in grows older than five minutes, and a sensitive act sends
them to the directory again with ``prompt=login`` and ``max_age=0``; coming back with a fresh ``auth_time``
for the same ``sub`` lets them act, anything else changes nothing.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest
from sqlalchemy import update

from gateway.identity.oidc import Identity, LoginFailure
from gateway.identity.oidc_flows import Flow
from gateway.identity.providers import provider_registry
from gateway.identity.reauthentication import check_reauthentication
from gateway.models import UserSession
from gateway.models.demo_identity import DemoAuthorizationCode
from tests.test_demo_staff import CSRF, Browser, Demo, browser, demo  # noqa: F401  (the demo staff tests' fixtures)

ADMIN = "administrator@_syndicat"
PEOPLE = "/agents/personnel"


def signed_in_long_ago(demo: Demo) -> None:
    """The sign-in happened ten minutes ago: sensitive acts now ask to confirm one's identity."""
    with demo.app.state.db.session() as session:
        session.execute(update(UserSession).values(authenticated_at=datetime.now(UTC) - timedelta(minutes=10)))
        session.commit()


def agent_id(demo: Demo) -> int:
    agent = demo.staff("demo.instructeur.venissieux")
    assert agent.id is not None
    return agent.id


def disable_agent(browser: Browser, agent: int) -> httpx.Response:
    page = browser.get(f"{PEOPLE}/{agent}")
    token = CSRF.search(page.text)
    assert page.status_code == 200 and token, page.text[:2000]
    return browser.post(f"{PEOPLE}/{agent}/desactivation", {"csrftoken": token.group(1)})


def start_reauthentication(browser: Browser, suite: str) -> httpx.Response:
    """Press the page's button: the answer is the redirect to the provider."""
    page = browser.get(f"/agents/reauthentification?suite={quote(suite)}")
    token = CSRF.search(page.text)
    assert page.status_code == 200 and token
    return browser.post(f"/agents/reauthentification/fournisseur?suite={quote(suite)}", {"csrftoken": token.group(1)})


def at_provider(browser: Browser, suite: str, person: str) -> httpx.Response:
    """Confirm at the directory as ``person``: the provider's redirect back to the gateway's callback."""
    started = start_reauthentication(browser, suite)
    chosen = browser.choose(browser.follow(started), person)
    assert chosen.status_code == 303 and chosen.headers["location"].startswith(browser.demo.url + "/connexion/retour?")
    return chosen


@pytest.fixture
def admin(demo: Demo, browser: Browser) -> Browser:
    """The syndicate's administrator, signed in through the demo directory ten minutes ago."""
    demo.seed()
    browser.sign_in(None, ADMIN)
    signed_in_long_ago(demo)
    return browser


def test_a_stale_federated_administrator_is_asked_to_confirm_with_the_provider_not_a_password(
    demo: Demo, admin: Browser
) -> None:
    agent = agent_id(demo)
    answer = disable_agent(admin, agent)
    assert answer.status_code == 303
    page = admin.follow(answer)
    assert f'action="/agents/reauthentification/fournisseur?suite=/agents/personnel/{agent}"' in page.text
    assert 'name="password"' not in page.text
    assert "confirmez votre identité auprès de lui" in html.unescape(page.text)


def test_the_confirmation_page_says_so_in_english(admin: Browser) -> None:
    page = admin.http.get(admin.demo.url + "/agents/reauthentification", headers={"Accept-Language": "en"})
    assert "confirm who you are with it" in html.unescape(page.text)
    assert "Confirm with " in page.text


def test_the_provider_is_asked_to_authenticate_again_now(admin: Browser) -> None:
    started = start_reauthentication(admin, f"{PEOPLE}/nouveau")
    assert started.status_code == 303
    query = parse_qs(urlsplit(started.headers["location"]).query)
    assert (query["prompt"], query["max_age"]) == (["login"], ["0"])
    chooser = admin.follow(started)
    assert "Le service vous demande de confirmer votre identité" in html.unescape(chooser.text)


def test_a_federated_administrator_confirms_with_the_provider_then_acts(demo: Demo, admin: Browser) -> None:
    agent = agent_id(demo)
    refused = disable_agent(admin, agent)
    assert refused.headers["location"] == f"/agents/reauthentification?suite={PEOPLE}/{agent}"
    back = admin.follow(at_provider(admin, f"{PEOPLE}/{agent}", ADMIN))
    assert back.status_code == 303 and back.headers["location"] == f"{PEOPLE}/{agent}"
    assert disable_agent(admin, agent).status_code == 303
    assert demo.staff("demo.instructeur.venissieux").disabled_at is not None
    assert ("success", "staff-oidc-login/-/reauthentication") in demo.logins()


def test_the_session_stays_the_same_and_keeps_the_newest_id_token(demo: Demo, admin: Browser) -> None:
    (before,) = demo.live_sessions()
    admin.follow(at_provider(admin, "/agents", ADMIN))
    (after,) = demo.live_sessions()
    assert after.id_hash == before.id_hash and after.id_token != before.id_token
    assert datetime.now(UTC) - after.authenticated_at.replace(tzinfo=UTC) < timedelta(minutes=1)


def test_confirming_as_another_person_is_refused_and_changes_nothing(demo: Demo, admin: Browser) -> None:
    agent = agent_id(demo)
    answer = admin.follow(at_provider(admin, f"{PEOPLE}/{agent}", "auditor@_syndicat"))
    assert answer.status_code == 403
    assert "une autre personne que celle connectée ici" in html.unescape(answer.text)
    assert f'href="/agents/reauthentification?suite=/agents/personnel/{agent}"' in answer.text
    assert ("denied", "staff-oidc-login/-/reauthentication-other-person") in demo.logins()
    assert disable_agent(admin, agent).status_code == 303  # to the confirmation page again
    assert demo.staff("demo.instructeur.venissieux").disabled_at is None


def test_an_id_token_with_an_old_auth_time_is_refused_and_changes_nothing(demo: Demo, admin: Browser) -> None:
    agent = agent_id(demo)
    chosen = at_provider(admin, f"{PEOPLE}/{agent}", ADMIN)
    with demo.app.state.db.session() as session:  # the provider says the person authenticated an hour ago
        session.execute(update(DemoAuthorizationCode).values(auth_time=datetime.now(UTC) - timedelta(hours=1)))
        session.commit()
    answer = admin.follow(chosen)
    assert answer.status_code == 400
    assert "n'a pas confirmé que vous veniez de vous identifier à nouveau" in html.unescape(answer.text)
    assert ("failure", "staff-oidc-login/-/auth-time-stale") in demo.logins()
    assert disable_agent(admin, agent).headers["location"].startswith("/agents/reauthentification")


def test_a_session_that_ended_meanwhile_is_not_brought_back(demo: Demo, admin: Browser) -> None:
    chosen = at_provider(admin, "/agents", ADMIN)
    with demo.app.state.db.session() as session:  # e.g. disabled by another administrator while at the provider
        session.execute(update(UserSession).values(revoked_at=datetime.now(UTC)))
        session.commit()
    answer = admin.follow(chosen)
    assert answer.status_code == 403 and "Vous n'êtes plus connecté" in html.unescape(answer.text)
    assert demo.live_sessions() == []
    assert ("failure", "staff-oidc-login/-/reauthentication-no-session") in demo.logins()


@pytest.mark.parametrize("suite", ["https://ailleurs.example/piege", "//ailleurs.example/piege", "/\\ailleurs.example"])
def test_the_way_back_is_never_another_site(admin: Browser, suite: str) -> None:
    back = admin.follow(at_provider(admin, suite, ADMIN))
    assert back.status_code == 303 and back.headers["location"] == "/agents"


def test_a_password_session_cannot_start_a_provider_confirmation(demo: Demo, browser: Browser) -> None:
    page = browser.get("/agents/connexion")
    token = CSRF.search(page.text)
    assert token
    answer = browser.post("/agents/reauthentification/fournisseur", {"csrftoken": token.group(1)})
    assert answer.status_code == 303 and answer.headers["location"].startswith("/agents/connexion")


def test_the_demo_provider_refuses_a_max_age_that_is_not_a_number(admin: Browser) -> None:
    started = start_reauthentication(admin, "/agents")
    location = started.headers["location"].replace("max_age=0", "max_age=bient%C3%B4t")
    answer = admin.http.get(location)
    assert answer.status_code in (302, 303)
    assert parse_qs(urlsplit(answer.headers["location"]).query)["error"] == ["invalid_request"]


def _identity(demo: Demo, auth_time: float | None) -> Identity:
    provider = provider_registry(demo.settings).staff_of(None, with_demo=True)
    assert provider is not None
    return Identity(provider, "sub", None, {}, "token", auth_time)


def test_an_id_token_without_auth_time_does_not_confirm_anything(demo: Demo) -> None:
    flow = Flow("demo.syndicat", "s", "n", None, "/agents", reauth=True, started=1_000_000)
    with pytest.raises(LoginFailure) as refused:
        check_reauthentication(_identity(demo, None), flow, now=1_000_010)
    assert refused.value.reason == "auth-time-missing"


def test_an_auth_time_from_before_the_request_does_not_confirm_anything(demo: Demo) -> None:
    flow = Flow("demo.syndicat", "s", "n", None, "/agents", reauth=True, started=1_000_000)
    with pytest.raises(LoginFailure):
        check_reauthentication(_identity(demo, 1_000_000 - 61), flow, now=1_000_010)
    check_reauthentication(_identity(demo, 1_000_005), flow, now=1_000_010)  # just after the request: fine
