"""The certificates service (:mod:`tests.plugins.certificates`), issuing its document as soon as a request is filed.

A filing's row is inserted after its plugin's reaction (what the plugin sets
is inserted with it); a plugin issuing a document there has the row inserted
first, so the document refers to a stored request (tests/test_issued_documents.py).
"""

from __future__ import annotations

from gateway import RequestHandle, hookimpl
from tests.plugins.certificates import (  # noqa: F401  (the service's hooks, registered with this module)
    GUICHET_PLUGIN_API,
    certificate,
    guichet_service_form,
    guichet_services,
)


@hookimpl
def guichet_request_submitted(request: RequestHandle) -> None:
    issued = request.issue_document(certificate(request))
    request.summary = f"Certificat {issued.number}"
