"""A citizen reaching for a request that is not theirs: answered as not found, recorded as a refused attempt.

The answer stays the one for an unknown id (404: nothing said about whether
the request exists), but the attempt enters the audit log with the
request's data subject, so its owner reads of it in their access log, and
the commune's auditor sees it. An id that names no request records nothing:
there is no one to tell, and no one can fill the log with made-up ids.
"""

from __future__ import annotations

from sqlmodel import select

from gateway.audit.log import record
from gateway.db import Database
from gateway.identity.denials import Refused, denial_events
from gateway.models import ServiceRequest
from gateway.requests.caller import Caller
from gateway.requests.trail import resource

#: the role a request's own pages need: being the citizen who owns it
OWNER = "titulaire de la demande"


def record_strangers_attempt(db: Database, caller: Caller, public_id: str, attempted: str) -> None:
    """Record ``caller``'s ``attempted`` action on another citizen's request ``public_id``, if there is one."""
    with db.session(all_communes=True) as session:
        row = session.exec(select(ServiceRequest).where(ServiceRequest.public_id == public_id)).first()
        if row is None or row.citizen_id == caller.citizen_id:
            return
        refused = Refused(role=OWNER, resource=resource(row), origin=caller.origin, commune=row.commune,
                          service=row.service, attempted=attempted, subject=row.subject)  # fmt: skip
        for event in denial_events(caller.principal, refused, actor=caller.actor):
            record(session, event)
