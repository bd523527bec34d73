"""Tenancy: the member communes and the services each one enables.

A commune is configuration, not code: its file under ``config/communes/``
becomes a :class:`Commune`. Plugins receive this object; it holds only the
commune's public identity, never personal data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from gateway.services import ServiceDefinition, ServiceSettings
from gateway.settings import CommuneFile


@dataclass(frozen=True)
class Commune:
    """A member commune as hooks receive it: its public identity, retention choices and enabled services.

    Built from the commune's file; read-only, and never holds personal data.
    """

    slug: str
    name: str
    insee: str
    department: str
    seat: bool
    street: str
    postcode: str
    city: str
    email: str
    phone: str
    opening_hours: str | None
    #: whether citizens see agents' names in their access log (else role and commune only)
    shows_agent_names: bool = False
    #: the commune's own retention periods in days (None: the service's default)
    decided_requests_days: int | None = None
    draft_days: int | None = None
    #: enabled service key -> its validated settings, in the file's order;
    #: ``None`` when the plugin that should provide it failed to load
    services: Mapping[str, ServiceSettings | None] = field(default_factory=dict)

    @classmethod
    def from_file(cls, source: CommuneFile, services: Mapping[str, ServiceSettings | None]) -> Commune:
        return cls(
            slug=source.slug,
            name=source.name,
            insee=source.insee,
            department=source.department,
            seat=source.seat,
            street=source.address.street,
            postcode=source.address.postcode,
            city=source.address.city,
            email=str(source.contact.email),
            phone=source.contact.phone,
            opening_hours=source.contact.opening_hours,
            shows_agent_names=source.privacy.access_log_shows_agent_names,
            decided_requests_days=source.retention.decided_requests_days,
            draft_days=source.retention.draft_days,
            services=dict(services),
        )

    def retention_days(self, service: ServiceDefinition) -> int:
        """Days a decided request of ``service`` is kept here: the commune's choice, else the service's."""
        return self.decided_requests_days or service.retention_days

    def draft_days_for(self, service: ServiceDefinition) -> int:
        return self.draft_days or service.draft_days

    def enables(self, service_key: str) -> bool:
        return service_key in self.services
