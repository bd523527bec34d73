"""Join the configuration and the plugins: which commune offers which service.

Built once at start. A commune enabling a service that no installed plugin
provides stops the start (unless a plugin failed to load: the service is then
answered as temporarily unavailable, since the broken plugin may be its
provider). A service's settings in a commune's file are validated by the
settings model the plugin declares.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pydantic import ValidationError
from starlette.routing import BaseRoute

from gateway.communes import Commune
from gateway.deployment import DeploymentSettings
from gateway.plugins import HookRunner, PluginSet
from gateway.services import Localized, ServiceDefinition, ServiceSettings
from gateway.settings import ConfigError, Settings, config_error


@dataclass(frozen=True)
class ProvidedService:
    definition: ServiceDefinition
    plugin: str


@dataclass(frozen=True)
class Offer:
    """A service as a commune's page lists it."""

    key: str
    title: Localized | None
    description: Localized | None
    available: bool


@dataclass
class Registry:
    settings: Settings
    plugins: PluginSet
    hooks: HookRunner
    services: dict[str, ProvidedService]
    communes: dict[str, Commune]

    def commune(self, slug: str) -> Commune | None:
        return self.communes.get(slug)

    @functools.cached_property
    def plugin_routes(self) -> list[tuple[str, Sequence[BaseRoute]]]:
        """Each plugin's routes in registration order, core first, asked once.

        The core's plugins that need secrets add theirs through ``guichet_core_routes``
        (the whole settings); every other plugin sees only the deployment's public view.
        """
        return [
            *reversed(self.hooks.collect("guichet_core_routes", settings=self.settings)),
            *reversed(self.hooks.collect("guichet_routes", settings=DeploymentSettings.from_settings(self.settings))),
        ]

    def is_available(self, service_key: str) -> bool:
        provided = self.services.get(service_key)
        return provided is not None and provided.plugin not in self.plugins.failures

    def offers(self, commune: Commune) -> list[Offer]:
        offers = []
        for key in commune.services:
            provided = self.services.get(key)
            definition = provided.definition if provided else None
            offers.append(
                Offer(
                    key=key,
                    title=definition.title if definition else None,
                    description=definition.description if definition else None,
                    available=self.is_available(key) and commune.services[key] is not None,
                )
            )
        return offers

    def enabled_by(self, service_key: str) -> list[str]:
        return [slug for slug, commune in self.communes.items() if commune.enables(service_key)]


def build_registry(settings: Settings, plugins: PluginSet) -> Registry:
    hooks = HookRunner(plugins)
    services = _collect_services(hooks, settings)
    communes = {
        source.slug: Commune.from_file(
            source, _commune_services(settings, source.slug, source.services, services, plugins)
        )
        for source in settings.communes
    }
    for commune in communes.values():
        _check_retention(settings.commune_files[commune.slug], commune, services)
    return Registry(settings=settings, plugins=plugins, hooks=hooks, services=services, communes=communes)


def _check_retention(path: object, commune: Commune, services: Mapping[str, ProvidedService]) -> None:
    """A commune names only services it enables, and keeps none below the minimum its service's law sets."""
    file = str(path)
    for key in commune.service_retention_days:
        if not commune.enables(key):
            raise ConfigError(file, f"retention.services.{key}", f"this commune does not enable the service '{key}'")
    for key in commune.services:
        provided = services.get(key)
        minimum = provided.definition.retention_min_days if provided else None
        if provided is None or minimum is None:
            continue
        choice = commune.retention_of(provided.definition)
        if choice.days < minimum:
            raise ConfigError(
                file,
                choice.key,
                f"{choice.days} days is below the {minimum} days the service '{key}' must keep a decided request",
            )


def _collect_services(hooks: HookRunner, settings: Settings) -> dict[str, ProvidedService]:
    services: dict[str, ProvidedService] = {}
    for plugin, definitions in hooks.collect("guichet_services"):
        for definition in definitions:
            if definition.key in services:
                raise ConfigError(
                    "plugins",
                    definition.key,
                    f"service declared by both {services[definition.key].plugin} and {plugin}",
                )
            services[definition.key] = ProvidedService(definition, plugin)
    return services


def _commune_services(
    settings: Settings,
    slug: str,
    raw: Mapping[str, Mapping[str, object]],
    services: Mapping[str, ProvidedService],
    plugins: PluginSet,
) -> dict[str, ServiceSettings | None]:
    path = settings.commune_files[slug]
    enabled: dict[str, ServiceSettings | None] = {}
    for key, values in raw.items():
        provided = services.get(key)
        if provided is None:
            if plugins.failures:
                enabled[key] = None  # its provider may be the plugin that failed to load
                continue
            raise ConfigError(path, f"services.{key}", "no installed plugin provides this service")
        try:
            enabled[key] = provided.definition.settings.model_validate(dict(values))
        except ValidationError as error:
            raise config_error(error, path, ("services", key)) from None
    return enabled
