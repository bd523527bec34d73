"""The only view of a request a plugin ever gets.

The core builds a :class:`RequestHandle` around the stored row and hands it to
the service's plugin; the plugin reads the filled form and sets what it may
set, and never holds a database session.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType

from gateway.models import ServiceRequest

SUMMARY_MAX = 200


class RequestHandle:
    def __init__(self, row: ServiceRequest) -> None:
        self._row = row

    @property
    def reference(self) -> str:
        return self._row.reference

    @property
    def service(self) -> str:
        return self._row.service

    @property
    def commune(self) -> str:
        return self._row.commune

    @property
    def status(self) -> str:
        return self._row.status

    @property
    def created_at(self) -> datetime:
        return self._row.created_at

    @property
    def data(self) -> Mapping[str, str]:
        """The form as filed, read-only."""
        return MappingProxyType(dict(self._row.data))

    @property
    def summary(self) -> str | None:
        return self._row.summary

    @summary.setter
    def summary(self, value: str | None) -> None:
        """A short line agents see in their queue (no personal data, at most 200 characters)."""
        if value is not None and (not isinstance(value, str) or len(value) > SUMMARY_MAX):
            raise ValueError(f"summary must be text of at most {SUMMARY_MAX} characters")
        self._row.summary = value
