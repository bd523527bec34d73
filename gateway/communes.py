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

#: where a retention period comes from: the service's definition, or the commune's file
SERVICE_DEFAULT = "service default"
COMMUNE_FILE = "commune file"


@dataclass(frozen=True)
class RetentionChoice:
    """A retention period in days, where it is set (``service default`` or ``commune file``) and under which key."""

    days: int
    source: str
    key: str


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
    #: service key -> days a decided request of that service is kept here (``[retention.services.<key>]``)
    service_retention_days: Mapping[str, int] = field(default_factory=dict)
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
            service_retention_days={
                key: choice.decided_requests_days for key, choice in source.retention.services.items()
            },
            services=dict(services),
        )

    def retention_days(self, service: ServiceDefinition) -> int:
        """Days a decided request of ``service`` is kept here: the commune's choice, else the service's."""
        return self.retention_of(service).days

    def retention_of(self, service: ServiceDefinition) -> RetentionChoice:
        """Days a decided request of ``service`` is kept here, and which setting says so.

        The commune's value for this service, else its value for all its
        services, else the service's default.
        """
        if service.key in self.service_retention_days:
            key = f"retention.services.{service.key}.decided_requests_days"
            return RetentionChoice(self.service_retention_days[service.key], COMMUNE_FILE, key)
        if self.decided_requests_days is not None:
            return RetentionChoice(self.decided_requests_days, COMMUNE_FILE, "retention.decided_requests_days")
        return RetentionChoice(service.retention_days, SERVICE_DEFAULT, "retention_days")

    def draft_days_for(self, service: ServiceDefinition) -> int:
        return self.draft_days_of(service).days

    def draft_days_of(self, service: ServiceDefinition) -> RetentionChoice:
        if self.draft_days is not None:
            return RetentionChoice(self.draft_days, COMMUNE_FILE, "retention.draft_days")
        return RetentionChoice(service.draft_days, SERVICE_DEFAULT, "draft_days")

    def enables(self, service_key: str) -> bool:
        return service_key in self.services
