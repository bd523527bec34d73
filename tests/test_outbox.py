"""The outbox: messages queued in the caller's transaction, listed by the CLI, shown by the demo pages."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from gateway.app import create_app
from gateway.cli import main
from gateway.db import Database
from gateway.models import OutboxMessage
from gateway.notify.outbox import enqueue, masked, sender_domain, state_of
from gateway.testing import ConfigFolder, GuichetClient, migrate

NOW = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)


@pytest.fixture
def db(guichet_database_url: str) -> Iterator[Database]:
    database = Database(guichet_database_url)
    yield database
    database.dispose()


def message(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "kind": "account.verify-email",
        "dedupe_key": "verify-email:1",
        "recipient": "camille.martin@example.org",
        "subject": "Confirmez votre adresse",
        "body": "Bonjour,\n\nConfirmez votre adresse : https://guichet.example/compte/confirmer?t=abc\n",
        "now": NOW,
        "domain": "guichet.example",
    }
    return {**values, **overrides}


def rows(db: Database) -> list[OutboxMessage]:
    with db.session() as session:
        return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))))


# enqueue ---------------------------------------------------------------------------------------


def test_enqueued_message_commits_with_the_transaction(db: Database) -> None:
    with db.session() as session:
        enqueue(session, **message())
    [row] = rows(db)
    assert (row.kind, row.recipient, row.locale, row.attempts) == (
        "account.verify-email",
        "camille.martin@example.org",
        "fr",
        0,
    )
    assert row.sent_at is None and row.failed_at is None and row.claimed_by is None


def test_enqueue_in_a_rolled_back_transaction_leaves_nothing(db: Database) -> None:
    class ActionFailed(Exception):
        pass

    with pytest.raises(ActionFailed), db.session() as session:
        enqueue(session, **message())
        raise ActionFailed
    assert rows(db) == []


def test_same_dedupe_key_twice_gives_one_row(db: Database) -> None:
    with db.session() as session:
        first = enqueue(session, **message())
        again = enqueue(session, **message(subject="Autre objet"))
    with db.session() as session:
        later = enqueue(session, **message(subject="Encore un autre"))
    assert first.id == again.id == later.id
    [row] = rows(db)
    assert row.subject == "Confirmez votre adresse"


def test_different_dedupe_keys_give_different_messages(db: Database) -> None:
    with db.session() as session:
        enqueue(session, **message())
        enqueue(session, **message(dedupe_key="verify-email:2"))
    first, second = rows(db)
    assert first.message_id != second.message_id


@pytest.mark.parametrize("guichet_database_url", ["postgresql"], indirect=True)
def test_racing_duplicate_is_refused_not_swallowed(db: Database) -> None:
    outcome: list[BaseException | OutboxMessage] = []

    def second_transaction() -> None:
        try:
            with db.session() as session:
                outcome.append(enqueue(session, **message(subject="En même temps")))
        except BaseException as error:
            outcome.append(error)

    with db.session() as session:
        enqueue(session, **message())
        racer = threading.Thread(target=second_transaction)
        racer.start()
        time.sleep(0.3)  # the racer does not see this uncommitted row and waits on the unique index
    racer.join(timeout=10)
    [result] = outcome
    assert isinstance(result, IntegrityError)
    assert len(rows(db)) == 1


def test_message_is_due_at_once_with_a_message_id_of_the_sender_domain(db: Database) -> None:
    with db.session() as session:
        enqueue(session, **message())
    [row] = rows(db)
    assert row.next_attempt_at == row.created_at
    assert row.message_id.startswith("<") and row.message_id.endswith("@guichet.example>")


def test_given_message_id_is_kept(db: Database) -> None:
    with db.session() as session:
        enqueue(session, **message(message_id="<verify-1@ville.example>"))
    assert rows(db)[0].message_id == "<verify-1@ville.example>"


def test_sender_domain_is_read_from_the_configured_sender() -> None:
    assert sender_domain("Guichet (démonstration) <ne-pas-repondre@guichet.example>") == "guichet.example"
    assert sender_domain("ne-pas-repondre@ville.example") == "ville.example"


def test_recipient_address_is_normalised(db: Database) -> None:
    with db.session() as session:
        enqueue(session, **message(recipient="Camille.Martin@Example.ORG"))
    assert rows(db)[0].recipient == "Camille.Martin@example.org"


@pytest.mark.parametrize(
    "overrides",
    [
        {"subject": "Bonjour\r\nBcc: everyone@example.org"},
        {"subject": "Bonjour\nBcc: everyone@example.org"},
        {"recipient": "camille@example.org\r\nBcc: everyone@example.org"},
        {"recipient": "camille@example.org\n"},
        {"message_id": "<a@b>\r\nBcc: everyone@example.org"},
    ],
    ids=["subject-crlf", "subject-lf", "recipient-crlf", "recipient-lf", "message-id-crlf"],
)
def test_header_injection_is_refused(db: Database, overrides: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="line breaks"), db.session() as session:
        enqueue(session, **message(**overrides))
    assert rows(db) == []


@pytest.mark.parametrize("recipient", ["camille", "camille@", "@example.org", "camille@@example.org", ""])
def test_invalid_recipient_is_refused(db: Database, recipient: str) -> None:
    with pytest.raises(ValueError, match="not a valid e-mail address"), db.session() as session:
        enqueue(session, **message(recipient=recipient))


def test_overlong_subject_is_refused(db: Database) -> None:
    with pytest.raises(ValueError, match="subject"), db.session() as session:
        enqueue(session, **message(subject="x" * 201))


def test_masked_address_keeps_the_first_letter_and_the_domain() -> None:
    assert masked("camille.martin@example.org") == "c***@example.org"
    assert masked("not-an-address") == "***"


def test_state_follows_sent_and_failed_times() -> None:
    row = OutboxMessage(**{k: v for k, v in message().items() if k not in {"now", "domain"}}, message_id="<x@y>")
    assert state_of(row) == "pending"
    row.failed_at = NOW
    assert state_of(row) == "failed"
    row.sent_at = NOW
    assert state_of(row) == "sent"


# guichet outbox list ---------------------------------------------------------------------------


def run(config: ConfigFolder, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config.path), *args], catch_exceptions=False)


def test_outbox_list_counts_states_and_masks_addresses(config: ConfigFolder) -> None:
    url = f"sqlite:///{config.data_dir / 'guichet.db'}"
    migrate(url)
    database = Database(url)
    with database.session() as session:
        for number, recipient in enumerate(["camille@example.org", "dominique@example.org", "eve@example.net"]):
            enqueue(
                session, **message(dedupe_key=f"k{number}", recipient=recipient, now=NOW + timedelta(minutes=number))
            )
    with database.session() as session:
        sent, failed = session.get(OutboxMessage, 1), session.get(OutboxMessage, 2)
        assert sent is not None and failed is not None
        sent.sent_at = NOW
        failed.failed_at, failed.attempts = NOW, 8
        session.add_all([sent, failed])
    database.dispose()
    result = run(config, "outbox", "list")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "pending 1, sent 1, failed 1"
    assert lines[1].split() == ["id", "kind", "recipient", "state", "attempts"]
    assert [line.split() for line in lines[2:]] == [
        ["3", "account.verify-email", "e***@example.net", "pending", "0"],
        ["2", "account.verify-email", "d***@example.org", "failed", "8"],
        ["1", "account.verify-email", "c***@example.org", "sent", "0"],
    ]
    assert "camille" not in result.output


def test_outbox_list_of_an_empty_outbox(config: ConfigFolder) -> None:
    migrate(f"sqlite:///{config.data_dir / 'guichet.db'}")
    assert run(config, "outbox", "list").output == "pending 0, sent 0, failed 0\n"


@pytest.mark.parametrize("command", [["outbox"], ["outbox", "deliver"], ["outbox", "list"]], ids=" ".join)
def test_outbox_commands_have_help(command: list[str]) -> None:
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0 and "Usage: guichet" in result.output


# Demo pages ------------------------------------------------------------------------------------


def add_to(client: GuichetClient, **overrides: Any) -> int:
    db: Database = client.app.state.db
    with db.session() as session:
        row = enqueue(session, **message(**overrides))
    assert row.id is not None
    return row.id


async def test_demo_page_lists_recent_messages(guichet_client: GuichetClient) -> None:
    add_to(guichet_client)
    add_to(guichet_client, dedupe_key="k2", subject="Votre demande est acceptée", recipient="dominique@example.org")
    response = await guichet_client.get("/demo/courriels")
    assert response.status_code == 200
    page = response.text
    assert "n'existe que sur le site de démonstration" in page
    assert "<caption>" in page and '<th scope="col">Destinataire</th>' in page
    assert page.index("Votre demande est acceptée") < page.index("Confirmez votre adresse")  # newest first
    assert "dominique@example.org" in page and "en attente d'envoi" in page
    assert '<a href="/demo/courriels/2" lang="fr">Votre demande est acceptée</a>' in page


async def test_demo_page_shows_a_message_as_plain_escaped_text(guichet_client: GuichetClient) -> None:
    body = 'Bonjour <b>Camille</b>,\n<script>alert("x")</script>\nhttps://guichet.example/reset?t=1&u=2\n'
    message_id = add_to(guichet_client, subject="Réinitialisez <i>votre</i> mot de passe", body=body)
    response = await guichet_client.get(f"/demo/courriels/{message_id}")
    assert response.status_code == 200
    page = response.text
    assert "<script>alert" not in page and "<b>Camille" not in page and "<i>votre" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert "https://guichet.example/reset?t=1&amp;u=2" in page
    assert 'href="https://guichet.example' not in page  # a link in a body is text, not a link
    assert "Réinitialisez &lt;i&gt;votre&lt;/i&gt; mot de passe" in page
    assert "camille.martin@example.org" in page and "@guichet.example&gt;" in page  # recipient, Message-ID


async def test_demo_page_is_never_cached(guichet_client: GuichetClient) -> None:
    response = await guichet_client.get("/demo/courriels")
    assert response.headers["cache-control"] == "no-store"


async def test_demo_page_of_an_unknown_message_is_404(guichet_client: GuichetClient) -> None:
    assert (await guichet_client.get("/demo/courriels/999")).status_code == 404


async def test_demo_pages_are_not_in_the_api_document(guichet_client: GuichetClient) -> None:
    document = (await guichet_client.get("/openapi.json")).json()
    assert not [path for path in document["paths"] if path.startswith("/demo")]


async def test_demo_page_in_english(guichet_client: GuichetClient) -> None:
    message_id = add_to(guichet_client)
    guichet_client.headers["Accept-Language"] = "en"
    listing = await guichet_client.get("/demo/courriels")
    shown = await guichet_client.get(f"/demo/courriels/{message_id}")
    assert "This page only exists on the demo site." in listing.text and "Recipient" in listing.text
    assert "Message text" in shown.text


@pytest.fixture
def production_client(
    guichet_config: ConfigFolder, guichet_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[GuichetClient]:
    monkeypatch.setenv("GUICHET_TEST_SECRET", "p" * 40)
    guichet_config.set_gateway(
        gateway={"demo": False},
        demo_identity={"enabled": False},
        secret_key={"env": "GUICHET_TEST_SECRET", "generate_if_missing": False},
        audit={"generate_if_missing": False},
        database={"url": guichet_database_url},
    )
    app = create_app(guichet_config.path)
    yield GuichetClient(app)
    app.state.db.dispose()


@pytest.mark.parametrize("path", ["/demo/courriels", "/demo/courriels/1"])
async def test_demo_pages_do_not_exist_outside_demo_mode(production_client: GuichetClient, path: str) -> None:
    db: Database = production_client.app.state.db
    with db.session() as session:
        enqueue(session, **message())
    async with production_client:
        response = await production_client.get(path)
    assert response.status_code == 404
    assert "Confirmez votre adresse" not in response.text


async def test_demo_mail_pages_are_not_served_by_a_public_demo(
    guichet_config: ConfigFolder, guichet_database_url: str
) -> None:
    guichet_config.set_gateway(
        gateway={"public_base_url": "https://demo.guichet.example"},
        demo_identity={"enabled": False},
        database={"url": guichet_database_url},
    )
    app = create_app(guichet_config.path)
    async with GuichetClient(app) as client:
        response = await client.get("/demo/courriels")
    app.state.db.dispose()
    assert response.status_code == 404
