"""What a hook receives, made by hand: to call one of a plugin's hooks directly in a unit test."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from starlette.applications import Starlette

from gateway.communes import Commune
from gateway.models import ServiceRequest
from gateway.request_handle import DocumentContent, IssuedDocumentInfo, LinkedSide, RequestHandle
from gateway.services import FormValues


def commune_of(app: Starlette, slug: str) -> Commune:
    """The commune as its configuration made it, as hooks receive it."""
    found: Commune = app.state.registry.commune(slug)
    return found


class DocumentsIssued:
    """What a hook asked to issue and revoke through a :func:`request_handle` (nothing is rendered or signed)."""

    def __init__(self, reference: str) -> None:
        self.reference = reference
        self.issued: list[DocumentContent] = []
        self.revoked: list[str] = []

    def issue(self, content: DocumentContent) -> IssuedDocumentInfo:
        self.issued.append(content)
        return IssuedDocumentInfo(f"{self.reference}-{len(self.issued)}", "TEST-CODE-000", datetime.now(UTC))

    def revoke(self, reason: str) -> int:
        self.revoked.append(reason)
        return len(self.issued)


def request_handle(
    service: str,
    commune: str,
    data: FormValues,
    *,
    status: str = "submitted",
    reference: str = "TEST-1",
    documents: DocumentsIssued | None = None,
    linked: LinkedSide | None = None,
    derived: tuple[str, ...] = (),
    family_id: str | None = None,
) -> RequestHandle:
    """A handle on a request that is not stored, to call a hook directly in a unit test.

    It records no audit event (:meth:`RequestHandle.record_event` raises); a test of a hook that
    records one files a request through the steps (:mod:`gateway.testing.steps`) instead. With
    ``documents``, the documents the hook issues and revokes are collected there; ``linked``: the other
    side of a shared request, as ``request.linked`` will answer (API 1.1); ``derived``: the names the
    service declares for :meth:`RequestHandle.record_value` (API 1.2); ``family_id``: the family
    filing it belongs to, as ``request.family_id`` will answer (API 1.2).
    """
    row = ServiceRequest(reference=reference, commune=commune, service=service, data=dict(data), status=status,
                         submission_key=secrets.token_hex(8), family_id=family_id)  # fmt: skip
    if linked is not None:
        row.link_role, row.linked_commune, row.linked_reference = linked.role, linked.commune, linked.reference
        row.linked_status, row.linked_reason = linked.status, linked.reason
    return RequestHandle(row, documents=documents, derived=derived)
