"""Upgrading in place: a database the previous release made, upgraded by ``guichet db upgrade``, reads back whole.

The previous release is commit dcf0bf7 ("gateway re-exports the public plugin
API from its one list in gateway.plugin", 2026-12-03): the last commit on main
before this turn's format changes — the first of them, the merge of audit
trust (1f4ddc1: signed prune records, checkpoints held outside, the audit
tables' guards, stored Merkle tiles) comes right after it, then typed form
values (field kinds, 35b39b2) and the rest. Its database is at migration 0005.

The fixture under tests/fixtures/previous_release/ was written by that
commit's own code (its ``demo seed``, then its ``demo seed --requests 60``):
``python -m tests.make_upgrade_fixture`` makes it again (see that script and
docs/operations.md). This test needs only the committed files.

After the upgrade: the old log and its old checkpoints verify with today's
verifier; every filed request reads back through the agents' API and, when a
citizen filed it, through that citizen's (pages too, one per service and per
citizen); the answers are the ones stored;
and the log, grown by those reads, is sealed and verifies again.
"""

from __future__ import annotations

import gzip
import json
import secrets
import shutil
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.db import Database
from gateway.identity import staff as staff_accounts
from gateway.identity.sessions import COOKIE, cookie_value, open_session
from gateway.testing import ConfigFolder, GuichetClient
from gateway.testing.databases import TEST_DATABASE_ENV, fresh_postgres_schema, postgres_server_url, skip_or_fail
from tests.guichet_commands import assert_sealed_and_verified, run_guichet

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "previous_release"
PREVIOUS_HEAD = "0005"


@dataclass(frozen=True)
class OldRequest:
    """A filed request as the previous release stored it, read with plain SQL before the upgrade."""

    reference: str
    public_id: str
    commune: str
    service: str
    status: str
    citizen_id: int | None
    data: dict[str, Any]


def load_postgresql(url: str, schema: str) -> None:
    """Run the previous release's dump (plain SQL) into ``schema``, which exists and is empty."""
    dump = gzip.decompress((FIXTURE / "postgresql.sql.gz").read_bytes()).decode("utf-8")
    engine = create_engine(make_url(url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(dump.replace("__SCHEMA__", f'"{schema}"'))
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def previous(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ConfigFolder]:
    """Today's demo deployment folder on the previous release's database, data folder and keys, not upgraded."""
    for name in ("GUICHET_PUBLIC_BASE_URL", "GUICHET_DATABASE_URL", "GUICHET_SECRET_KEY", "GUICHET_AUDIT_SIGNING_KEY"):
        monkeypatch.delenv(name, raising=False)
    config = ConfigFolder.demo(tmp_path)
    shutil.copyfile(FIXTURE / "secret-key", tmp_path / "secret")
    shutil.copyfile(FIXTURE / "audit-signing-key", tmp_path / "audit-key")
    config.data_dir.mkdir(parents=True, exist_ok=True)
    with tarfile.open(FIXTURE / "files.tar.gz") as archive:
        archive.extractall(config.data_dir, filter="data")
    if request.param == "sqlite":
        database = config.data_dir / "guichet.db"
        database.write_bytes(gzip.decompress((FIXTURE / "guichet.db.gz").read_bytes()))
        config.set_gateway(database={"url": f"sqlite:///{database}"})
        yield config
        return
    server = postgres_server_url()
    if server is None:
        skip_or_fail(f"PostgreSQL tests skipped: {TEST_DATABASE_ENV} is not set (CI sets it; see README)")
    schema = fresh_postgres_schema(server)
    with schema as url:
        load_postgresql(url, schema.schema)
        config.set_gateway(database={"url": url})
        yield config


def engine_of(url: str) -> Engine:
    return create_engine(make_url(url.replace("postgresql://", "postgresql+psycopg://", 1)))


def migration_state(url: str) -> tuple[str | None, str | None]:
    """The Alembic revision the database is at, and today's head."""
    database = Database(url)
    try:
        return database.migration_state()
    finally:
        database.dispose()


def old_requests(url: str) -> list[OldRequest]:
    engine = engine_of(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT reference, public_id, commune, service, status, citizen_id, data FROM service_request "
                    "WHERE reference IS NOT NULL ORDER BY reference"
                )
            ).all()
    finally:
        engine.dispose()
    return [
        OldRequest(
            row[0], row[1], row[2], row[3], row[4], row[5], row[6] if isinstance(row[6], dict) else json.loads(row[6])
        )
        for row in rows
    ]


def database_url(config: ConfigFolder) -> str:
    url: str = config.read("gateway.toml")["database"]["url"]
    return url


def signed_in(client: GuichetClient, app: Starlette, kind: str, user_id: int) -> None:
    """Give ``client`` a live session of citizen or staff member ``user_id``, as a finished sign-in does."""
    with app.state.db.session() as session:
        session_id = open_session(session, kind, user_id)  # type: ignore[arg-type]
    client.cookies.set(COOKIE, cookie_value(app.state.registry.settings.secret_key, session_id))


def reader_of_everything(app: Starlette, requests: list[OldRequest]) -> int:
    """A staff account reading every service of every commune the old requests are in."""
    pairs = sorted({(row.commune, row.service) for row in requests})
    grants = [staff_accounts.parse_grant(f"agent:{commune}:{service}:reader") for commune, service in pairs]
    with app.state.db.session() as session:
        staff = staff_accounts.create(session, username=f"lecteur.{secrets.token_hex(3)}", display_name="Lecteur",
                                      email="lecteur@guichet.example", password="a long enough test password",
                                      grants=grants)  # fmt: skip
        assert staff.id is not None
        return staff.id


def same_answers(shown: dict[str, Any], stored: dict[str, Any]) -> bool:
    """The answers as the API shows them are the ones the old release stored (text then; maybe typed now)."""
    return {key: value for key, value in shown.items() if key in stored} == stored


async def test_a_previous_release_database_upgrades_in_place_reads_back_and_verifies(previous: ConfigFolder) -> None:
    url = database_url(previous)
    current, head = migration_state(url)
    assert current is not None and current.startswith(PREVIOUS_HEAD) and head != current  # the previous release's
    requests = old_requests(url)
    assert len(requests) >= 60 and any(row.citizen_id for row in requests)

    upgraded = run_guichet(previous, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    current, head = migration_state(url)
    assert current == head

    # the old entries and the old release's checkpoints, checked by today's verifier (its seal is old: age not at
    # issue here, so the freshness rule is off for this first run)
    previous.set_gateway(audit={"max_checkpoint_age_minutes": 0})
    verified = run_guichet(previous, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.startswith("audit log verified: entries 0 to ")

    app = create_app(previous.path)
    try:
        async with GuichetClient(app) as agent:
            signed_in(agent, app, "staff", reader_of_everything(app, requests))
            for row in requests:
                answer = await agent.get(f"/api/v1/communes/{row.commune}/requests/{row.reference}")
                assert answer.status_code == 200, (row.reference, answer.text)
                case = answer.json()
                assert (case["reference"], case["status"]) == (row.reference, row.status)
                assert same_answers(case["data"], row.data), (row.reference, case["data"], row.data)
            for row in {(row.commune, row.service): row for row in requests}.values():  # a page per service
                page = await agent.get(f"/agents/{row.commune}/demandes/{row.reference}")
                assert page.status_code == 200 and row.reference in page.text, row.reference
        for citizen_id in sorted({row.citizen_id for row in requests if row.citizen_id is not None}):
            async with GuichetClient(app) as citizen:
                signed_in(citizen, app, "citizen", citizen_id)
                listed = await citizen.get("/api/v1/me/requests")
                assert listed.status_code == 200
                theirs = [row for row in requests if row.citizen_id == citizen_id]
                shown = {summary["reference"] for summary in listed.json()["requests"]}
                assert {row.reference for row in theirs} <= shown
                page = await citizen.get(f"/mes-demandes/{theirs[0].public_id}")
                assert page.status_code == 200 and theirs[0].reference in page.text
                for row in theirs:
                    answer = await citizen.get(f"/api/v1/me/requests/{row.public_id}")
                    assert answer.status_code == 200, (row.reference, answer.text)
                    assert answer.json()["reference"] == row.reference
                    assert same_answers(answer.json()["data"], row.data), row.reference
    finally:
        app.state.db.dispose()

    # the log grew with those reads, after the old entries: sealed today and verified with today's freshness rule
    previous.set_gateway(audit={"max_checkpoint_age_minutes": 1440})
    assert_sealed_and_verified(previous)
