"""`guichet users grant` and `withdraw`: the same rules and audit entries as the staff pages, from the command line."""

from __future__ import annotations

import pytest
from click.testing import CliRunner, Result
from sqlmodel import col, select

from gateway.cli import main
from gateway.db import Database
from gateway.identity import staff as staff_accounts
from gateway.identity.grants import grants_of
from gateway.models import AuditEntry
from gateway.testing import ConfigFolder, migrate

PASSWORD = "a long enough password"


@pytest.fixture
def deployment(config: ConfigFolder) -> ConfigFolder:
    config.enable_service("ville-a", "contact", topics=["voirie"], reply_within_days=15)
    migrate(f"sqlite:///{config.data_dir / 'guichet.db'}")
    created = run(config, "users", "create", "sam.agent", "--name", "Sam Agent", "--email", "sam@ville-a.example",
                  "--role", "agent:ville-a:contact", "--password-stdin", input=PASSWORD + "\n")  # fmt: skip
    assert created.exit_code == 0, created.output
    return config


def run(config: ConfigFolder, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(main, ["--config", str(config.path), *args], input=input, catch_exceptions=False)


def state(config: ConfigFolder) -> tuple[list[str], list[tuple[str, str, str | None]]]:
    """The account's roles, and every audit entry (action, actor, commune)."""
    database = Database(f"sqlite:///{config.data_dir / 'guichet.db'}")
    try:
        with database.session() as session:
            staff = staff_accounts.find(session, "sam.agent")
            assert staff is not None and staff.id is not None
            roles = [staff_accounts.grant_text(grant) for grant in grants_of(session, staff.id)]
            rows = session.exec(select(AuditEntry).order_by(col(AuditEntry.seq)))
            entries = [(row.action, row.actor_id, row.commune) for row in rows]
        return roles, entries
    finally:
        database.dispose()


def test_create_records_the_commune_of_the_account(deployment: ConfigFolder) -> None:
    assert ("staff.create", "system", "ville-a") in state(deployment)[1]


def test_grant_gives_a_role_and_records_it(deployment: ConfigFolder) -> None:
    result = run(deployment, "users", "grant", "sam.agent", "--role", "administrator:ville-a")
    assert result.exit_code == 0, result.output
    roles, entries = state(deployment)
    assert roles == ["agent:ville-a:contact:instructor", "administrator:ville-a"]
    assert entries[-1] == ("staff.grant", "system", "ville-a")


def test_withdraw_takes_a_role_back_and_records_it(deployment: ConfigFolder) -> None:
    run(deployment, "users", "grant", "sam.agent", "--role", "supervisor:ville-a")
    result = run(deployment, "users", "withdraw", "sam.agent", "--role", "agent:ville-a:contact")
    assert result.exit_code == 0, result.output
    roles, entries = state(deployment)
    assert roles == ["supervisor:ville-a"] and entries[-1] == ("staff.revoke", "system", "ville-a")


def test_withdrawing_the_last_role_is_refused(deployment: ConfigFolder) -> None:
    result = run(deployment, "users", "withdraw", "sam.agent", "--role", "agent:ville-a:contact")
    assert result.exit_code == 1 and "disable the account" in result.output
    assert state(deployment)[0] == ["agent:ville-a:contact:instructor"]


def test_granting_a_role_in_an_unknown_commune_is_refused(deployment: ConfigFolder) -> None:
    result = run(deployment, "users", "grant", "sam.agent", "--role", "supervisor:nowhere")
    assert result.exit_code == 2 and "no commune 'nowhere'" in result.output
