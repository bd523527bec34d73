"""Submission keys: the one-time key a form carries (or the API's ``Idempotency-Key``) so a retry files nothing twice.

Generation, the length limit, what a page or the API does with a key sent
(a page makes a fresh one, the API refuses one too long), and the check that
a key already used answers only for the same service (and the same citizen), and
only for the same answers: the first answers' fingerprint is kept with the request,
and the same key sent with other answers is refused, never answered with the
first receipt while the new content is silently dropped.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping

from gateway.models import ServiceRequest

SUBMISSION_KEY_MAX = 64  # the column's length (ServiceRequest.submission_key)


class SubmissionKeyReused(Exception):
    """The submission key already filed a request for another service (or person) of this commune."""

    def __init__(self, key: str, service: str) -> None:
        self.service = service
        super().__init__(f"submission key already used for service {service!r}")


class SubmissionKeyConflict(Exception):
    """The submission key already filed a request with other answers (the API and the pages answer 422)."""


class SubmissionKeyTooLong(Exception):
    """The client sent a key longer than :data:`SUBMISSION_KEY_MAX` (the API answers 400)."""


def new_submission_key() -> str:
    return secrets.token_urlsafe(24)


def usable(sent: object) -> str | None:
    """The key as sent when it is one: non-empty text of at most :data:`SUBMISSION_KEY_MAX` characters."""
    if isinstance(sent, str) and sent and len(sent) <= SUBMISSION_KEY_MAX:
        return sent
    return None


def key_from_form(sent: object) -> str:
    """A page's hidden key, or a fresh one when it is missing or not a key (that post is then not deduplicated)."""
    return usable(sent) or new_submission_key()


def key_from_header(sent: str | None) -> str:
    """The API's ``Idempotency-Key``, or a fresh key when none was sent; raises :class:`SubmissionKeyTooLong`."""
    if not sent:
        return new_submission_key()
    if len(sent) > SUBMISSION_KEY_MAX:
        raise SubmissionKeyTooLong
    return sent


def fingerprint(answers: Mapping[str, object]) -> str:
    """SHA-256 of the answers in a canonical form (JSON, keys sorted), to tell a retry from other content."""
    canonical = json.dumps(dict(answers), sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def same_submission(
    existing: ServiceRequest, service: str, *, citizen_id: int | None = None, answers: str | None = None
) -> ServiceRequest:
    """The request a key already filed, when it was for this service (and this citizen, for a draft).

    ``answers`` is the :func:`fingerprint` of what is sent now; when the first filing kept one and it differs,
    :class:`SubmissionKeyConflict` is raised (requests filed before fingerprints were kept have none).
    """
    if existing.service != service or (citizen_id is not None and existing.citizen_id != citizen_id):
        raise SubmissionKeyReused(existing.submission_key, existing.service)
    kept = existing.submission_fingerprint
    if answers is not None and kept is not None and kept != answers:
        raise SubmissionKeyConflict
    return existing
