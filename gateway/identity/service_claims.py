"""Which identity claims a sign-in asks for: the deployment's base ones, plus those of the service it started from.

Data minimisation, as FranceConnect's partner terms ask: a resident signing in
to write to the town hall is not asked for a birthplace. A sign-in started
from a service's page (``/connexion?suite=/<commune>/<service>``) adds that
service's ``identity_claims``; ``guichet check`` warns about a claim a
provider's settings cannot give.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.identity.providers import ProviderRegistry
from gateway.registry import Registry
from gateway.services import ServiceDefinition


def service_at(registry: Registry, path: str) -> ServiceDefinition | None:
    """The service whose pages ``path`` (``/<commune>/<service>...``) belongs to, if a commune offers it there."""
    parts = path.split("?", 1)[0].strip("/").split("/")
    if len(parts) < 2:
        return None
    commune, provided = registry.commune(parts[0]), registry.services.get(parts[1])
    if commune is None or provided is None or not commune.enables(parts[1]):
        return None
    return provided.definition


def claims_for(registry: Registry, path: str) -> tuple[str, ...]:
    """The claims a sign-in that returns to ``path`` asks for beyond the base ones."""
    service = service_at(registry, path)
    return service.identity_claims if service is not None else ()


@dataclass(frozen=True)
class MissingClaim:
    """A service needs a claim that a provider its residents sign in with is not configured to give."""

    service: str
    claim: str
    provider: str

    def __str__(self) -> str:
        return (
            f"service '{self.service}' needs the identity claim '{self.claim}', which provider '{self.provider}' "
            "cannot give: add a scope releasing it to the provider's offered_scopes"
        )


def missing_claims(registry: Registry, providers: ProviderRegistry) -> list[MissingClaim]:
    """For each enabled service, each claim it needs that a citizen provider of its communes cannot give."""
    missing = []
    for key, provided in sorted(registry.services.items()):
        communes = set(registry.enabled_by(key))
        if not communes:
            continue
        reachable = [p for p in providers.citizen if p.commune is None or p.commune in communes]
        for claim in provided.definition.identity_claims:
            missing += [MissingClaim(key, claim, p.key) for p in reachable if not p.can_give(claim)]
    return missing
