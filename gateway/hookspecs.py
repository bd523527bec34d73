"""Every hook a Guichet plugin can implement.

Each hook states how the results of several implementations combine. The core
calls implementations one by one (see :class:`gateway.plugins.HookRunner`), so
a plugin that raises is named in the log together with the hook, and only its
own services become unavailable.

Hooks are called with keyword arguments; an implementation may accept any
subset of them. ``docs/plugin_hooks.md`` documents the same signatures and a
test keeps the two in step.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from gateway.communes import Commune
    from gateway.deployment import DeploymentSettings
    from gateway.request_handle import RequestHandle
    from gateway.services import (
        Choice,
        CitizenIdentity,
        FieldError,
        FormField,
        FormValues,
        Places,
        ScanVerdict,
        ServiceDefinition,
        ServiceSettings,
        SharedRequest,
        Transition,
    )

PROJECT = "guichet"

hookspec = pluggy.HookspecMarker(PROJECT)


@hookspec
def guichet_services() -> Sequence[ServiceDefinition]:
    """Declare the e-services this plugin provides.

    Combination: all results, concatenated. A service key declared twice stops
    the start. Called once at start; a plugin that raises here has its
    services answered as temporarily unavailable.
    """


@hookspec
def guichet_routes(settings: DeploymentSettings) -> Sequence[BaseRoute]:
    """Add Starlette routes (pages or API) to the gateway.

    Combination: all results, concatenated in call order; the core's own pages
    and API are default plugins implementing this hook. Called once at start,
    with what a plugin may know of the deployment (its public address,
    languages, whether it is a demo; never a secret), so a plugin may offer
    routes only in some deployments.
    """


@hookspec(firstresult=True)
def guichet_service_form(
    service: ServiceDefinition, commune: Commune, settings: ServiceSettings
) -> Sequence[FormField] | None:
    """Return the form a citizen fills for ``service`` in ``commune``.

    Combination: called on the plugin that provides the service only; its
    result is the form. ``settings`` are the commune's validated settings.
    """


@hookspec
def guichet_validate_request(
    service: ServiceDefinition,
    commune: Commune,
    settings: ServiceSettings,
    data: FormValues,
    citizen: CitizenIdentity | None,
) -> Sequence[FieldError]:
    """Check a filled form beyond what the core checks (required, length, type): eligibility rules.

    Combination: called on the plugin that provides the service only; the
    errors it returns are added to the core's. Any error keeps the request
    from being submitted (a draft is kept as it is). ``citizen`` is the
    signed-in citizen's identity, ``None`` for a request filed without an
    account or by an agent at the counter.
    """


@hookspec(firstresult=True)
def guichet_prefill_form(
    service: ServiceDefinition, commune: Commune, settings: ServiceSettings, citizen: CitizenIdentity
) -> FormValues | None:
    """Values to put in a new draft's form from the citizen's identity, so they are not retyped.

    Combination: called on the plugin that provides the service only; its
    result (field name -> value) fills the draft. Keys the form does not
    declare are ignored.
    """


@hookspec
def guichet_request_submitted(
    service: ServiceDefinition, commune: Commune, settings: ServiceSettings, request: RequestHandle
) -> None:
    """React to a newly submitted request, inside its database transaction (before a new filing's row is written).

    Combination: called on the plugin that provides the service only. The
    plugin reads and updates the request through ``request``; if it raises,
    nothing is stored and the citizen is told the service is unavailable.
    Only a committed transaction counts: the hook may also run for a retried
    submission, or twice when its batch runs again (docs/plugin_hooks.md).
    """


@hookspec
def guichet_request_transition(
    service: ServiceDefinition,
    commune: Commune,
    settings: ServiceSettings,
    request: RequestHandle,
    transition: Transition,
    choice: str | None,
) -> None:
    """React to an agent's transition, inside its database transaction, before it commits.

    Combination: called on the plugin that provides the service only. The
    request handle already shows the new status. Raise
    :class:`gateway.services.TransitionRefused` to stop the transition with a
    reason the agent reads (409); any other exception stops it as
    "temporarily unavailable". ``choice`` (API 1.2) is the value the agent
    chose for a transition asking one (``Transition.choice``), already checked
    to be one of those ``guichet_transition_choices`` offered; ``None`` otherwise.
    """


@hookspec(firstresult=True)
def guichet_transition_choices(
    service: ServiceDefinition, commune: Commune, settings: ServiceSettings, data: FormValues, transition: Transition
) -> Sequence[Choice] | None:
    """Offer the options an agent chooses from for a transition asking a choice, on one request (API 1.2).

    Combination: called on the plugin that provides the service only, for a
    transition whose ``choice`` is set, with the request's data (answers and
    derived values): when its file is shown to an agent, and again when the
    transition is taken. Its result is the list of options (``None`` or
    empty: none, and the transition is not offered). A value the agent sends
    that is not among them is refused (422) and nothing is written.
    """


@hookspec(firstresult=True)
def guichet_request_shares(
    service: ServiceDefinition, commune: Commune, settings: ServiceSettings, data: FormValues
) -> Sequence[SharedRequest] | None:
    """Name the other member communes a request filed with these answers is shared with (API 1.1).

    Combination: called on the plugin that provides the service only, when the
    form is checked and again when the request is submitted; its result is the
    list of shares (``None`` or empty: none). The core refuses, on the
    share's ``field`` and before anything is stored, a share to a commune that
    is not a member or does not offer the service; otherwise it creates, in the
    submission's transaction, a linked request in each receiving commune
    holding only the disclosed fields and documents (docs/shared_requests.md).
    The service must declare a ``linked_workflow``.
    """


@hookspec(firstresult=True)
def guichet_service_places(
    service: ServiceDefinition, commune: Commune, settings: ServiceSettings
) -> Sequence[Places] | None:
    """Name the counters of ``service``'s places board in ``commune``: what is counted, against what (API 1.2).

    Combination: called on the plugin that provides the service only; its
    result is the board (``None`` or empty: the service has none here). Each
    :class:`gateway.services.Places` names the form answers a request must
    hold to be counted, the capacity and the group (table) it is shown in.
    The core counts the commune's requests itself, by workflow state; the
    plugin never sees them. Called whenever an agent opens the board.
    """


@hookspec(firstresult=True)
def guichet_demo_answers(
    service: ServiceDefinition, commune: Commune, settings: ServiceSettings
) -> Sequence[FormValues] | None:
    """Offer example answers a demonstration files for ``service`` in ``commune`` (``guichet demo seed``) (API 1.2).

    Combination: called on the plugin that provides the service only, by the
    demo seed, never in real use. Each item is a set of answers (field name ->
    value, any subset of the form): the seed picks one and fills the other
    fields itself, so a service whose rules its generic answers would not
    pass (an address on the catchment map, a birth date giving a level) is
    still filed. Fictitious data only; ``None`` or empty: generic answers.
    """


@hookspec
def guichet_scan_attachment(commune: Commune, filename: str, content_type: str, data: bytes) -> ScanVerdict | None:
    """Scan an uploaded file before it is stored (an antivirus connector).

    Combination: all results; the file is stored only if no result says
    ``clean=False``. ``None`` means "not scanned by me" (for instance a
    scanner enabled for some communes only). A scanner that raises refuses
    the upload (fail closed) with "try again later".
    """


@hookspec(firstresult=True)
def guichet_reference_number(commune: Commune, service: ServiceDefinition, year: int, sequence: int) -> str | None:
    """Format the public reference number of a new request.

    Combination: first non-``None`` result across all plugins (use
    ``tryfirst=True`` to override the core's ``PREFIX-YEAR-000042`` format).
    ``sequence`` counts from 1 per commune, prefix and year.
    """
