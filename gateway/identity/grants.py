"""A staff account's grants, read from the store, and the audit actor they make of it.

Sessions, API tokens and the sign-in steps all need the same reading; the actor's role is
the real one (an auditor signing in is recorded as an auditor, not as an agent).
"""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlmodel import Session

from gateway.audit.events import ANONYMOUS, Actor
from gateway.identity.principal import Grant, acting_role
from gateway.models import StaffRole, StaffUser

_ROLES = StaffRole.__table__  # type: ignore[attr-defined]
#: built once, rows not objects: every signed-in request reads it, and making ORM objects was most of its cost
_GRANTS = (
    select(_ROLES.c.role, _ROLES.c.commune, _ROLES.c.service, _ROLES.c.level)
    .where(_ROLES.c.staff_id == bindparam("staff_id"))
    .order_by(_ROLES.c.id)
)


def grants_of(session: Session, staff_id: int) -> tuple[Grant, ...]:
    """Every grant of the account, in the order they were given."""
    rows = session.execute(_GRANTS, {"staff_id": staff_id})  # through the session: what it holds unflushed counts
    return tuple(Grant(row.role, row.commune, row.service, row.level) for row in rows)


def staff_actor(session: Session, staff: StaffUser | None, commune: str | None = None) -> Actor:
    """The account as an audit actor, in the role it holds for ``commune``; anonymous when there is no account."""
    if staff is None or staff.id is None:
        return ANONYMOUS
    return Actor(f"staff:{staff.id}", acting_role(grants_of(session, staff.id), commune))
