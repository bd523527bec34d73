"""Local citizen accounts through the pages: create, confirm, sign in, lock-outs, reset, and the outbox behind them."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import httpx
import itsdangerous.timed
import pytest
from aiosmtpd.controller import Controller
from sqlmodel import col, select
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.audit.events import pseudonym
from gateway.identity import local_accounts
from gateway.identity.sessions import COOKIE
from gateway.models import AuditEntry, Citizen, LocalAccount, OutboxMessage, UserSession
from gateway.notify.delivery import deliver_due
from gateway.settings import load_settings
from gateway.testing import ConfigFolder, GuichetClient
from tests.test_translations import untranslated_on

ADDRESS = "camille.martin@example.org"
PASSWORD = "a long and happy password"
NEW_PASSWORD = "another long and happy password"
LINK = re.compile(r"http://127\.0\.0\.1:8000(/compte/[^\s?]+\?jeton=[A-Za-z0-9_.-]+)")
CSRF = re.compile(r'name="csrftoken" value="[^"]*"')
MAIN = re.compile(r"<main.*</main>", re.DOTALL)


# Helpers -----------------------------------------------------------------------------------------


def messages(app: Starlette) -> list[OutboxMessage]:
    with app.state.db.session() as session:
        return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))))


def message_of(app: Starlette, kind: str) -> OutboxMessage:
    found = [message for message in messages(app) if message.kind == kind]
    assert len(found) == 1, [(message.kind, message.recipient) for message in messages(app)]
    return found[0]


def link_in(body: str) -> str:
    found = LINK.search(body)
    assert found, body
    return found.group(1)


def accounts(app: Starlette) -> list[LocalAccount]:
    with app.state.db.session() as session:
        return list(session.exec(select(LocalAccount)))


def citizens(app: Starlette) -> list[Citizen]:
    with app.state.db.session() as session:
        return list(session.exec(select(Citizen)))


def audit(app: Starlette) -> list[AuditEntry]:
    with app.state.db.session() as session:
        return list(session.exec(select(AuditEntry).order_by(col(AuditEntry.seq))))


def audit_actions(app: Starlette) -> list[tuple[str, str]]:
    return [(entry.action, entry.outcome) for entry in audit(app)]


def subject_of(app: Starlette, address: str = ADDRESS) -> str:
    return pseudonym(app.state.registry.settings.secret_key, "email", address)


def main_text(response: httpx.Response) -> str:
    """The page's main content, without the per-visitor CSRF token."""
    found = MAIN.search(response.text)
    assert found, response.text
    return CSRF.sub("", found.group(0))


async def register(
    client: GuichetClient, address: str = ADDRESS, password: str = PASSWORD, confirmation: str | None = None
) -> httpx.Response:
    fields = {"email": address, "password": password, "password_confirmation": confirmation or password}
    return await client.submit("/compte/creer", fields)


async def confirm(client: GuichetClient, link: str) -> httpx.Response:
    return await client.submit("/compte/verification", {}, page=link)


async def sign_in(
    client: GuichetClient, address: str = ADDRESS, password: str = PASSWORD, suite: str = ""
) -> httpx.Response:
    path = "/compte/connexion" + (f"?suite={suite}" if suite else "")
    return await client.submit(path, {"email": address, "password": password})


async def verified_account(client: GuichetClient, address: str = ADDRESS, password: str = PASSWORD) -> None:
    await register(client, address, password)
    verification = [m for m in messages(client.app) if m.kind == "account.verify-email" and m.recipient == address]
    answer = await confirm(client, link_in(verification[-1].body))
    assert answer.status_code == 200, answer.text


async def forgot(client: GuichetClient, address: str = ADDRESS) -> httpx.Response:
    return await client.submit("/compte/mot-de-passe-oublie", {"email": address})


async def choose_password(client: GuichetClient, link: str, password: str = NEW_PASSWORD) -> httpx.Response:
    fields = {"password": password, "password_confirmation": password}
    return await client.submit("/compte/nouveau-mot-de-passe", fields, page=link)


async def signed_in(client: GuichetClient) -> bool:
    answer = await client.get("/mon-compte/acces")
    return answer.status_code == 200


def itsdangerous_clock(monkeypatch: pytest.MonkeyPatch, shift: timedelta) -> None:
    """Sign tokens as if it were ``shift`` from now (itsdangerous reads the clock through its own ``time``)."""
    monkeypatch.setattr(itsdangerous.timed, "time", SimpleNamespace(time=lambda: time.time() + shift.total_seconds()))


# Create, confirm, sign in, sign out ----------------------------------------------------------------


async def test_create_confirm_sign_in_and_out(guichet_client: GuichetClient, guichet_app: Starlette) -> None:
    created = await register(guichet_client, "Camille.Martin@EXAMPLE.org")
    assert created.status_code == 200
    assert "Consultez votre messagerie" in created.text
    assert "/demo/courriels" in created.text  # demo mode: where the message can be read
    [account] = accounts(guichet_app)
    [citizen] = citizens(guichet_app)
    assert account.email == ADDRESS and account.email_verified_at is None
    assert account.password_hash.startswith("$argon2id$") and PASSWORD not in account.password_hash
    assert (citizen.issuer, citizen.sub, citizen.email) == ("local", str(account.id), None)
    assert re.fullmatch(r"[0-9a-f]{32}", citizen.public_id)

    message = message_of(guichet_app, "account.verify-email")
    assert (message.recipient, message.locale) == (ADDRESS, "fr")
    assert message.subject == "Confirmez votre adresse électronique"
    link = link_in(message.body)
    assert link.startswith("/compte/verification?jeton=")
    letterbox = await guichet_client.get("/demo/courriels")
    assert letterbox.status_code == 200 and "Confirmez votre adresse électronique" in letterbox.text

    page = await guichet_client.get(link)
    assert page.status_code == 200 and "Confirmer mon adresse" in page.text
    done = await confirm(guichet_client, link)
    assert done.status_code == 200 and "Adresse confirmée" in done.text
    [account] = accounts(guichet_app)
    [citizen] = citizens(guichet_app)
    assert account.email_verified_at is not None and citizen.email == ADDRESS

    answer = await sign_in(guichet_client, suite="/mon-compte/acces")
    assert answer.status_code == 303 and answer.headers["location"] == "/mon-compte/acces"
    assert "httponly" in answer.headers["set-cookie"].lower()
    mine = await guichet_client.get("/mon-compte/acces")
    assert mine.status_code == 200 and f"Connecté : {ADDRESS}" in mine.text
    # the account's own history is in the citizen's access log, under the address's pseudonym
    assert "Connexion à votre compte" in mine.text and "Création d&#39;un compte avec votre adresse" in mine.text

    await guichet_client.submit("/deconnexion", {})
    assert not await signed_in(guichet_client)
    actions = audit_actions(guichet_app)
    for expected in [("account.create", "success"), ("account.verify", "success"), ("auth.login", "success"),
                     ("auth.logout", "success")]:  # fmt: skip
        assert expected in actions
    login = next(entry for entry in audit(guichet_app) if entry.action == "auth.login")
    assert (login.actor_id, login.actor_role) == (f"citizen:{citizen.public_id}", "citizen")
    assert login.subject == subject_of(guichet_app)


async def test_opening_the_link_alone_confirms_nothing(guichet_client: GuichetClient, guichet_app: Starlette) -> None:
    # mail scanners open links by themselves: only the button confirms
    await register(guichet_client)
    await guichet_client.get(link_in(message_of(guichet_app, "account.verify-email").body))
    [account] = accounts(guichet_app)
    assert account.email_verified_at is None


async def test_sign_in_is_refused_until_the_address_is_confirmed(
    guichet_client: GuichetClient, guichet_app: Starlette
) -> None:
    await register(guichet_client)
    answer = await sign_in(guichet_client)
    assert answer.status_code == 403
    assert "pas encore confirmée" in answer.text
    assert 'action="/compte/verification/renvoyer"' in answer.text  # offers a new link
    assert guichet_client.cookies.get(COOKIE) is None
    assert audit_actions(guichet_app)[-1] == ("auth.login", "denied")

    resent = await guichet_client.submit("/compte/verification/renvoyer", {"email": ADDRESS}, page="/compte/connexion")
    assert resent.status_code == 200 and "nouveau lien" in resent.text
    # within the same ten minutes the message already queued stands: still one
    assert len([m for m in messages(guichet_app) if m.kind == "account.verify-email"]) == 1


def test_a_new_verification_link_later_is_a_new_message(guichet_app: Starlette) -> None:
    settings = guichet_app.state.registry.settings
    with guichet_app.state.db.session() as session:
        local_accounts.register(session, ADDRESS, PASSWORD, locale="en", settings=settings, origin="test")
    later = datetime.now(UTC) + timedelta(minutes=20)
    with guichet_app.state.db.session() as session:
        assert local_accounts.resend_verification(session, ADDRESS.upper(), settings=settings, origin="test", now=later)
    sent = [m for m in messages(guichet_app) if m.kind == "account.verify-email"]
    assert len(sent) == 2
    assert sent[1].locale == "en" and sent[1].subject == "Confirm your e-mail address"
    assert "valid for 48 hours" in sent[1].body


async def test_sign_in_goes_back_only_to_a_page_of_this_site(guichet_client: GuichetClient) -> None:
    await verified_account(guichet_client)
    answer = await sign_in(guichet_client, suite="//evil.example/")
    assert answer.status_code == 303 and answer.headers["location"] == "/"


async def test_signing_in_issues_a_new_session_id(guichet_client: GuichetClient, guichet_app: Starlette) -> None:
    await verified_account(guichet_client)
    await sign_in(guichet_client)
    first = guichet_client.cookies.get(COOKIE)
    await sign_in(guichet_client)
    assert guichet_client.cookies.get(COOKIE) not in (None, first)
    with guichet_app.state.db.session() as session:
        live = session.exec(select(UserSession).where(col(UserSession.revoked_at).is_(None))).all()
    assert len(live) == 1  # the earlier session of this browser was closed


# Wrong passwords and lock-outs --------------------------------------------------------------------


async def test_wrong_password_is_refused_and_recorded(guichet_client: GuichetClient, guichet_app: Starlette) -> None:
    await verified_account(guichet_client)
    answer = await sign_in(guichet_client, password="not the password at all")
    assert answer.status_code == 401
    assert "Adresse électronique ou mot de passe incorrect." in answer.text
    assert "not the password" not in answer.text
    entry = audit(guichet_app)[-1]
    assert (entry.action, entry.outcome, entry.actor_role) == ("auth.login", "failure", "anonymous")
    assert entry.subject == subject_of(guichet_app)
    assert all("not the password" not in (value or "") for value in (entry.resource, entry.origin, entry.purpose))


async def test_unknown_address_gets_the_same_answer_and_is_not_recorded(
    guichet_client: GuichetClient, guichet_app: Starlette
) -> None:
    await verified_account(guichet_client)
    known = await sign_in(guichet_client, password="not the password at all")
    unknown = await sign_in(guichet_client, "dominique@example.org", "not the password at all")
    assert unknown.status_code == known.status_code == 401
    assert main_text(unknown).replace("dominique@example.org", ADDRESS) == main_text(known)
    entry = audit(guichet_app)[-1]
    assert (entry.action, entry.outcome, entry.subject) == ("auth.login", "failure", None)


async def test_repeated_failures_lock_the_account_in_every_gateway_process(
    guichet_app: Starlette, guichet_config: ConfigFolder
) -> None:
    async with GuichetClient(guichet_app) as first:
        await verified_account(first)
        answers = [await sign_in(first, password="wrong password, again") for _ in range(5)]
    assert [answer.status_code for answer in answers] == [401, 401, 401, 401, 429]
    other_process = create_app(guichet_config.path)
    try:
        async with GuichetClient(other_process) as second:
            answer = await sign_in(second)  # even the right password now waits
    finally:
        other_process.state.db.dispose()
    assert answer.status_code == 429
    assert re.search(r"Réessayez dans \d+ minute", answer.text)
    assert ("auth.lockout", "denied") in audit_actions(guichet_app)
    assert audit_actions(guichet_app)[-1] == ("auth.login", "denied")


# An address that already has an account -----------------------------------------------------------


async def test_registering_a_taken_address_answers_the_same_and_tells_its_owner(
    guichet_client: GuichetClient, guichet_app: Starlette
) -> None:
    await verified_account(guichet_client)
    fresh = await register(guichet_client, "dominique@example.org")
    again = await register(guichet_client, "CAMILLE.MARTIN@example.org", "somebody else's password")
    assert again.status_code == fresh.status_code == 200
    assert main_text(again) == main_text(fresh).replace("dominique@example.org", ADDRESS)
    assert len(accounts(guichet_app)) == 2 and len(citizens(guichet_app)) == 2  # none for the second try
    notice = message_of(guichet_app, "account.already-exists")
    assert notice.recipient == ADDRESS
    assert "Quelqu'un vient d'essayer de créer un compte" in notice.body
    assert "http://127.0.0.1:8000/compte/mot-de-passe-oublie" in notice.body
    assert "jeton" not in notice.body
    assert (await sign_in(guichet_client)).status_code == 303  # the owner's password is unchanged
    assert ("account.create", "denied") in audit_actions(guichet_app)


async def test_a_stranger_who_registered_an_address_first_never_keeps_its_password(
    guichet_client: GuichetClient, guichet_app: Starlette
) -> None:
    await register(guichet_client, password="the stranger's password")  # never confirmed
    await register(guichet_client)  # the owner, later
    assert len(accounts(guichet_app)) == 1
    notice = message_of(guichet_app, "account.already-exists")
    link = link_in(notice.body)
    assert link.startswith("/compte/nouveau-mot-de-passe?jeton=")
    done = await choose_password(guichet_client, link, PASSWORD)
    assert done.status_code == 200
    [account] = accounts(guichet_app)
    assert account.email_verified_at is not None  # following the link proved the mailbox is theirs
    assert (await sign_in(guichet_client, password="the stranger's password")).status_code == 401
    assert (await sign_in(guichet_client)).status_code == 303


async def test_sending_the_same_registration_twice_sends_one_message(
    guichet_client: GuichetClient, guichet_app: Starlette
) -> None:
    first = await register(guichet_client)
    second = await register(guichet_client)
    assert main_text(first) == main_text(second)
    assert [m.kind for m in messages(guichet_app)] == ["account.verify-email"]
    assert len(accounts(guichet_app)) == 1


# Password reset ---------------------------------------------------------------------------------


async def test_password_reset_ends_old_sessions_and_the_link_serves_once(
    guichet_app: Starlette, guichet_client: GuichetClient
) -> None:
    await verified_account(guichet_client)
    assert (await sign_in(guichet_client)).status_code == 303
    assert await signed_in(guichet_client)

    async with GuichetClient(guichet_app) as other_browser:
        asked = await forgot(other_browser)
        assert asked.status_code == 200 and "choisir un nouveau mot de passe" in asked.text
        await forgot(other_browser)  # a double click
        message = message_of(guichet_app, "account.password-reset")
        assert message.recipient == ADDRESS
        link = link_in(message.body)
        form = await other_browser.get(link)
        assert form.status_code == 200 and 'autocomplete="new-password"' in form.text
        done = await choose_password(other_browser, link)
        assert done.status_code == 200 and "Mot de passe changé" in done.text
        again = await other_browser.get(link)
        assert again.status_code == 400 and "Ce lien ne fonctionne pas" in again.text
        replayed = await other_browser.post(
            "/compte/nouveau-mot-de-passe",
            data={"csrftoken": await other_browser.csrf_token("/compte/connexion"), "jeton": link.split("=", 1)[1],
                  "password": "a third long password", "password_confirmation": "a third long password"},
        )  # fmt: skip
        assert replayed.status_code == 400

    assert not await signed_in(guichet_client)  # the session opened before the reset is over
    assert (await sign_in(guichet_client)).status_code == 401
    assert (await sign_in(guichet_client, password=NEW_PASSWORD)).status_code == 303
    notice = message_of(guichet_app, "account.password-changed")
    assert notice.recipient == ADDRESS and "vient d'être changé" in notice.body
    reset = [entry for entry in audit(guichet_app) if entry.action == "account.password-reset"]
    assert [entry.outcome for entry in reset] == ["success", "failure"]
    assert reset[0].subject == subject_of(guichet_app)


async def test_an_expired_reset_link_is_refused(
    guichet_client: GuichetClient, guichet_app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    await verified_account(guichet_client)
    with monkeypatch.context() as patch:
        itsdangerous_clock(patch, -timedelta(minutes=61))
        await forgot(guichet_client)
    link = link_in(message_of(guichet_app, "account.password-reset").body)
    assert (await guichet_client.get(link)).status_code == 400
    assert (await sign_in(guichet_client)).status_code == 303  # the password did not change


async def test_an_expired_verification_link_is_refused(
    guichet_client: GuichetClient, guichet_app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as patch:
        itsdangerous_clock(patch, -timedelta(hours=49))
        await register(guichet_client)
    link = link_in(message_of(guichet_app, "account.verify-email").body)
    page = await guichet_client.get(link)
    assert page.status_code == 400 and 'action="/compte/verification/renvoyer"' in page.text
    posted = await guichet_client.post(
        "/compte/verification", data={"csrftoken": await guichet_client.csrf_token("/compte/connexion"),
                                      "jeton": link.split("=", 1)[1]}
    )  # fmt: skip
    assert posted.status_code == 400
    assert accounts(guichet_app)[0].email_verified_at is None


async def test_forgot_password_answers_alike_for_known_and_unknown_addresses(
    guichet_client: GuichetClient, guichet_app: Starlette
) -> None:
    await verified_account(guichet_client)
    await register(guichet_client, "claude@example.org")  # an account never confirmed
    before = len(messages(guichet_app))
    known = await forgot(guichet_client)
    unknown = await forgot(guichet_client, "dominique@example.org")
    unconfirmed = await forgot(guichet_client, "claude@example.org")
    assert known.status_code == unknown.status_code == unconfirmed.status_code == 200
    assert main_text(unknown).replace("dominique@example.org", ADDRESS) == main_text(known)
    assert main_text(unconfirmed).replace("claude@example.org", ADDRESS) == main_text(known)
    assert [m.recipient for m in messages(guichet_app)[before:]] == [ADDRESS]


# Refused input ----------------------------------------------------------------------------------


async def test_a_weak_password_is_refused_and_nothing_is_stored(
    guichet_client: GuichetClient, guichet_app: Starlette
) -> None:
    answer = await register(guichet_client, password="short")
    assert answer.status_code == 422
    assert "Le mot de passe doit compter au moins 12 caractères." in answer.text
    assert 'href="#champ-password"' in answer.text and 'aria-invalid="true"' in answer.text
    assert 'value="short"' not in answer.text  # a password is never written back into the page
    mismatch = await register(guichet_client, confirmation="a long and different password")
    assert mismatch.status_code == 422 and "ne sont pas identiques" in mismatch.text
    assert accounts(guichet_app) == [] and citizens(guichet_app) == [] and messages(guichet_app) == []


async def test_a_weak_new_password_is_refused_and_the_link_still_works(
    guichet_client: GuichetClient, guichet_app: Starlette
) -> None:
    await verified_account(guichet_client)
    await forgot(guichet_client)
    link = link_in(message_of(guichet_app, "account.password-reset").body)
    answer = await choose_password(guichet_client, link, "tiny")
    assert answer.status_code == 422 and "au moins 12 caractères" in answer.text
    assert (await sign_in(guichet_client)).status_code == 303  # unchanged
    assert (await choose_password(guichet_client, link)).status_code == 200


async def test_tampered_or_misused_tokens_are_refused(guichet_client: GuichetClient, guichet_app: Starlette) -> None:
    await register(guichet_client)
    await register(guichet_client, "dominique@example.org")
    verify_link = link_in(messages(guichet_app)[0].body)
    other_link = link_in(messages(guichet_app)[1].body)
    token = verify_link.split("=", 1)[1]
    rest = token.split(".", 1)[1]
    other_payload = other_link.split("=", 1)[1].split(".", 1)[0]
    for forged in (
        f"{other_payload}.{rest}",  # another account's id under this signature
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # a damaged signature
        "",
    ):
        page = await guichet_client.get(f"/compte/verification?jeton={forged}")
        assert page.status_code == 400
        posted = await guichet_client.post(
            "/compte/verification",
            data={"csrftoken": await guichet_client.csrf_token("/compte/connexion"), "jeton": forged},
        )
        assert posted.status_code == 400
    # a verification token is no reset token (each use signs with its own salt)
    assert (await guichet_client.get(f"/compte/nouveau-mot-de-passe?jeton={token}")).status_code == 400
    assert all(account.email_verified_at is None for account in accounts(guichet_app))
    assert ("account.verify", "failure") in audit_actions(guichet_app)


async def test_forms_without_the_csrf_token_are_refused(guichet_client: GuichetClient, guichet_app: Starlette) -> None:
    await guichet_client.get("/compte/creer")  # the CSRF cookie is set, the form field is missing
    fields = {"email": ADDRESS, "password": PASSWORD, "password_confirmation": PASSWORD}
    assert (await guichet_client.post("/compte/creer", data=fields)).status_code == 403
    assert (await guichet_client.post("/compte/connexion", data=fields)).status_code == 403
    assert (await guichet_client.post("/compte/mot-de-passe-oublie", data=fields)).status_code == 403
    assert (await guichet_client.post("/compte/verification/renvoyer", data=fields)).status_code == 403
    assert accounts(guichet_app) == [] and messages(guichet_app) == []


async def test_pages_in_english(guichet_client: GuichetClient, guichet_app: Starlette) -> None:
    guichet_client.headers["Accept-Language"] = "en"
    form = await guichet_client.get("/compte/creer")
    assert '<html lang="en">' in form.text and "Create an account" in form.text
    assert "What we keep" in form.text
    pages = [form, await register(guichet_client, password="short"), await register(guichet_client)]
    message = message_of(guichet_app, "account.verify-email")
    assert message.locale == "en" and "To finish creating your account" in message.body
    refused = await sign_in(guichet_client)
    assert "not confirmed yet" in refused.text
    link = link_in(message.body)
    pages += [refused, await guichet_client.get(link), await confirm(guichet_client, link)]
    for path in ("/compte/verification?jeton=forged", "/compte/mot-de-passe-oublie", "/compte/connexion"):
        pages.append(await guichet_client.get(path))
    pages.append(await forgot(guichet_client))
    reset_link = link_in(message_of(guichet_app, "account.password-reset").body)
    pages.append(await guichet_client.get(reset_link))
    pages.append(await choose_password(guichet_client, reset_link, "tiny"))
    pages.append(await choose_password(guichet_client, reset_link))
    pages.append(await guichet_client.get(reset_link))
    for page in pages:
        assert '<html lang="en">' in page.text
        assert untranslated_on(page.text) == [], page.url


# The outbox -------------------------------------------------------------------------------------


def test_messages_commit_with_the_action_or_not_at_all(guichet_app: Starlette) -> None:
    settings = guichet_app.state.registry.settings
    with pytest.raises(RuntimeError), guichet_app.state.db.session() as session:
        local_accounts.register(session, ADDRESS, PASSWORD, locale="fr", settings=settings, origin="test")
        assert session.exec(select(OutboxMessage)).first() is not None  # queued in this transaction
        raise RuntimeError("something fails after the message was queued")
    assert accounts(guichet_app) == [] and citizens(guichet_app) == [] and messages(guichet_app) == []
    assert audit(guichet_app) == []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Collector:
    def __init__(self) -> None:
        self.received: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Controller, Collector]]:
    collector = Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, collector
    controller.stop()


async def test_the_link_arrives_intact_through_a_real_smtp_server(
    guichet_client: GuichetClient,
    guichet_app: Starlette,
    guichet_config: ConfigFolder,
    smtp_server: tuple[Controller, Collector],
) -> None:
    controller, collector = smtp_server
    await register(guichet_client)
    guichet_config.set_gateway(smtp={"host": "127.0.0.1", "port": controller.port, "timeout_seconds": 5})
    report = deliver_due(guichet_app.state.db, load_settings(guichet_config.path))
    assert (report.sent, report.failed) == (1, 0)
    [envelope] = collector.received
    assert envelope.rcpt_tos == [ADDRESS]
    received = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert received["Subject"] == "Confirmez votre adresse électronique"
    assert received.get_content_type() == "text/plain"
    body = received.get_content()
    assert "<" not in body and "utm_" not in body  # plain text, nothing to track
    link = link_in(body)
    assert link == link_in(message_of(guichet_app, "account.verify-email").body)
    assert (await confirm(guichet_client, link)).status_code == 200
    assert (await sign_in(guichet_client)).status_code == 303
