"""Who is making a request: a signed-in citizen or staff member, with their grants."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from gateway.audit.events import Actor

STAFF_ROLES = ("agent", "supervisor", "auditor", "administrator")
#: an agent's grant levels, each covering the ones before it: a reader looks, an instructor acts, a supervisor
#: also takes the decisions a service reserves to it (``Transition(level="supervisor")``)
LEVELS = ("reader", "instructor", "supervisor")


@dataclass(frozen=True)
class Grant:
    role: str
    commune: str | None = None
    service: str | None = None
    level: str | None = None

    def covers(self, role: str, commune: str | None, service: str | None, level: str | None) -> bool:
        """Whether this grant allows acting as ``role`` for that commune/service at that level."""
        if self.role == "administrator":  # the syndicate's everywhere, a commune's in that commune only
            return self.commune is None or self.commune == commune
        if role == "agent" and self.role == "supervisor":
            return self.commune == commune
        if self.role != role:
            return False
        if self.commune is not None and self.commune != commune:
            return False
        if self.service is not None and self.service != service:
            return False
        return level_covers(self.level, level)

    def label(self) -> str:
        parts = [self.role, self.commune or "syndicat", self.service or "*"]
        return ":".join(parts) + (f":{self.level}" if self.level else "")


def level_covers(held: str | None, wanted: str | None) -> bool:
    """Whether an agent grant at level ``held`` (``None``: instructor) allows acting at level ``wanted``."""
    held_rank = LEVELS.index(held) if held in LEVELS else LEVELS.index("instructor")
    wanted_rank = LEVELS.index(wanted) if wanted in LEVELS else 0
    return held_rank >= wanted_rank


def acting_role(grants: tuple[Grant, ...], commune: str | None) -> str:
    """The role a staff member acts in for ``commune``: the grant there, else a syndicate-wide one, else the first.

    An account with no grant at all is named an agent (it can do nothing; the name only labels its attempts).
    """
    for wanted in (commune, None):
        for grant in grants:
            if grant.commune == wanted:
                return grant.role
    return grants[0].role if grants else "agent"


@dataclass(frozen=True)
class Principal:
    kind: Literal["citizen", "staff"]
    session_hash: str
    user_id: int
    #: citizens: their random public id; staff: their username
    handle: str
    display_name: str
    authenticated_at: datetime
    mfa_pending: bool = False
    grants: tuple[Grant, ...] = ()
    provider: str | None = None

    @property
    def is_citizen(self) -> bool:
        return self.kind == "citizen"

    @property
    def is_staff(self) -> bool:
        return self.kind == "staff" and not self.mfa_pending

    def can(
        self, role: str, *, commune: str | None = None, service: str | None = None, level: str | None = None
    ) -> bool:
        return self.is_staff and any(grant.covers(role, commune, service, level) for grant in self.grants)

    @property
    def communes(self) -> tuple[str, ...]:
        """The communes this person's grants name, in grant order (syndicate-wide grants name none)."""
        return tuple(dict.fromkeys(grant.commune for grant in self.grants if grant.commune is not None))

    def reaches(self, commune: str) -> bool:
        """Whether one of the grants is for ``commune`` or for the whole syndicate (whatever the role)."""
        return self.is_staff and any(grant.commune in (None, commune) for grant in self.grants)

    def role_in(self, commune: str | None) -> str:
        """The role this person acts in for ``commune`` (see :func:`acting_role`)."""
        return acting_role(self.grants, commune)

    def actor(self, role: str | None = None) -> Actor:
        """This person as an audit actor: citizens by public id, staff by account id and acting role."""
        if self.kind == "citizen":
            return Actor(f"citizen:{self.handle}", "citizen")
        return Actor(f"staff:{self.user_id}", role or (self.grants[0].role if self.grants else "agent"))
