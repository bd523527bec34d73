"""Fixtures for testing Guichet and its plugins (loaded as a pytest plugin).

A plugin's tests get a real gateway: a temporary deployment folder, a real
database (SQLite, and PostgreSQL when ``GUICHET_TEST_DATABASE_URL`` is set),
migrated with the real migrations, and an HTTP client talking to the ASGI app.

    async def test_my_service(guichet_client):
        response = await guichet_client.get("/venissieux/my-service")

Fixtures:
    guichet_config       a ConfigFolder: a copy of the demo configuration to edit
    guichet_database_url a migrated, empty database, once per backend
    guichet_app          the app built from both
    guichet_client       an httpx.AsyncClient on it, with a working CSRF token
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tomllib
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, NoReturn

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import col, select
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.audit.events import pseudonym
from gateway.communes import Commune
from gateway.db import Database
from gateway.identity import staff as staff_accounts
from gateway.identity.principal import Principal
from gateway.models import AuditEntry, Citizen, OutboxMessage, ServiceRequest
from gateway.request_handle import RequestHandle
from gateway.requests.backoffice.commands import BackOfficeCommands
from gateway.requests.backoffice.queries import BackOfficeQueries
from gateway.requests.caller import Caller
from gateway.requests.clock import aware
from gateway.requests.lifecycle import CitizenRequests
from gateway.requests.submission_keys import new_submission_key
from gateway.services import FieldError, FormValues
from gateway.settings import DEFAULT_CONFIG_DIR
from gateway.web.callers import identity_of

TEST_DATABASE_ENV = "GUICHET_TEST_DATABASE_URL"
REQUIRE_ALL_ENV = "GUICHET_TEST_REQUIRE_ALL"
BASE_URL = "http://testserver"
_CSRF_INPUT = re.compile(r'name="csrftoken" value="([^"]+)"')


class ConfigFolder:
    """A deployment folder in a temporary directory, seeded from ``config/``.

    Edit it with :meth:`set_gateway`, :meth:`set_commune` and :meth:`remove_commune`;
    values are written back as TOML so what is tested is what an operator writes.
    """

    def __init__(self, root: Path, source: Path = DEFAULT_CONFIG_DIR) -> None:
        self.path = root / "config"
        shutil.copytree(source, self.path)
        self.data_dir = root / "var"
        self.set_gateway(
            storage={"data_dir": str(self.data_dir)},
            secret_key={"env": "GUICHET_TEST_UNSET_SECRET", "file": str(root / "secret"), "generate_if_missing": True},
            # no demo witnesses: they listen on fixed ports; a test that wants witnesses names its own
            audit={
                "signing_key_env": "GUICHET_TEST_UNSET_AUDIT_KEY",
                "signing_key_file": str(root / "audit-key"),
                "witnesses": [],
            },
            # every test client files from one address, many times over: the limits are out of the way unless a
            # test sets them (tests/test_filing_limits.py)
            filing_limits={
                "anonymous_per_origin": 100_000,
                "receipts_per_address": 10_000,
                "receipts_per_origin": 100_000,
            },
        )

    def read(self, relative: str) -> dict[str, Any]:
        with (self.path / relative).open("rb") as handle:
            return tomllib.load(handle)

    def write(self, relative: str, data: dict[str, Any]) -> None:
        (self.path / relative).write_text(dumps_toml(data), encoding="utf-8")

    def set_gateway(self, **sections: dict[str, Any]) -> None:
        data = self.read("gateway.toml")
        for name, values in sections.items():
            data.setdefault(name, {}).update(values)
        self.write("gateway.toml", data)

    def set_commune(self, slug: str, /, **values: Any) -> None:
        relative = f"communes/{slug}.toml"
        data = self.read(relative) if (self.path / relative).exists() else {}
        data.update(values)
        self.write(relative, data)

    def remove_commune(self, slug: str) -> None:
        (self.path / "communes" / f"{slug}.toml").unlink()


def dumps_toml(data: dict[str, Any]) -> str:
    """A small TOML writer for the value kinds configuration files use."""
    lines: list[str] = []
    tables: list[tuple[str, dict[str, Any]]] = []
    for key, value in data.items():
        if isinstance(value, dict):
            tables.append((key, value))
        else:
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    for name, table in tables:
        _write_table(lines, name, table)
    return "\n".join(lines) + "\n"


def _write_table(lines: list[str], name: str, table: dict[str, Any]) -> None:
    lines.append(f"\n[{name}]")
    nested = []
    for key, value in table.items():
        if isinstance(value, dict):
            nested.append((f"{name}.{_toml_key(key)}", value))
        else:
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    for sub_name, sub_table in nested:
        _write_table(lines, sub_name, sub_table)


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_value(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, dict):  # an inline table, e.g. in an array of tables
        return "{" + ", ".join(f"{_toml_key(key)} = {_toml_value(item)}" for key, item in value.items()) + "}"
    raise TypeError(f"cannot write {value!r} as TOML")


@pytest.fixture
def guichet_config(tmp_path: Path) -> ConfigFolder:
    return ConfigFolder(tmp_path)


def skip_or_fail(reason: str) -> NoReturn:
    """Skip with ``reason`` on a laptop; fail in CI, where every test must run."""
    if os.environ.get(REQUIRE_ALL_ENV):
        pytest.fail(f"{reason} — and {REQUIRE_ALL_ENV} is set, so nothing may be skipped")
    pytest.skip(reason)


def postgres_server_url() -> str | None:
    return os.environ.get(TEST_DATABASE_ENV) or None


@pytest.fixture(params=["sqlite", "postgresql"])
def guichet_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty, migrated database: SQLite in a temporary file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'guichet.db'}"
        migrate(url)
        yield url
        return
    server = postgres_server_url()
    if server is None:
        skip_or_fail(f"PostgreSQL tests skipped: {TEST_DATABASE_ENV} is not set (CI sets it; see README)")
    with fresh_postgres_schema(server) as url:
        migrate(url)
        yield url


def migrate(url: str) -> None:
    database = Database(url)
    try:
        database.upgrade()
    finally:
        database.dispose()


class fresh_postgres_schema:
    """A schema of its own on the test server, dropped afterwards; its URL sets search_path."""

    def __init__(self, server_url: str) -> None:
        base = make_url(server_url.replace("postgresql://", "postgresql+psycopg://", 1))
        self.admin = create_engine(base, isolation_level="AUTOCOMMIT")
        self.schema = f"guichet_test_{secrets.token_hex(6)}"
        self.url = base.update_query_dict({"options": f"-csearch_path={self.schema}"}).render_as_string(
            hide_password=False
        )

    def __enter__(self) -> str:
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{self.schema}"'))
        return self.url

    def __exit__(self, *_exc: object) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{self.schema}" CASCADE'))
        self.admin.dispose()


@pytest.fixture
def guichet_app(guichet_config: ConfigFolder, guichet_database_url: str) -> Iterator[Starlette]:
    guichet_config.set_gateway(database={"url": guichet_database_url})
    app = create_app(guichet_config.path)
    yield app
    app.state.db.dispose()


@pytest_asyncio.fixture
async def guichet_client(guichet_app: Starlette) -> AsyncIterator[GuichetClient]:
    async with GuichetClient(guichet_app) as client:
        yield client


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
    """Create a staff account with ``roles`` (e.g. ``auditor:corbas``) and sign ``client`` in, both factors."""
    import time

    from gateway.identity import totp

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
    client: GuichetClient, *, given_name: str = "Camille", family_name: str = "Exemple", email: str | None = None
) -> int:
    """Create a federated citizen and give ``client`` a live session for them; return the citizen's id.

    For tests of what signed-in citizens see; the sign-in flows themselves are
    tested against the demo identity provider.
    """
    from gateway.identity.sessions import COOKIE, cookie_value, open_session

    db = client.app.state.db
    with db.session() as session:
        citizen = Citizen(public_id=secrets.token_hex(16), issuer="https://idp.test", sub=secrets.token_hex(8),
                          given_name=given_name, family_name=family_name, email=email,
                          created_at=datetime.now(UTC))  # fmt: skip
        session.add(citizen)
        session.flush()
        assert citizen.id is not None
        session_id = open_session(session, "citizen", citizen.id)
        citizen_id = citizen.id
    client.cookies.set(COOKIE, cookie_value(client.app.state.registry.settings.secret_key, session_id))
    return citizen_id


# The service as a citizen and an agent use it -------------------------------------------------------
#
# A plugin's tests drive its service through these helpers (or through HTTP with GuichetClient), never
# through the core's modules: each step is the one a page or the API takes, on the app's real database,
# with the plugin's form, checks and workflow. What they return are plain, frozen views of what is
# stored, so a test reads results without knowing the core's tables.

# What the helpers raise when the core refuses a step, re-exported so a plugin's test names them from here:
# each is a RequestError with the HTTP ``status`` and the ``reason`` (Localized) a page or the API would give.
from gateway.requests.errors import ActionNotAllowed as ActionNotAllowed  # noqa: E402  (a step not allowed now)
from gateway.requests.errors import InvalidInput as InvalidInput  # noqa: E402  (a transition's reason or comment)
from gateway.requests.errors import RequestError as RequestError  # noqa: E402  (their base)
from gateway.requests.errors import ServiceNotOffered as ServiceNotOffered  # noqa: E402  (not enabled there: 404)
from gateway.settings import ConfigError as ConfigError  # noqa: E402  (a configuration build_app refuses)


@dataclass(frozen=True)
class FiledRequest:
    """A request as it is stored: what a test checks after a step (times are aware, in UTC)."""

    public_id: str
    reference: str | None
    commune: str
    service: str
    status: str
    version: int
    data: FormValues
    summary: str | None
    submitted_at: datetime | None
    decided_at: datetime | None
    purge_after: datetime | None

    @classmethod
    def of(cls, row: ServiceRequest) -> FiledRequest:
        return cls(public_id=row.public_id, reference=row.reference, commune=row.commune, service=row.service,
                   status=row.status, version=row.version, data=MappingProxyType(dict(row.data)), summary=row.summary,
                   submitted_at=aware(row.submitted_at), decided_at=aware(row.decided_at),
                   purge_after=aware(row.purge_after))  # fmt: skip


@dataclass(frozen=True)
class Submission:
    """What submitting a form gave: the request (still a draft when ``errors`` is not empty) and the errors."""

    request: FiledRequest
    errors: Sequence[FieldError]


@dataclass(frozen=True)
class QueuedMessage:
    """A mail waiting in the outbox, as the citizen would receive it."""

    kind: str
    recipient: str
    locale: str
    subject: str
    body: str


@dataclass(frozen=True)
class AuditRecord:
    """One entry of the audit log (who is ``actor_id``, about whom is ``subject``, a pseudonym)."""

    action: str
    outcome: str
    actor_id: str
    subject: str | None
    purpose: str
    commune: str | None
    service: str | None
    resource: str


@dataclass(frozen=True)
class AgentView:
    """A request's file as an agent opens it: may they act, and which transitions they are offered."""

    request: FiledRequest
    can_act: bool
    transitions: Sequence[str]


@dataclass(frozen=True)
class TestCitizen:
    """A citizen signed in through a verified identity; pass it to the citizen's steps."""

    __test__ = False  # not a test class, whatever its name
    caller: Caller
    public_id: str
    #: how the audit log names this citizen (see :func:`audit_records`)
    pseudonym: str


@dataclass(frozen=True)
class TestAgent:
    """A staff member with their grants, signed in with both factors; pass it to the agent's steps."""

    __test__ = False
    caller: Caller
    #: how the audit log names this agent
    actor_id: str


def verified_citizen(
    app: Starlette,
    *,
    given_name: str = "Camille",
    family_name: str = "Exemple",
    email: str | None = None,
    claims: Mapping[str, str] | None = None,
    locale: str = "fr",
) -> TestCitizen:
    """A citizen who signed in through a federated provider, with ``claims`` (e.g. ``birthdate``) verified."""
    with app.state.db.session() as session:
        row = Citizen(public_id=secrets.token_hex(16), issuer="https://franceconnect.test", sub=secrets.token_hex(8),
                      given_name=given_name, family_name=family_name, email=email, claims=dict(claims or {}),
                      created_at=datetime.now(UTC))  # fmt: skip
        session.add(row)
        session.flush()
        assert row.id is not None
        identity, citizen_id, public_id = identity_of(row), row.id, row.public_id
    principal = Principal("citizen", secrets.token_hex(8), citizen_id, public_id, given_name, datetime.now(UTC))
    caller = Caller(actor=principal.actor(), origin="test", locale=locale, citizen_id=citizen_id,
                    citizen_public_id=public_id, identity=identity)  # fmt: skip
    subject = pseudonym(app.state.registry.settings.secret_key, "citizen", public_id)
    return TestCitizen(caller=caller, public_id=public_id, pseudonym=subject)


def staff_member(app: Starlette, username: str, *grants: str) -> TestAgent:
    """A staff account with ``grants`` (e.g. ``agent:givors:contact:instructor``), as the back office sees it."""
    parsed = [staff_accounts.parse_grant(grant) for grant in grants]
    with app.state.db.session() as session:
        row = staff_accounts.create(session, username=username, display_name=username.title(),
                                    email=f"{username}@guichet.example", password=STAFF_PASSWORD,
                                    grants=parsed)  # fmt: skip
        assert row.id is not None
        staff_id = row.id
    principal = Principal("staff", secrets.token_hex(8), staff_id, username, username.title(), datetime.now(UTC),
                          grants=tuple(parsed))  # fmt: skip
    caller = Caller(actor=principal.actor("agent"), origin="test", principal=principal)
    return TestAgent(caller=caller, actor_id=f"staff:{staff_id}")


def start_draft(app: Starlette, citizen: TestCitizen, commune: str, service: str) -> FiledRequest:
    """Open a new draft as the citizen does from the service's page (prefilled by the plugin)."""
    requests = CitizenRequests(app.state.db, app.state.registry)
    return FiledRequest.of(requests.start_draft(citizen.caller, commune, service, submission_key=new_submission_key()))


def submit_request(app: Starlette, citizen: TestCitizen, public_id: str, answers: FormValues) -> Submission:
    """Submit the citizen's draft with ``answers`` (the whole form): a reference, or the form's errors."""
    outcome = CitizenRequests(app.state.db, app.state.registry).submit(citizen.caller, public_id, dict(answers))
    return Submission(FiledRequest.of(outcome.request), tuple(outcome.errors))


def withdraw_request(app: Starlette, citizen: TestCitizen, public_id: str) -> FiledRequest:
    """The citizen withdraws their undecided request."""
    return FiledRequest.of(CitizenRequests(app.state.db, app.state.registry).withdraw(citizen.caller, public_id))


def citizens_requests(app: Starlette, citizen: TestCitizen) -> list[FiledRequest]:
    """The requests the citizen sees in their space."""
    return [FiledRequest.of(row) for row in CitizenRequests(app.state.db, app.state.registry).mine(citizen.caller)]


def open_file(app: Starlette, agent: TestAgent, commune: str, reference: str) -> AgentView:
    """Open a request's file in the back office, as an agent does (the read is audited)."""
    case = BackOfficeQueries(app.state.db, app.state.registry).case(agent.caller, commune, reference)
    return AgentView(FiledRequest.of(case.request), case.can_act, tuple(t.name for t in case.transitions))


def take_transition(
    app: Starlette,
    agent: TestAgent,
    commune: str,
    reference: str,
    name: str,
    *,
    expected_version: int | None = None,
    reason: str = "",
    comment: str = "",
) -> FiledRequest:
    """Take the workflow transition ``name`` on a request, as an agent does from its file."""
    commands = BackOfficeCommands(app.state.db, app.state.registry)
    row = commands.transition(
        agent.caller, commune, reference, name, expected_version=expected_version, reason=reason, comment=comment
    )
    return FiledRequest.of(row)


def stored_request(app: Starlette, public_id: str) -> FiledRequest:
    """The request as the database holds it now."""
    with app.state.db.read_session(all_communes=True) as session:
        return FiledRequest.of(session.exec(select(ServiceRequest).where(ServiceRequest.public_id == public_id)).one())


def commune_requests(app: Starlette, commune: str) -> list[FiledRequest]:
    """Every request filed with ``commune``, oldest first (drafts included)."""
    with app.state.db.read_session(commune=commune) as session:
        rows = session.exec(select(ServiceRequest).order_by(col(ServiceRequest.id))).all()
        return [FiledRequest.of(row) for row in rows]


def queued_messages(app: Starlette, *, public_id: str | None = None, kind: str | None = None) -> list[QueuedMessage]:
    """The mails queued (about the request ``public_id``, of ``kind``), oldest first."""
    query = select(OutboxMessage).order_by(col(OutboxMessage.id))
    if public_id is not None:
        query = query.where(col(OutboxMessage.dedupe_key).startswith(f"request:{public_id}:"))
    if kind is not None:
        query = query.where(OutboxMessage.kind == kind)
    with app.state.db.read_session(all_communes=True) as session:
        return [QueuedMessage(row.kind, row.recipient, row.locale, row.subject, row.body)
                for row in session.exec(query).all()]  # fmt: skip


def audit_records(app: Starlette, action: str) -> list[AuditRecord]:
    """The audit log's entries for ``action`` (e.g. ``request.read``), oldest first."""
    with app.state.db.read_session(all_communes=True) as session:
        rows = session.exec(select(AuditEntry).where(AuditEntry.action == action).order_by(col(AuditEntry.seq))).all()
        return [AuditRecord(row.action, row.outcome, row.actor_id, row.subject, row.purpose, row.commune,
                            row.service, row.resource) for row in rows]  # fmt: skip


def commune_of(app: Starlette, slug: str) -> Commune:
    """The commune as its configuration made it, as hooks receive it."""
    found: Commune = app.state.registry.commune(slug)
    return found


def request_handle(
    service: str, commune: str, data: FormValues, *, status: str = "submitted", reference: str = "TEST-1"
) -> RequestHandle:
    """A handle on a request that is not stored, to call a hook directly in a unit test.

    It records no audit event (:meth:`RequestHandle.record_event` raises); a test of a hook that
    records one files a request through the steps above instead.
    """
    row = ServiceRequest(reference=reference, commune=commune, service=service, data=dict(data), status=status,
                         submission_key=secrets.token_hex(8))  # fmt: skip
    return RequestHandle(row)


def build_app(config: ConfigFolder, *, extra_plugins: Sequence[tuple[str, object]] = ()) -> Starlette:
    """Build the gateway from ``config`` as ``guichet serve`` would; raises :class:`ConfigError` when it is wrong.

    ``extra_plugins`` are (name, plugin) pairs registered as if installed: a plugin a test defines
    itself. The caller disposes of the app's database (``app.state.db.dispose()``) when done.
    """
    return create_app(config.path, extra_plugins=extra_plugins)
