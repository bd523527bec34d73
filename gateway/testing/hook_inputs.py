"""What a hook receives, made by hand: to call one of a plugin's hooks directly in a unit test."""

from __future__ import annotations

import secrets

from starlette.applications import Starlette

from gateway.communes import Commune
from gateway.models import ServiceRequest
from gateway.request_handle import RequestHandle
from gateway.services import FormValues


def commune_of(app: Starlette, slug: str) -> Commune:
    """The commune as its configuration made it, as hooks receive it."""
    found: Commune = app.state.registry.commune(slug)
    return found


def request_handle(
    service: str, commune: str, data: FormValues, *, status: str = "submitted", reference: str = "TEST-1"
) -> RequestHandle:
    """A handle on a request that is not stored, to call a hook directly in a unit test.

    It records no audit event (:meth:`RequestHandle.record_event` raises); a test of a hook that
    records one files a request through the steps (:mod:`gateway.testing.steps`) instead.
    """
    row = ServiceRequest(reference=reference, commune=commune, service=service, data=dict(data), status=status,
                         submission_key=secrets.token_hex(8))  # fmt: skip
    return RequestHandle(row)
