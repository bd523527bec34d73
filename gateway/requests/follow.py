"""Following a request filed without an account, through the unguessable link its receipt e-mail carries.

Whoever files without an account has no « Mes demandes » to come back to:
the receipt mailed to the address they typed carries a link,
``/suivi/<token>``, the request's random public id signed with the gateway's
secret (:func:`follow_path`), so it can neither be guessed nor made for
another request. The page it opens says the request's status and its
history, in words and dates, and nothing else: no form content, no message
text, no attachment — what a mailbox may hold (:mod:`gateway.requests.notices`).

Only a request that belongs to no account is followed this way (an
account's requests are on its pages, behind its sign-in). A link that is
malformed, forged, or whose request is gone counts against the caller's
origin in the shared throttle table (``follow-link:<origin>``); past the
limit the page answers 429 with the wait. Each view is recorded in the
audit log as ``request.read`` by an anonymous visitor, under the person the
request is about, so it appears in their access log.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from itsdangerous import BadSignature, URLSafeSerializer
from sqlmodel import Session, col, select

from gateway.audit.builders import request_event
from gateway.audit.events import ANONYMOUS
from gateway.audit.log import record
from gateway.audit.refusals import origin_key
from gateway.db import Database
from gateway.identity import throttle
from gateway.models import RequestEvent, ServiceRequest
from gateway.registry import Registry
from gateway.requests.errors import RequestError
from gateway.services import Localized

PREFIX = "/suivi/"
_SALT = "guichet-follow"
UNKNOWN = Localized(
    "Ce lien de suivi n'est pas valide, ou la demande n'est plus conservée. Vérifiez qu'il a été copié en entier "
    "depuis le courriel ; sinon, contactez la mairie avec votre numéro de suivi.",
    "This follow-up link is not valid, or the request is no longer kept. Check that it was copied whole from the "
    "e-mail; otherwise, contact the town hall with your reference number.",
)


class FollowRefused(RequestError):
    """A link that leads nowhere (404), or too many of them from one origin (429)."""

    problem_type = "urn:guichet:problem:follow-link"

    def __init__(self, status: int, reason: Localized, retry_after: int | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.retry_after = retry_after


@functools.lru_cache(maxsize=8)
def _signer(secret: bytes) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=_SALT)


def follow_token(secret: bytes, public_id: str) -> str:
    """The token naming one request in its follow link: its public id, signed."""
    return _signer(secret).dumps(public_id)


def follow_path(secret: bytes, public_id: str) -> str:
    return PREFIX + follow_token(secret, public_id)


def _public_id(secret: bytes, token: str) -> str | None:
    try:
        found = _signer(secret).loads(token)
    except BadSignature:
        return None
    return found if isinstance(found, str) else None


@dataclass(frozen=True)
class FollowedRequest:
    """What the follow page shows: where, which service, which number, which status, and the steps with their dates."""

    commune: str
    service: str
    reference: str
    status: str
    submitted_at: datetime | None
    history: Sequence[RequestEvent]


class FollowLinks:
    """The follow page's reading: one transaction that counts a bad link, or records the view of a good one."""

    def __init__(self, db: Database, registry: Registry) -> None:
        self.db, self.registry = db, registry

    def follow(self, token: str, origin: str) -> FollowedRequest:
        key = f"follow-link:{origin_key(origin)[:150]}"
        public_id = _public_id(self.registry.settings.secret_key, token)
        with self.db.session(all_communes=True) as session:
            locked = throttle.check(session, [key])
            if locked is None:
                row = None
                if public_id is not None:
                    row = session.exec(
                        select(ServiceRequest).where(
                            ServiceRequest.public_id == public_id, col(ServiceRequest.citizen_id).is_(None)
                        )
                    ).first()
                if row is not None and row.reference and self.registry.commune(row.commune) is not None:
                    return self._shown(session, row, origin)
                locked = throttle.fail(session, [key])
        if locked is not None:
            raise FollowRefused(429, locked.message(), retry_after=locked.wait_seconds(datetime.now(UTC)))
        raise FollowRefused(404, UNKNOWN)

    def _shown(self, session: Session, row: ServiceRequest, origin: str) -> FollowedRequest:
        assert row.reference is not None
        provided = self.registry.services.get(row.service)
        purpose = provided.definition.purpose.fr if provided is not None else row.service
        record(session, request_event(
            "request.read", ANONYMOUS, commune=row.commune, service=row.service,
            resource=f"request/{row.reference}/follow", subject=row.subject, purpose=purpose, origin=origin,
        ))  # fmt: skip
        history = session.exec(
            select(RequestEvent)
            .where(RequestEvent.request_id == row.id, col(RequestEvent.internal).is_(False))
            .order_by(col(RequestEvent.at), col(RequestEvent.id))
        ).all()
        return FollowedRequest(row.commune, row.service, row.reference, row.status, row.submitted_at, list(history))
