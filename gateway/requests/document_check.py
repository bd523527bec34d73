"""The public check of an issued document: a code typed in, the few facts its service declared confirmable out.

No sign-in. The code is looked up by its digest. A wrong code (malformed, or
matching no document) counts against the caller's origin in the shared
throttle table (``document-check:<origin>``); past the limit the page answers
429 with the wait. A match is recorded in the audit log as ``document.check``
under the person the request is about, so it appears in their access log
(« certificat vérifié »). A document revoked by its service, or whose request
was withdrawn, shows as revoked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from gateway.audit.builders import request_event
from gateway.audit.events import ANONYMOUS
from gateway.audit.log import record
from gateway.audit.refusals import origin_key
from gateway.db import Database
from gateway.identity import throttle
from gateway.models import IssuedDocument, ServiceRequest
from gateway.registry import Registry
from gateway.requests.document_proof import code_digest, normalize_code
from gateway.requests.errors import RequestError
from gateway.services import WITHDRAWN, Localized

MALFORMED = Localized(
    "Ce code n'est pas valide : il compte 11 caractères (chiffres et lettres, sans I, L, O ni U), par exemple "
    "7K2M-Q9XH-4TC. Vérifiez-le sur le document.",
    "This code is not valid: it has 11 characters (digits and letters, no I, L, O or U), for example 7K2M-Q9XH-4TC. "
    "Check it on the document.",
)
UNKNOWN = Localized(
    "Aucun document ne correspond à ce code. Vérifiez-le sur le document ; "
    "un document falsifié n'a pas de code valide.",
    "No document matches this code. Check it on the document; a forged document has no valid code.",
)


class CheckRefused(RequestError):
    """A code that is malformed or matches nothing (400 and 404), or too many wrong codes (429)."""

    problem_type = "urn:guichet:problem:document-check"

    def __init__(self, status: int, reason: Localized, retry_after: int | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class CheckedDocument:
    """What the public check confirms: who issued which document when, its declared fields, whether revoked."""

    commune_name: str
    number: str
    title: Localized
    issued_at: datetime
    fields: tuple[tuple[Localized, str], ...]
    revoked: bool


class DocumentCheck:
    """The public check: one transaction that counts a wrong code, or records the check of a right one."""

    def __init__(self, db: Database, registry: Registry) -> None:
        self.db, self.registry = db, registry

    def check(self, typed: object, origin: str) -> CheckedDocument:
        key = f"document-check:{origin_key(origin)[:150]}"
        normalized = normalize_code(typed) if isinstance(typed, str) else None
        refusal = CheckRefused(404, UNKNOWN) if normalized is not None else CheckRefused(400, MALFORMED)
        with self.db.session(all_communes=True) as session:
            locked = throttle.check(session, [key])
            if locked is None:
                found = self._find(session, normalized, origin) if normalized is not None else None
                if found is not None:
                    return found
                locked = throttle.fail(session, [key])
        if locked is not None:
            raise CheckRefused(429, locked.message(), retry_after=locked.wait_seconds(datetime.now(UTC)))
        raise refusal

    def _find(self, session: Session, normalized: str, origin: str) -> CheckedDocument | None:
        found = session.exec(
            select(IssuedDocument, ServiceRequest)
            .join(ServiceRequest, col(ServiceRequest.id) == col(IssuedDocument.request_id))
            .where(IssuedDocument.code_digest == code_digest(normalized))
        ).first()
        commune = self.registry.commune(found[0].commune) if found is not None else None
        if found is None or commune is None:
            return None
        document, row = found
        provided = self.registry.services.get(row.service)
        purpose = provided.definition.purpose.fr if provided is not None else row.service
        record(session, request_event(
            "document.check", ANONYMOUS, commune=row.commune, service=row.service,
            resource=f"request/{row.reference}/document/{document.number}", subject=row.subject,
            purpose=purpose, origin=origin,
        ))  # fmt: skip
        return CheckedDocument(
            commune.name,
            document.number,
            Localized(document.title, document.title_en),
            document.issued_at,
            tuple((Localized(f["label"]["fr"], f["label"]["en"]), f["value"]) for f in document.confirmable),
            document.revoked_at is not None or row.status == WITHDRAWN,
        )
