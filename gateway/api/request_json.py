"""The JSON both sides of the requests API share: texts in both languages, times, workflow labels, attachments.

One writer per shape, so a citizen and an agent see the same attachment
or status label written the same way.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from gateway.models import Attachment, RequestEvent
from gateway.requests.clock import aware
from gateway.services import Localized, Workflow
from gateway.web.lookups import registry_of

PREFIX = "/api/v1"


def both(text: Localized | None) -> dict[str, str] | None:
    return {"fr": text("fr"), "en": text("en")} if text is not None else None


def iso_time(moment: Any) -> str | None:
    """ISO 8601 with the offset, whatever the database gave back."""
    found = aware(moment)
    return found.isoformat() if found is not None else None


def workflow_of(request: Request, service: str, *, linked: bool = False) -> Workflow | None:
    """The service's workflow (``linked``: its linked requests' one), or ``None`` when its plugin is gone."""
    provided = registry_of(request).services.get(service)
    if provided is None:
        return None
    definition = provided.definition
    return definition.linked_workflow or definition.workflow if linked else definition.workflow


def status_label(workflow: Workflow | None, status: str) -> dict[str, str] | None:
    if workflow is None:
        return None
    try:
        return both(workflow.state(status).label)
    except KeyError:  # a state the workflow no longer declares
        return {"fr": status, "en": status}


def reason_label(workflow: Workflow | None, transition: str | None, reason: str | None) -> dict[str, str] | None:
    found = workflow.transition(transition) if workflow is not None and transition else None
    if found is None or reason is None:
        return None
    return next((both(choice.label) for choice in found.reasons if choice.value == reason), None)


def attachment_json(attachment: Attachment) -> dict[str, Any]:
    return {
        "id": attachment.public_id,
        "document": attachment.document,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "sha256": attachment.sha256,
        "uploaded_by": attachment.uploaded_by,
        "created_at": iso_time(attachment.created_at),
    }


def event_change(event: RequestEvent, workflow: Workflow | None) -> dict[str, Any]:
    """What an event of the history changed, the part citizens and agents read alike."""
    return {
        "from_status": event.from_status,
        "to_status": event.to_status,
        "transition": event.transition,
        "reason": event.reason,
        "reason_label": reason_label(workflow, event.transition, event.reason),
        "body": event.body,
    }
