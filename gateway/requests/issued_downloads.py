"""Downloading an issued document: by the citizen who owns the request, or by an agent with a grant on it.

Each download is a read of personal data, recorded in the audit log as
``document.download`` in the transaction that reads the bytes (nothing is
handed out unless the record committed). Another citizen's request is a 404,
like every citizen page; an agent of another commune, or without a grant on
the service, is refused and the refusal recorded, as for the request's file.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.requests.backoffice.access import Desk, recording_denials
from gateway.requests.caller import Caller
from gateway.requests.errors import RequestError
from gateway.requests.issuing import find_issued
from gateway.requests.lifecycle import CitizenRequests
from gateway.requests.trail import audit
from gateway.services import Localized

NO_SUCH_DOCUMENT = Localized("Ce document n'existe pas pour cette demande.", "No such document for this request.")


class DocumentNotFound(RequestError):
    status = 404
    problem_type = "urn:guichet:problem:document-not-found"

    def __init__(self) -> None:
        super().__init__(NO_SUCH_DOCUMENT)


@dataclass(frozen=True)
class DownloadedDocument:
    filename: str
    content: bytes


def _filename(number: str) -> str:
    return f"{number}.pdf"


class CitizenDocuments(CitizenRequests):
    """The owner's download of a document issued for one of their requests."""

    def download_issued(self, caller: Caller, public_id: str, number: str) -> DownloadedDocument:
        with self._mine(caller, public_id, "request.read") as (session, row, rules):
            document = find_issued(session, row, number)
            if document is None:
                raise DocumentNotFound
            audit(session, caller, row, rules.definition, "document.download",
                  target=f"request/{row.reference}/document/{number}")  # fmt: skip
            return DownloadedDocument(_filename(number), document.pdf)


class AgentDocuments(Desk):
    """An agent's download of a document issued for a request of their commune, at the reader level."""

    @recording_denials("request.read")
    def download_issued(self, caller: Caller, commune_slug: str, reference: str, number: str) -> DownloadedDocument:
        with self._open(caller, commune_slug, reference, level="reader") as file:
            document = find_issued(file.session, file.row, number)
            if document is None:
                raise DocumentNotFound
            file.audit("document.download", target=f"request/{reference}/document/{number}")
            return DownloadedDocument(_filename(number), document.pdf)
