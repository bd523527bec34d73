"""Lists are accesses: a queue page, a search in it or its CSV export records whom it showed.

A list shows each request's summary, which names its citizen, so being
listed is an access to that person's data, recorded like opening a request:
in the listing's own transaction, before the list is sent (fail closed). One
entry per subject and service shown (format version 1, whose ``subject``
names one person), never per listing: a person's access log, an auditor's
search by subject and a person's proof bundle find the entry through the
indexed ``subject`` column, and none of them reveals who else was on the
page. Rows past the page, other communes and an empty list record nothing.
The choice and its measured cost are in ``docs/audit_format.md`` §2.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlmodel import Session

from gateway.audit.builders import listing
from gateway.audit.events import Actor
from gateway.audit.log import record
from gateway.models import ServiceRequest
from gateway.registry import Registry


def shown_subjects(rows: Iterable[ServiceRequest]) -> list[tuple[str, str]]:
    """The distinct (subject, service) pairs of ``rows``, in the order shown; rows naming nobody are left out."""
    pairs = {(row.subject, row.service): None for row in rows if row.subject}
    return [(subject, service) for subject, service in pairs if subject]


def record_listing(
    session: Session,
    registry: Registry,
    actor_for: Callable[[str], Actor],
    *,
    action: str,
    commune: str,
    rows: Iterable[ServiceRequest],
    origin: str,
) -> int:
    """Record that ``rows`` of ``commune``'s queue were shown; returns the number of entries.

    ``actor_for(service)`` is who looked, in the role their grant gives them for that service.
    """
    count = 0
    for subject, service in shown_subjects(rows):
        actor = actor_for(service)
        provided = registry.services.get(service)
        purpose = provided.definition.purpose.fr if provided is not None else f"traitement des demandes ({service})"
        event = listing(action, actor, commune=commune, service=service, subject=subject, purpose=purpose,
                        origin=origin)  # fmt: skip
        record(session, event)
        count += 1
    return count
