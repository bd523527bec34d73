"""The test kit for Guichet and its plugins, loaded as a pytest plugin (entry point ``pytest11``).

Installed with ``pip install guichet[test]``; works from an installed wheel,
without a source checkout. A plugin's tests get a real gateway built from a
deployment folder the test writes, a real database (SQLite, and PostgreSQL when
``GUICHET_TEST_DATABASE_URL`` is set) migrated for real, and an HTTP client on
the ASGI app::

    @pytest.fixture
    def guichet_config(guichet_config):
        guichet_config.enable_service("ville-a", "cantine", menus=["standard"])
        return guichet_config

    async def test_the_form_is_offered(guichet_client):
        assert (await guichet_client.get("/ville-a/cantine")).status_code == 200

Fixtures (:mod:`.fixtures`): ``guichet_config`` (a blank :class:`ConfigFolder`),
``guichet_database_url`` (SQLite a copy of one file migrated once a session,
``guichet_migrated_sqlite``), ``guichet_app``, ``guichet_client``. The people
(:mod:`.actors`), the steps (:mod:`.steps`), the records and their assertions
(:mod:`.records`), the sign-ins through HTTP (:mod:`.client`) are re-exported
here: a plugin imports them from ``gateway.testing``. docs/testing_plugins.md
is the guide.
"""

from __future__ import annotations

from gateway.requests.errors import (
    ActionForbidden,
    ActionNotAllowed,
    InvalidInput,
    RequestError,
    RequestNotFound,
    ServiceNotOffered,
    StaleRequest,
)
from gateway.settings import ConfigError
from gateway.testing.actors import agent_of, staff_member, verified_citizen
from gateway.testing.client import (
    BASE_URL,
    STAFF_PASSWORD,
    GuichetClient,
    sign_in_agent,
    sign_in_auditor,
    sign_in_citizen,
    sign_in_staff,
)
from gateway.testing.databases import (
    REQUIRE_ALL_ENV,
    TEST_DATABASE_ENV,
    fresh_postgres_schema,
    migrate,
    postgres_server_url,
    skip_or_fail,
)
from gateway.testing.deployment import ConfigFolder
from gateway.testing.fixtures import (
    build_app,
    guichet_app,
    guichet_client,
    guichet_config,
    guichet_database_url,
    guichet_migrated_sqlite,
)
from gateway.testing.hook_inputs import DocumentsIssued, commune_of, request_handle
from gateway.testing.live_server import free_socket, serve, served
from gateway.testing.records import (
    assert_audited,
    assert_mailed,
    assert_nothing_mailed,
    audit_records,
    commune_requests,
    issued_documents,
    queued_messages,
    stored_request,
)
from gateway.testing.steps import (
    add_family_member,
    attach_document,
    citizens_requests,
    file_request,
    open_file,
    save_draft,
    start_draft,
    submit_request,
    take_transition,
    withdraw_request,
)
from gateway.testing.toml_writer import dumps_toml
from gateway.testing.views import (
    AgentView,
    AuditRecord,
    FiledRequest,
    IssuedRecord,
    QueuedMessage,
    Submission,
    TestAgent,
    TestCitizen,
)

__all__ = [
    "BASE_URL",
    "REQUIRE_ALL_ENV",
    "STAFF_PASSWORD",
    "TEST_DATABASE_ENV",
    # what the steps raise when the core refuses one: each a RequestError with the HTTP ``status`` and a
    # Localized ``reason``; ConfigError is what build_app raises on a wrong configuration
    "ActionForbidden",
    "ActionNotAllowed",
    "AgentView",
    "AuditRecord",
    "ConfigError",
    "ConfigFolder",
    "DocumentsIssued",
    "FiledRequest",
    "GuichetClient",
    "InvalidInput",
    "IssuedRecord",
    "QueuedMessage",
    "RequestError",
    "RequestNotFound",
    "ServiceNotOffered",
    "StaleRequest",
    "Submission",
    "TestAgent",
    "TestCitizen",
    "add_family_member",
    "agent_of",
    "assert_audited",
    "assert_mailed",
    "assert_nothing_mailed",
    "attach_document",
    "audit_records",
    "build_app",
    "citizens_requests",
    "commune_of",
    "commune_requests",
    "dumps_toml",
    "file_request",
    "free_socket",
    "fresh_postgres_schema",
    "guichet_app",
    "guichet_client",
    "guichet_config",
    "guichet_database_url",
    "guichet_migrated_sqlite",
    "issued_documents",
    "migrate",
    "open_file",
    "postgres_server_url",
    "queued_messages",
    "request_handle",
    "save_draft",
    "serve",
    "served",
    "sign_in_agent",
    "sign_in_auditor",
    "sign_in_citizen",
    "sign_in_staff",
    "skip_or_fail",
    "staff_member",
    "start_draft",
    "stored_request",
    "submit_request",
    "take_transition",
    "verified_citizen",
    "withdraw_request",
]
