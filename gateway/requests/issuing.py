"""Issuing, revoking and checking the documents services issue for requests.

A service issues a document from its hooks (``RequestHandle.issue_document``),
inside the request's transaction: the core numbers it after the request's
reference, draws a verification code, signs the payload with the commune's
current key, renders the PDF and stores it, and records ``document.issue`` in
the audit log. If the transaction rolls back, nothing was issued. Revoking
(by the service, or when the citizen withdraws the request) marks every
document of the request; the public check then says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import reportlab
from sqlalchemy import func
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from gateway.communes import Commune
from gateway.models import IssuedDocument, ServiceRequest
from gateway.request_handle import DocumentContent, DocumentLine, IssuedDocumentInfo
from gateway.requests.document_pdf import PARIS, Letterhead, render_pdf
from gateway.requests.document_proof import Claims, code_digest, new_code, normalize_code, sign_payload
from gateway.requests.signing_keys import CommuneKeys
from gateway.services import Localized
from gateway.settings import Settings

CHECK_PATH = "/documents/verifier"
KEYS_PATH = "/documents/cles"
WITHDRAWN_REASON = "demande retirée"

#: records one audit event about the request: (action, resource)
Audit = Callable[[str, str], None]


def letterhead(settings: Settings, commune: Commune) -> Letterhead:
    base = settings.gateway.public_base_url.rstrip("/")
    return Letterhead(commune.name, (commune.street, f"{commune.postcode} {commune.city}"),
                      base + CHECK_PATH, base + KEYS_PATH)  # fmt: skip


#: the fonts used when ``[documents]`` names none: the system's DejaVu Sans, else reportlab's own Vera
SYSTEM_FONTS = (Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
                Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"))  # fmt: skip
SHIPPED_FONTS = (Path(reportlab.__file__).parent / "fonts" / "Vera.ttf",
                 Path(reportlab.__file__).parent / "fonts" / "VeraBd.ttf")  # fmt: skip


def fonts_of(settings: Settings) -> tuple[Path, Path]:
    """The regular and bold fonts to embed: the configured ones, else DejaVu Sans, else Vera (a fresh laptop)."""
    section = settings.documents
    if section.font_file and section.bold_font_file:
        return (settings.config_dir / section.font_file).resolve(), (
            settings.config_dir / section.bold_font_file
        ).resolve()
    return SYSTEM_FONTS if all(path.is_file() for path in SYSTEM_FONTS) else SHIPPED_FONTS


class RequestDocuments:
    """Issues and revokes the documents of one request, in the transaction its hook runs in (a ``DocumentIssuer``)."""

    def __init__(
        self,
        session: Session,
        settings: Settings,
        commune: Commune,
        row: ServiceRequest,
        audit: Audit,
        stored: Callable[[], None] | None = None,
    ) -> None:
        """``stored``: stores a new request not inserted yet (a filing's), before its documents refer to it."""
        self.session, self.settings, self.commune, self.row, self.audit = session, settings, commune, row, audit
        self.stored = stored

    def issue(self, content: DocumentContent) -> IssuedDocumentInfo:
        if self.stored is not None:
            self.stored()
        row = self.row
        if row.id is None or not row.reference:
            raise RuntimeError("only a submitted request can have a document issued")
        count = self.session.exec(
            select(func.count()).select_from(IssuedDocument).where(IssuedDocument.request_id == row.id)
        ).one()
        number = f"{row.reference}-{int(count) + 1}"
        code = new_code()
        key = CommuneKeys(self.settings).signing_key(self.commune.slug)
        issued_at = datetime.now(UTC)
        confirmable = [line for line in content.lines if line.confirmable]
        claims = Claims(number, self.commune.slug, key.key_id, issued_at.astimezone(PARIS).date(), content.kind,
                        {line.name: line.value for line in confirmable})  # fmt: skip
        payload = sign_payload(claims, key)
        pdf = render_pdf(content, letterhead(self.settings, self.commune), number=number, code=code,
                         payload=payload, issued_at=issued_at, fonts=fonts_of(self.settings))  # fmt: skip
        normalized = normalize_code(code)
        assert normalized is not None
        self.session.add(
            IssuedDocument(
                commune=row.commune,
                request_id=row.id,
                number=number,
                kind=content.kind,
                title=content.title.fr,
                title_en=content.title("en"),
                locale=content.locale,
                issued_at=issued_at,
                key_id=key.key_id,
                code_digest=code_digest(normalized),
                payload=payload,
                confirmable=[_confirmable(line) for line in confirmable],
                pdf=pdf,
            )
        )
        self.session.flush()
        self.audit("document.issue", f"request/{row.reference}/document/{number}")
        return IssuedDocumentInfo(number, code, issued_at)

    def revoke(self, reason: str) -> int:
        if self.stored is not None:
            self.stored()
        return revoke_all(self.session, self.row, reason, self.audit)


def _confirmable(line: DocumentLine) -> dict[str, object]:
    return {"name": line.name, "label": {"fr": line.label.fr, "en": line.label("en")}, "value": line.value}


def revoke_all(session: Session, row: ServiceRequest, reason: str, audit: Audit | None = None) -> int:
    """Revoke the request's documents not yet revoked; how many were."""
    documents = session.exec(
        select(IssuedDocument).where(IssuedDocument.request_id == row.id, col(IssuedDocument.revoked_at).is_(None))
    ).all()
    moment = datetime.now(UTC)
    for document in documents:
        document.revoked_at, document.revoked_reason = moment, reason[:200]
        session.add(document)
        if audit is not None:
            audit("document.revoke", f"request/{row.reference}/document/{document.number}")
    return len(documents)


@dataclass(frozen=True)
class IssuedSummary:
    """An issued document as a request's page lists it (without its bytes)."""

    number: str
    title: Localized
    issued_at: datetime
    revoked: bool


def issued_of(session: Session, row: ServiceRequest) -> list[IssuedSummary]:
    """The documents issued for ``row``, oldest first."""
    found = session.exec(
        select(IssuedDocument)
        .options(defer(IssuedDocument.pdf), defer(IssuedDocument.payload))  # type: ignore[arg-type]
        .where(IssuedDocument.request_id == row.id)
        .order_by(col(IssuedDocument.id))
    ).all()
    return [
        IssuedSummary(d.number, Localized(d.title, d.title_en), d.issued_at, d.revoked_at is not None) for d in found
    ]


def find_issued(session: Session, row: ServiceRequest, number: str) -> IssuedDocument | None:
    return session.exec(
        select(IssuedDocument).where(IssuedDocument.request_id == row.id, IssuedDocument.number == number)
    ).first()
