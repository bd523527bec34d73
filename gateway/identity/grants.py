"""A staff account's grants, read from the store, and the audit actor they make of it.

Sessions, API tokens and the sign-in steps all need the same reading; the actor's role is
the real one (an auditor signing in is recorded as an auditor, not as an agent).
"""

from __future__ import annotations

from sqlmodel import Session, select

from gateway.audit.events import ANONYMOUS, Actor
from gateway.identity.principal import Grant, acting_role
from gateway.models import StaffRole, StaffUser


def grants_of(session: Session, staff_id: int) -> tuple[Grant, ...]:
    """Every grant of the account, in the order they were given."""
    rows = session.exec(select(StaffRole).where(StaffRole.staff_id == staff_id).order_by(StaffRole.id)).all()  # type: ignore[arg-type]
    return tuple(Grant(row.role, row.commune, row.service, row.level) for row in rows)


def staff_actor(session: Session, staff: StaffUser | None, commune: str | None = None) -> Actor:
    """The account as an audit actor, in the role it holds for ``commune``; anonymous when there is no account."""
    if staff is None or staff.id is None:
        return ANONYMOUS
    return Actor(f"staff:{staff.id}", acting_role(grants_of(session, staff.id), commune))
