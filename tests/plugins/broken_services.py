"""A plugin that raises while declaring its services."""

from __future__ import annotations

from gateway import ServiceDefinition, hookimpl


@hookimpl
def guichet_services() -> list[ServiceDefinition]:
    raise RuntimeError("cannot declare services")
