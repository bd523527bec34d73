"""What a hook receives, made by hand: to call one of a plugin's hooks directly in a unit test."""

from __future__ import annotations

import secrets
from collections.abc import Mapping

from starlette.applications import Starlette

from gateway.communes import Commune
from gateway.models import ServiceRequest
from gateway.request_handle import LinkedSide, RequestHandle


def commune_of(app: Starlette, slug: str) -> Commune:
    """The commune as its configuration made it, as hooks receive it."""
    found: Commune = app.state.registry.commune(slug)
    return found


def request_handle(
    service: str,
    commune: str,
    data: Mapping[str, str],
    *,
    status: str = "submitted",
    reference: str = "TEST-1",
    linked: LinkedSide | None = None,
) -> RequestHandle:
    """A handle on a request that is not stored, to call a hook directly in a unit test.

    It records no audit event (:meth:`RequestHandle.record_event` raises); a test of a hook that
    records one files a request through the steps (:mod:`gateway.testing.steps`) instead.
    ``linked``: the other side of a shared request, as ``request.linked`` will answer (API 1.1).
    """
    row = ServiceRequest(reference=reference, commune=commune, service=service, data=dict(data), status=status,
                         submission_key=secrets.token_hex(8))  # fmt: skip
    if linked is not None:
        row.link_role, row.linked_commune, row.linked_reference = linked.role, linked.commune, linked.reference
        row.linked_status, row.linked_reason = linked.status, linked.reason
    return RequestHandle(row)
