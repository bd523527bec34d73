"""A service as a citizen and an agent use it: file, submit, withdraw, open, transition.

Each step is the one a page or the API takes (the same service-layer command,
on the app's real database, with the plugin's form, checks and workflow), so a
plugin's test drives its service without HTTP and without the core's modules.
When the core refuses a step, the step raises what a page or the API turns into
an error (:class:`~gateway.requests.errors.RequestError` and its kinds,
re-exported by :mod:`gateway.testing`).
"""

from __future__ import annotations

from starlette.applications import Starlette

from gateway.requests.backoffice.commands import BackOfficeCommands
from gateway.requests.backoffice.queries import BackOfficeQueries
from gateway.requests.lifecycle import CitizenRequests
from gateway.requests.submission_keys import new_submission_key
from gateway.services import FormValues
from gateway.testing.views import AgentView, FiledRequest, Submission, TestAgent, TestCitizen


def start_draft(app: Starlette, citizen: TestCitizen, commune: str, service: str) -> FiledRequest:
    """Open a new draft as the citizen does from the service's page (prefilled by the plugin)."""
    requests = CitizenRequests(app.state.db, app.state.registry)
    return FiledRequest.of(requests.start_draft(citizen.caller, commune, service, submission_key=new_submission_key()))


def submit_request(app: Starlette, citizen: TestCitizen, public_id: str, answers: FormValues) -> Submission:
    """Submit the citizen's draft with ``answers`` (the whole form): a reference, or the form's errors."""
    outcome = CitizenRequests(app.state.db, app.state.registry).submit(citizen.caller, public_id, dict(answers))
    family = tuple(FiledRequest.of(row) for row in outcome.family)
    stopped = {member.request.public_id: tuple(member.errors) for member in outcome.family_errors}
    return Submission(FiledRequest.of(outcome.request), tuple(outcome.errors), family, stopped)


def add_family_member(app: Starlette, citizen: TestCitizen, public_id: str) -> FiledRequest:
    """Another member's draft in the family of the citizen's draft (API 1.2), as the draft's page adds one.

    It holds the shared answers and copies of the shared documents; submitting any draft of the family
    (:func:`submit_request`) submits them all, or none.
    """
    requests = CitizenRequests(app.state.db, app.state.registry)
    return FiledRequest.of(requests.add_member(citizen.caller, public_id, submission_key=new_submission_key()))


def save_draft(app: Starlette, citizen: TestCitizen, public_id: str, answers: FormValues) -> Submission:
    """Save answers on the citizen's draft without submitting it, as the draft's page does.

    The answers are kept even with mistakes; the ``Submission`` carries the draft and the errors a page would show.
    """
    row, errors = CitizenRequests(app.state.db, app.state.registry).save_draft(citizen.caller, public_id, dict(answers))
    return Submission(FiledRequest.of(row), tuple(errors))


def attach_document(
    app: Starlette, citizen: TestCitizen, public_id: str, document: str, filename: str, content: bytes
) -> None:
    """Attach a file to the citizen's draft as the service's document ``document``, as the draft's page does.

    The core checks it (size, type from its first bytes, the antivirus hook) and refuses it as it would there;
    a document shown only for some answers (``show_if``) needs them saved first (:func:`save_draft`).
    """
    CitizenRequests(app.state.db, app.state.registry).attach(citizen.caller, public_id, document, filename, content)


def withdraw_request(app: Starlette, citizen: TestCitizen, public_id: str) -> FiledRequest:
    """The citizen withdraws their undecided request."""
    return FiledRequest.of(CitizenRequests(app.state.db, app.state.registry).withdraw(citizen.caller, public_id))


def citizens_requests(app: Starlette, citizen: TestCitizen) -> list[FiledRequest]:
    """The requests the citizen sees in their space."""
    return [FiledRequest.of(row) for row in CitizenRequests(app.state.db, app.state.registry).mine(citizen.caller)]


def open_file(app: Starlette, agent: TestAgent, commune: str, reference: str) -> AgentView:
    """Open a request's file in the back office, as an agent does (the read is audited)."""
    case = BackOfficeQueries(app.state.db, app.state.registry).case(agent.caller, commune, reference)
    return AgentView(FiledRequest.of(case.request), case.can_act, tuple(t.name for t in case.transitions))


def take_transition(
    app: Starlette,
    agent: TestAgent,
    commune: str,
    reference: str,
    name: str,
    *,
    expected_version: int | None = None,
    reason: str = "",
    comment: str = "",
) -> FiledRequest:
    """Take the workflow transition ``name`` on a request, as an agent does from its file."""
    commands = BackOfficeCommands(app.state.db, app.state.registry)
    row = commands.transition(
        agent.caller, commune, reference, name, expected_version=expected_version, reason=reason, comment=comment
    )
    return FiledRequest.of(row)


def file_request(app: Starlette, citizen: TestCitizen, commune: str, service: str, answers: FormValues) -> FiledRequest:
    """Start a draft and submit it with ``answers`` (added to what the plugin prefilled): the filed request.

    Fails the test, naming each field's error, when the form refuses the answers; to test
    the refusal itself, use :func:`start_draft` and :func:`submit_request`.
    """
    draft = start_draft(app, citizen, commune, service)
    outcome = submit_request(app, citizen, draft.public_id, {**draft.data, **answers})
    if outcome.errors:
        problems = "; ".join(f"{error.field}: {error.message}" for error in outcome.errors)
        raise AssertionError(f"the {service} form refused the answers: {problems}")
    return outcome.request
