"""Anonymous refusals, counted rather than logged one by one: one audit entry per origin, kind and minute.

A client that is not signed in can send as many refused requests as it
likes (a form without its token, a path of its choosing). Each one is
counted in ``refusal_count`` (an upsert, in the refusal's transaction); only
the first of its (kind, origin, minute) enters the audit log, saying that
further ones that minute are counted, not logged. So the log grows by at
most one entry per origin and minute, whatever is sent, and every refusal is
still counted: :func:`refusal_totals` gives the counts a metrics endpoint
(or ``guichet audit refusals``) reads. The counters are kept as long as the
audit log's entries (``audit.retention_months``): ``guichet retention run``
prunes older minutes with :func:`prune_refusal_counts`.

An IPv6 origin is counted by its /64 network, which one client holds whole.
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import delete, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from gateway.audit.events import AuditEvent
from gateway.audit.log import record
from gateway.models import RefusalCount

COUNTED = " (les suivants de la même origine dans la minute sont comptés, non journalisés)"


def origin_key(origin: str) -> str:
    """The origin refusals are counted under: as given, an IPv6 address narrowed to its /64 network."""
    channel, _, address = origin.partition(" ")
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return origin[:200]
    if parsed.version == 6:
        return f"{channel} {ipaddress.ip_network(f'{parsed}/64', strict=False)}"
    return origin[:200]


def count_refusal(session: Session, event: AuditEvent, *, now: datetime | None = None) -> int:
    """Count one anonymous refusal; record ``event`` only if it is the first of its origin's minute.

    Returns the count of the minute so far (1 for the first refusal).
    """
    minute = (now or datetime.now(UTC)).astimezone(UTC).replace(second=0, microsecond=0)
    origin = origin_key(event.origin)
    values = {"kind": event.action, "origin": origin, "minute": minute, "count": 1}
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    counted = col(RefusalCount.count)
    upsert = (
        insert(RefusalCount)
        .values(**values)
        .on_conflict_do_update(index_elements=["kind", "origin", "minute"], set_={"count": counted + 1})
        .returning(counted)
    )
    count = int(session.execute(upsert).scalar_one())
    if count == 1:
        record(session, replace(event, origin=origin, purpose=(event.purpose + COUNTED)[:200]))
    return count


def refusal_totals(session: Session, *, since: datetime | None = None) -> dict[str, int]:
    """Anonymous refusals counted, per kind (audit action), since ``since`` or over every row kept."""
    query = select(RefusalCount.kind, func.sum(RefusalCount.count)).group_by(col(RefusalCount.kind))
    if since is not None:
        query = query.where(col(RefusalCount.minute) >= since)
    return {kind: int(total) for kind, total in session.exec(query).all()}


def prune_refusal_counts(session: Session, *, before: datetime, dry_run: bool = False) -> int:
    """Delete the counters of minutes before ``before``; how many rows (would) go.

    They hold client addresses: kept no longer than the audit entries they stand beside.
    """
    old = col(RefusalCount.minute) < before
    found = int(session.exec(select(func.count()).select_from(RefusalCount).where(old)).one())
    if found and not dry_run:
        session.execute(delete(RefusalCount).where(old))
    return found
