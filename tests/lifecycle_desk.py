"""The harness of the service-layer tests of requests (tests/test_request_*.py).

A registry and a database with the test plugin :mod:`tests.plugins.lifecycle_service`
(and the antivirus), ready-made callers, and readers of what was stored. It drives the
core's service layer directly, so it lives with the core's tests, not in the plugin.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from sqlmodel import col, select

from gateway import CitizenIdentity
from gateway.audit.events import Actor
from gateway.db import Database
from gateway.identity.principal import Principal
from gateway.models import Attachment, Citizen, RequestEvent, ServiceRequest
from gateway.models.audit import AuditEntry
from gateway.models.outbox import OutboxMessage
from gateway.requests.attachments import stored_names
from gateway.requests.backoffice.commands import BackOfficeCommands
from gateway.requests.backoffice.queries import BackOfficeQueries
from gateway.requests.caller import Caller
from gateway.requests.lifecycle import CitizenRequests
from gateway.requests.rules import ServiceRules, rules_for
from gateway.testing import ConfigFolder
from tests.plugins.lifecycle_service import VIGNETTE


def enable(config: ConfigFolder, **retention: int) -> None:
    """Vénissieux offers both services (with ``retention`` overrides), Corbas only the sticker."""
    config.set_commune("venissieux", services={"vignette": {}, "permanence": {}}, retention=dict(retention))
    config.set_commune("corbas", services={"vignette": {}})


class Desk:
    """A registry and a database with this plugin (and the antivirus), and ready-made callers."""

    def __init__(self, config: ConfigFolder, url: str) -> None:
        from gateway.app import load_registry
        from gateway.settings import load_settings
        from tests.plugins import antivirus, lifecycle_service

        self.db = Database(url)
        self.registry = load_registry(
            load_settings(config.path),
            extra_plugins=[("lifecycle_service", lifecycle_service), ("antivirus", antivirus)],
        )
        self.citizens = CitizenRequests(self.db, self.registry)
        self.queries = BackOfficeQueries(self.db, self.registry)
        self.commands = BackOfficeCommands(self.db, self.registry)

    def rules(self, key: str, commune: str = "venissieux") -> ServiceRules:
        """A service's rules in a commune, as a page resolves them once for its request."""
        found = self.registry.commune(commune)
        assert found is not None
        return rules_for(self.registry, found, key)

    def close(self) -> None:
        self.db.dispose()

    # Callers ----------------------------------------------------------------------------

    def citizen(
        self,
        *,
        given_name: str = "Camille",
        family_name: str = "Exemple",
        email: str | None = "camille@example.org",
        verified: bool = False,
        locale: str = "fr",
    ) -> Caller:
        with self.db.session() as session:
            row = Citizen(public_id=secrets.token_hex(16), issuer="https://idp.test", sub=secrets.token_hex(8),
                          given_name=given_name, family_name=family_name, email=email,
                          created_at=datetime.now(UTC))  # fmt: skip
            session.add(row)
            session.flush()
            assert row.id is not None
            citizen_id, public_id = row.id, row.public_id
        identity = CitizenIdentity(given_name=given_name, family_name=family_name, email=email, verified=verified)
        return Caller(
            actor=Actor(f"citizen:{public_id}", "citizen"),
            origin="test",
            locale=locale,
            citizen_id=citizen_id,
            citizen_public_id=public_id,
            identity=identity,
        )

    def staff(self, username: str, *grants: str) -> Caller:
        """A staff member with grants like ``agent:venissieux:vignette:reader``."""
        from gateway.identity import staff as accounts

        parsed = [accounts.parse_grant(grant) for grant in grants]
        with self.db.session() as session:
            row = accounts.create(session, username=username, display_name=username.title(),
                                  email=f"{username}@guichet.example", password=PASSWORD, grants=parsed)  # fmt: skip
            assert row.id is not None
            staff_id = row.id
        principal = Principal(kind="staff", session_hash=secrets.token_hex(8), user_id=staff_id, handle=username,
                              display_name=username.title(), authenticated_at=datetime.now(UTC),
                              grants=tuple(parsed))  # fmt: skip
        return Caller(actor=principal.actor("agent"), origin="test", principal=principal)

    # Requests ---------------------------------------------------------------------------

    def draft(self, caller: Caller, commune: str = "venissieux", **values: str) -> ServiceRequest:
        row = self.citizens.start_draft(caller, commune, VIGNETTE.key, submission_key=secrets.token_urlsafe(12))
        if values:
            row, _errors = self.citizens.save_draft(caller, row.public_id, {**GOOD_ANSWERS, **values})
        return row

    def submitted(self, caller: Caller, commune: str = "venissieux", **values: str) -> ServiceRequest:
        """A submitted sticker request (leased cars get their lease attached first)."""
        answers = {**GOOD_ANSWERS, **values}
        row = self.draft(caller, commune, **answers)
        if answers["ownership"] == "leased":
            self.citizens.attach(caller, row.public_id, "lease", "lease.pdf", PDF)
        outcome = self.citizens.submit(caller, row.public_id)
        assert not outcome.errors, outcome.errors
        return outcome.request

    def reload(self, row: ServiceRequest) -> ServiceRequest:
        with self.db.session(all_communes=True) as session:
            found = session.exec(select(ServiceRequest).where(ServiceRequest.public_id == row.public_id)).one()
        return found

    def events(self, row: ServiceRequest) -> list[RequestEvent]:
        with self.db.session(all_communes=True) as session:
            found = session.exec(
                select(RequestEvent).where(RequestEvent.request_id == row.id).order_by(col(RequestEvent.id))
            ).all()
        return list(found)

    def audit(self, action: str | None = None) -> list[AuditEntry]:
        with self.db.session() as session:
            query = select(AuditEntry).order_by(col(AuditEntry.seq))
            if action is not None:
                query = query.where(AuditEntry.action == action)
            return list(session.exec(query).all())

    def outbox(self) -> list[OutboxMessage]:
        with self.db.session() as session:
            return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all())

    def stored_files(self) -> list[str]:
        """The names of the attachments' bytes stored in the database, whether a row points to them or not."""
        with self.db.read_session() as session:
            return stored_names(session)

    def attachment_rows(self) -> list[Attachment]:
        with self.db.session(all_communes=True) as session:
            return list(session.exec(select(Attachment)).all())


PASSWORD = "a long enough test password"  # test accounts only
GOOD_ANSWERS = {
    "name": "Camille Exemple",
    "email": "camille@example.org",
    "plate": "AB-123-CD",
    "ownership": "owned",
    "delivery": "counter",
}
#: the smallest file the core takes for a PDF
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def days_after(moment: datetime | None, days: int) -> datetime:
    """``moment`` (as stored: SQLite gives it back without a time zone) plus ``days``."""
    assert moment is not None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)) + timedelta(days=days)
