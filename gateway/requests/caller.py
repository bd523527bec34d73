"""Who acts on a request, as the service layer needs it: the audit actor, the account, where from, which language."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.audit.events import Actor
from gateway.identity.principal import Principal
from gateway.services import CitizenIdentity


@dataclass(frozen=True)
class OnBehalf:
    """An agent files at the counter for a citizen; ``email`` is where the citizen's receipt goes, when given."""

    email: str | None = None


@dataclass(frozen=True)
class Caller:
    """Who acts: the audit actor, and the account behind it.

    ``citizen_id`` for a signed-in citizen (their requests are those they
    own), ``principal`` for a staff member (their grants say which communes
    and services they reach). ``origin`` is recorded in the audit log;
    ``on_behalf_of`` is set when an agent files for a citizen at the counter.
    """

    actor: Actor
    origin: str
    locale: str = "fr"
    citizen_id: int | None = None
    citizen_public_id: str | None = None
    identity: CitizenIdentity | None = None
    principal: Principal | None = None
    on_behalf_of: OnBehalf | None = None

    @property
    def staff_id(self) -> int | None:
        return self.principal.user_id if self.principal is not None and self.principal.is_staff else None
