"""Whether the audit log can be written now: one probe entry appended, then rolled back.

Every action the gateway records commits with its audit entry or not at all,
so a gateway that cannot append to the log cannot serve (its writes answer
503). Readiness asks this probe, so that a load balancer sends no traffic to
such a process. The probe takes the same path as a real append (the head row,
the entries, the Merkle tiles, PostgreSQL's advisory lock and the role's
rights) in a transaction that is always rolled back: nothing is written.
"""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError

from gateway.audit.events import AuditEvent
from gateway.audit.log import AuditUnavailable, append
from gateway.db import Database

PROBE = AuditEvent(
    action="readiness.probe",
    actor_id="system",
    actor_role="system",
    resource="audit",
    purpose="readiness",
    origin="probe",
)


class _RolledBack(Exception):
    """Ends the probe's transaction without committing it."""


def audit_write_fault(database: Database) -> str | None:
    """None when an entry could be appended now; otherwise why not (for the log, never for the caller)."""
    try:
        with database.session() as session:
            append(session, [PROBE])
            raise _RolledBack
    except _RolledBack:
        return None
    except (AuditUnavailable, SQLAlchemyError, OSError) as error:
        cause = error.__cause__ or error
        return f"{type(cause).__name__}: {cause}".splitlines()[0]
