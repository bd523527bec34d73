"""What every agents' API call shares: the caller, the commune the path names, the security and refusals declared.

The agents' casework API (``/api/v1/communes/{commune}/...``) is
:mod:`~gateway.api.agent_queue` (the queue, its CSV export, bulk
transitions), :mod:`~gateway.api.agent_requests` (one request's file, the
actions on it, downloads) and :mod:`~gateway.api.counter_filing` (assisted
filing for a citizen). Every route goes through
:class:`~gateway.requests.backoffice.BackOffice`, which checks grants and
records the audit trail; these modules only read the HTTP request and write
JSON. Agents use their session (both factors) or a personal API token;
citizens are refused. The underscored helpers below are shared by those three
modules only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request

from gateway.communes import Commune
from gateway.identity.access import require_staff_session
from gateway.requests.backoffice.commands import BackOfficeCommands
from gateway.requests.backoffice.queries import BackOfficeQueries
from gateway.requests.caller import Caller
from gateway.web.access import refuse_citizens
from gateway.web.callers import caller_of
from gateway.web.lookups import commune_or_404, registry_of
from gateway.web.openapi import problem_response


async def _agent(request: Request) -> tuple[Caller, Commune, BackOfficeQueries]:
    """A staff member (session with both factors, or API token), the commune named in the path, and what they read.

    Citizens are refused (403, recorded); grants are checked by the service layer.
    """
    caller, commune = await _signed_in_staff(request)
    return caller, commune, BackOfficeQueries(request.app.state.db, registry_of(request), request.app.state.writer)


async def _acting_agent(request: Request) -> tuple[Caller, Commune, BackOfficeCommands]:
    """As :func:`_agent`, with what they change."""
    caller, commune = await _signed_in_staff(request)
    return caller, commune, BackOfficeCommands(request.app.state.db, registry_of(request))


async def _signed_in_staff(request: Request) -> tuple[Caller, Commune]:
    commune = commune_or_404(request)
    await refuse_citizens(request, "agent", commune=commune.slug)
    require_staff_session(request)
    return await caller_of(request), commune


def _staff(names: Mapping[int, str], staff_id: int | None) -> dict[str, Any] | None:
    return {"id": staff_id, "name": names.get(staff_id, "")} if staff_id else None


AGENT = {"security": [{"bearer": []}, {"cookie": []}], "tags": ["casework"]}
NO_STAFF = problem_response("No valid API token or staff session.")
NO_GRANT = problem_response("A citizen, or no grant for this commune or service (the refusal is audited).")
READ_ONLY = problem_response("No grant, or a read-only grant for an action (the refusal is audited).")
NO_REQUEST = problem_response("No such commune, or no such submitted request in this commune.")
NO_COMMUNE = problem_response("No such commune.")
#: the refusals of a read, or of an action checked request by request, after the success
GRANTED = {"401": NO_STAFF, "403": NO_GRANT}
