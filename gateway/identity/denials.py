"""Who a refusal concerns: the audit entries one access-control denial makes, one per commune concerned.

A staff member of commune A refused on commune B is recorded under B (the
commune probed) *and* under A (so A's auditor sees what its own people try).
Each entry names the role the person acts in for that commune. The data
subject, when there is one, goes only on the target's entry, so the person
whose data was reached for reads of the attempt once in their access log.

A target commune is named only when it exists: a path or query can name any
slug, and a refusal on ``/agents/<anything>/...`` must neither put a made-up
commune in the log nor fail to be recorded (an over-long slug is not a valid
audit field). Such a refusal is filed under the person's own communes, or
under none, and its resource (clipped) still says the door knocked on.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass, replace

from gateway.audit.builders import access_denied
from gateway.audit.events import ANONYMOUS, Actor, AuditEvent
from gateway.identity.principal import Principal


@dataclass(frozen=True)
class Refused:
    """What was refused: the role it needs, the resource (``request/<reference>`` or ``<METHOD> <path>``), where."""

    role: str
    resource: str
    origin: str
    commune: str | None = None
    service: str | None = None
    attempted: str | None = None
    subject: str | None = None


def denial_events(
    principal: Principal | None,
    refused: Refused,
    *,
    actor: Actor | None = None,
    communes: Container[str] | None = None,
) -> list[AuditEvent]:
    """The entries recording ``refused``: the target commune's first, then one per other commune of the person.

    ``actor`` stands for the person when there is no principal (a caller the
    service layer names by its audit actor only). ``communes``, when given, are
    the communes that exist: a target outside them is not named (the caller
    took it from a URL, not from a stored row).
    """
    if refused.commune is not None and communes is not None and refused.commune not in communes:
        refused = replace(refused, commune=None, service=None, subject=None)
    staff = principal if principal is not None and principal.kind == "staff" else None
    own: list[str | None] = list(staff.communes) if staff is not None else []
    if refused.commune is None and own:
        targets = own  # nothing commune-bound was probed: each of the person's communes hears of it
    else:
        targets = [refused.commune, *(commune for commune in own if commune != refused.commune)]
    events = []
    for commune in targets:
        if staff is not None:
            who = staff.actor(staff.role_in(commune))
        elif principal is not None:
            who = principal.actor()
        else:
            who = actor or ANONYMOUS
        events.append(
            access_denied(
                who,
                role=refused.role,
                resource=refused.resource,
                origin=refused.origin,
                commune=commune,
                service=refused.service,
                attempted=refused.attempted,
                subject=refused.subject if commune == refused.commune else None,
            )
        )
    return events
