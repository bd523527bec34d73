"""Default reference numbers: ``PREFIX-YEAR-000042``, counted per commune, prefix and year."""

from __future__ import annotations

from gateway import hookimpl
from gateway.communes import Commune
from gateway.services import ServiceDefinition


@hookimpl(trylast=True)
def guichet_reference_number(commune: Commune, service: ServiceDefinition, year: int, sequence: int) -> str:
    return f"{service.reference_prefix}-{year}-{sequence:06d}"
