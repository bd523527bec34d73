"""« Écrire à la mairie »: its settings, its form, its checks, and filing end to end through the gateway."""

from __future__ import annotations

import re

import pytest
from guichet_contact import plugin
from guichet_contact.plugin import ContactSettings
from pydantic import ValidationError

from gateway.testing import GuichetClient, commune_requests, queued_messages, request_handle, sign_in_staff

MESSAGE = {
    "name": "Camille Exemple",
    "email": "camille@example.org",
    "topic": "voirie",
    "message": "Le trottoir est abîmé.",
}


class FakeCommune:
    name = "Corbas"


def form(settings: ContactSettings) -> dict[str, object]:
    fields = plugin.guichet_service_form(service=plugin.SERVICE, commune=FakeCommune(), settings=settings)  # type: ignore[arg-type]
    return {field.name: field for field in fields}


def test_service_is_declared_with_its_prefix() -> None:
    [service] = plugin.guichet_services()
    assert (service.key, service.reference_prefix, service.settings) == ("contact", "MSG", ContactSettings)


@pytest.mark.parametrize(
    "settings",
    [
        {"topics": []},
        {"topics": ["voirie", "voirie"]},
        {"topics": ["piscine"]},
        {"reply_within_days": 0},
        {"colour": "red"},
    ],
    ids=["no topic", "topic twice", "unknown topic", "no delay", "unknown key"],
)
def test_settings_outside_what_the_plugin_allows_are_refused(settings: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ContactSettings.model_validate(settings)


def test_phone_field_is_optional_and_only_when_the_commune_asks() -> None:
    assert "phone" not in form(ContactSettings())
    phone = form(ContactSettings(ask_phone=True))["phone"]
    assert phone.required is False and phone.kind == "tel"  # type: ignore[attr-defined]


def test_subjects_are_the_communes_topics_in_its_order() -> None:
    topic = form(ContactSettings(topics=("urbanisme", "autre")))["topic"]
    assert [choice.value for choice in topic.choices] == ["urbanisme", "autre"]  # type: ignore[attr-defined]


def test_reply_delay_is_told_to_the_citizen() -> None:
    message = form(ContactSettings(reply_within_days=7))["message"]
    assert "répond en 7 jours" in message.help.fr  # type: ignore[attr-defined]


def test_message_of_fewer_than_three_words_is_refused() -> None:
    errors = plugin.guichet_validate_request(
        service=plugin.SERVICE, settings=ContactSettings(), data={"message": "Bonjour !"}
    )
    assert [error.field for error in errors] == ["message"]


def test_message_of_three_words_is_accepted() -> None:
    assert (
        plugin.guichet_validate_request(
            service=plugin.SERVICE, settings=ContactSettings(), data={"message": "Un deux trois"}
        )
        == []
    )


def test_queue_summary_is_the_subject_never_the_message() -> None:
    request = request_handle("contact", "corbas", MESSAGE, reference="MSG-2026-000001")
    plugin.guichet_request_submitted(settings=ContactSettings(), request=request)
    assert request.summary == "Voirie, éclairage, stationnement"


async def test_citizen_files_a_message_and_gets_a_reference(guichet_client: GuichetClient) -> None:
    sent = await guichet_client.submit("/givors/contact", MESSAGE)
    receipt = await guichet_client.get(sent.headers["location"])
    assert re.search(r"MSG-\d{4}-000001", receipt.text)
    [row] = commune_requests(guichet_client.app, "givors")
    assert row.data == {**MESSAGE, "place": None}  # the place is optional, even for a road problem


async def test_message_is_filed_through_the_api(guichet_client: GuichetClient) -> None:
    response = await guichet_client.post(
        "/api/v1/communes/saint-chamond/services/contact/requests", json={"data": MESSAGE}
    )
    assert response.status_code == 201 and response.json()["reference"].startswith("MSG-")


async def test_communes_that_do_not_enable_it_do_not_offer_it(guichet_client: GuichetClient) -> None:
    for slug in ("grigny", "pierre-benite", "rive-de-gier"):
        assert (await guichet_client.get(f"/{slug}/contact")).status_code == 404


async def filed_and_agent(client: GuichetClient) -> str:
    """A message filed without an account, and an agent of Givors signed in; returns the reference."""
    sent = await client.submit("/givors/contact", {**MESSAGE, "message": "Le trottoir est abîmé devant la poste."})
    assert sent.status_code == 303
    [row] = commune_requests(client.app, "givors")
    assert row.reference is not None
    await sign_in_staff(client, "agent.givors", "agent:givors:contact")
    return row.reference


async def test_an_agent_answers_and_the_sender_gets_the_answer_by_mail(guichet_client: GuichetClient) -> None:
    reference = await filed_and_agent(guichet_client)
    file = f"/agents/givors/demandes/{reference}"
    page = await guichet_client.get(file)
    version = re.search(r'name="version" value="(\d+)"', page.text)
    assert version is not None
    answered = await guichet_client.submit(f"{file}/transition", {"transition": "answer", "version": version.group(1),
                                           "comment": "Les services techniques passent jeudi."}, page=file)  # fmt: skip
    assert answered.status_code == 303, answered.text
    [row] = commune_requests(guichet_client.app, "givors")
    [answer] = queued_messages(guichet_client.app, kind="request-transition")
    assert row.status == "answered" and row.decided_at is not None
    assert answer.recipient == MESSAGE["email"] and "Les services techniques passent jeudi." in answer.body


async def test_closing_a_message_needs_a_reason(guichet_client: GuichetClient) -> None:
    reference = await filed_and_agent(guichet_client)
    file = f"/agents/givors/demandes/{reference}"
    page = await guichet_client.get(file)
    version = re.search(r'name="version" value="(\d+)"', page.text)
    assert version is not None
    refused = await guichet_client.submit(f"{file}/transition", {"transition": "close", "version": version.group(1)},
                                          page=file)  # fmt: skip
    assert refused.status_code == 422 and "Choisissez un motif dans la liste." in refused.text
    [row] = commune_requests(guichet_client.app, "givors")
    assert row.status == "submitted"
