"""Transitions asking the agent a choice among options the plugin offers for the request (plugin API 1.2).

A small service defined here: a bin request whose ``size`` step asks which
bin to deliver, the large one only for more than one bin; its plugin notes
the size chosen. Commune ``ville-b`` gets a plugin mistake (a value too long
to keep).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.applications import Starlette

from gateway import (
    Choice,
    FormField,
    Localized,
    ServiceDefinition,
    ServiceSettings,
    State,
    Transition,
    Workflow,
    hookimpl,
)
from gateway.requests.errors import ServiceUnavailable
from gateway.testing import (
    GuichetClient,
    InvalidInput,
    agent_of,
    assert_audited,
    build_app,
    file_request,
    open_file,
    sign_in_agent,
    stored_request,
    take_transition,
    verified_citizen,
)

KEY = "bacs-choix"


class BinSettings(ServiceSettings):
    broken: bool = False


SIZE = Transition(
    "size", Localized("Choisir la taille"), ("submitted",), "sized", choice=Localized("Taille du bac", "Bin size")
)
SERVICE = ServiceDefinition(
    key=KEY,
    title=Localized("Bacs"),
    description=Localized("Des bacs."),
    reference_prefix="BCH",
    purpose=Localized("Livrer des bacs."),
    settings=BinSettings,
    workflow=Workflow(
        states=(
            State("submitted", Localized("Reçue")),
            State("sized", Localized("Taille choisie")),
            State("delivered", Localized("Livré"), final=True),
        ),
        transitions=(SIZE, Transition("deliver", Localized("Livrer"), ("sized",), "delivered")),
    ),
)


class BinPlugin:
    GUICHET_PLUGIN_API = "1.2"

    @hookimpl
    def guichet_services(self) -> list[ServiceDefinition]:
        return [SERVICE]

    @hookimpl
    def guichet_service_form(self) -> list[FormField]:
        return [FormField("count", Localized("Nombre"), kind="number", min_value=0, max_value=9)]

    @hookimpl
    def guichet_transition_choices(self, settings: BinSettings, data: Any, transition: Transition) -> Any:
        if settings.broken:
            return [Choice("x" * 61, Localized("Trop long"))]
        count = data.get("count") or 0
        return [Choice(size, Localized(f"{size} litres")) for size in ("120", "240")[:count]] or None

    @hookimpl
    def guichet_request_transition(self, request: Any, transition: Transition, choice: str | None) -> None:
        if choice:
            request.record_event(f"size-{choice}")


@pytest.fixture
def app(guichet_config: Any, guichet_database_url: str) -> Iterator[Starlette]:
    guichet_config.set_gateway(database={"url": guichet_database_url})
    guichet_config.enable_service("ville-a", KEY)
    guichet_config.enable_service("ville-b", KEY, broken=True)
    built = build_app(guichet_config, extra_plugins=[("bins-choice", BinPlugin())])
    yield built
    built.state.db.dispose()


def filed(app: Starlette, count: int, commune: str = "ville-a") -> Any:
    return file_request(app, verified_citizen(app), commune, KEY, {"count": count})


def test_the_file_offers_the_options_the_plugin_gives_for_this_request(app: Starlette) -> None:
    view = open_file(app, agent_of(app, "ville-a", KEY), "ville-a", filed(app, 2).reference)
    assert "size" in view.transitions and view.choices["size"] == ("120", "240")


def test_a_transition_without_options_for_this_request_is_not_offered(app: Starlette) -> None:
    view = open_file(app, agent_of(app, "ville-a", KEY), "ville-a", filed(app, 0).reference)
    assert "size" not in view.transitions


async def test_the_choice_reaches_the_plugin_the_history_and_the_audit_log(app: Starlette) -> None:
    row = filed(app, 2)
    sized = take_transition(app, agent_of(app, "ville-a", KEY), "ville-a", row.reference, "size", choice="240")
    assert sized.status == "sized"
    assert_audited(app, f"{KEY}.size-240", commune="ville-a")
    assert_audited(app, "request.transition", commune="ville-a")
    async with GuichetClient(app) as agent:
        await sign_in_agent(agent, "ville-a", KEY, username="lecteur.ville-a")
        page = (await agent.get(f"/agents/ville-a/demandes/{row.reference}")).text
        history = (await agent.get(f"/api/v1/communes/ville-a/requests/{row.reference}")).json()["history"]
    assert [(e["transition"], e["reason"]) for e in history if e["kind"] == "transition"] == [("size", "240")]
    assert "Taille du bac : 240" in page


@pytest.mark.parametrize("choice", ["", "240", "999"])
def test_a_choice_not_offered_is_refused_and_nothing_is_written(app: Starlette, choice: str) -> None:
    row = filed(app, 1)  # one bin: only 120 litres is offered
    with pytest.raises(InvalidInput) as refused:
        take_transition(app, agent_of(app, "ville-a", KEY), "ville-a", row.reference, "size", choice=choice)
    assert refused.value.reason.en == "Choose an option from the list."
    after = stored_request(app, row.public_id)
    assert (after.status, after.version) == ("submitted", row.version)


def test_a_choice_sent_with_a_transition_asking_none_is_not_kept(app: Starlette) -> None:
    row = filed(app, 1)
    agent = agent_of(app, "ville-a", KEY)
    take_transition(app, agent, "ville-a", row.reference, "size", choice="120")
    delivered = take_transition(app, agent, "ville-a", row.reference, "deliver", choice="120")
    assert delivered.status == "delivered"
    assert_audited(app, f"{KEY}.size-120", commune="ville-a")  # once, for the step that asked it


def test_a_plugin_offering_a_value_too_long_to_keep_makes_the_service_unavailable(app: Starlette) -> None:
    row = filed(app, 1, "ville-b")
    with pytest.raises(ServiceUnavailable):
        open_file(app, agent_of(app, "ville-b", KEY), "ville-b", row.reference)
