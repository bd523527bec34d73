"""What every agent page shares: the back office, the agent and commune a URL names, dates and state labels.

The agents' pages are :mod:`~gateway.pages.agent_queue_pages` (the queue,
its export and bulk actions), :mod:`~gateway.pages.agent_places_pages` (a
service's places board), :mod:`~gateway.pages.agent_request_pages` (a
request's file and the actions on it) and
:mod:`~gateway.pages.counter_filing_pages` (filing at the counter for a
citizen). Every page needs a staff session past both factors; which communes,
services and actions an agent reaches is decided by
the back office (:mod:`gateway.requests.backoffice`), which records refusals and
every view of personal data in the audit log. The underscored helpers below
are shared by those three modules only.
"""

from __future__ import annotations

from datetime import date, datetime

from starlette.requests import Request

from gateway.communes import Commune
from gateway.identity.access import require_staff_session
from gateway.models import ServiceRequest
from gateway.requests.backoffice.commands import BackOfficeCommands
from gateway.requests.backoffice.queries import BackOfficeQueries
from gateway.requests.caller import Caller
from gateway.requests.clock import aware
from gateway.services import Localized, ServiceDefinition
from gateway.web.access import refuse_citizens
from gateway.web.callers import caller_of
from gateway.web.dates import PARIS, short_day, when
from gateway.web.lookups import commune_or_404, registry_of


def _queries(request: Request) -> BackOfficeQueries:
    queries: BackOfficeQueries | None = getattr(request.app.state, "back_office_queries", None)
    if queries is None:
        queries = BackOfficeQueries(request.app.state.db, registry_of(request), request.app.state.writer)
        request.app.state.back_office_queries = queries
    return queries


def _commands(request: Request) -> BackOfficeCommands:
    commands: BackOfficeCommands | None = getattr(request.app.state, "back_office_commands", None)
    if commands is None:
        commands = BackOfficeCommands(request.app.state.db, registry_of(request))
        request.app.state.back_office_commands = commands
    return commands


async def _agent(request: Request) -> tuple[Caller, Commune]:
    """A staff member past both factors (citizens refused and recorded), and the commune the URL names."""
    await refuse_citizens(request, "agent", commune=request.path_params.get("commune"))
    require_staff_session(request)
    commune = commune_or_404(request)
    return await caller_of(request), commune


_when, _day = when, short_day


def _age_days(moment: datetime | None, today: date) -> int | None:
    shown = aware(moment)
    return (today - shown.astimezone(PARIS).date()).days if shown else None


def _definition(request: Request, key: str) -> ServiceDefinition | None:
    provided = registry_of(request).services.get(key)
    return provided.definition if provided is not None else None


def _status_label(request: Request, row: ServiceRequest) -> Localized:
    definition = _definition(request, row.service)
    if definition is None:
        return Localized(row.status)
    workflow = definition.linked_workflow if row.is_linked_copy and definition.linked_workflow else definition.workflow
    try:
        return workflow.state(row.status).label
    except KeyError:
        return Localized(row.status)
