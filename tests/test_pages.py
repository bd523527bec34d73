"""The citizen pages: home, commune, form, receipt; and every way a visitor can get it wrong."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from sqlmodel import select

from gateway.app import create_app
from gateway.models import ServiceRequest
from gateway.testing import ConfigFolder, GuichetClient

VALID = {
    "name": "Camille Exemple",
    "email": "camille@example.org",
    "topic": "voirie",
    "message": "Le lampadaire est éteint.",
}


def stored(client: GuichetClient) -> list[ServiceRequest]:
    with client.app.state.db.session(all_communes=True) as session:
        return list(session.exec(select(ServiceRequest)).all())


async def test_home_lists_the_eight_communes(guichet_client: GuichetClient) -> None:
    page = await guichet_client.get("/")
    assert page.status_code == 200
    for name in (
        "Vénissieux",
        "Corbas",
        "Givors",
        "Grigny",
        "Saint-Fons",
        "Pierre-Bénite",
        "Saint-Chamond",
        "Rive-de-Gier",
    ):
        assert name in page.text


async def test_pages_are_french_by_default(guichet_client: GuichetClient) -> None:
    page = await guichet_client.get("/")
    assert '<html lang="fr">' in page.text
    assert "Aller au contenu" in page.text


async def test_commune_page_lists_its_enabled_services(guichet_client: GuichetClient) -> None:
    page = await guichet_client.get("/venissieux")
    assert page.status_code == 200
    assert '<a href="/venissieux/contact">Écrire à la mairie</a>' in page.text


async def test_commune_without_services_says_so(guichet_client: GuichetClient) -> None:
    page = await guichet_client.get("/grigny")
    assert "ne propose pas encore de démarche en ligne" in page.text
    assert "/grigny/contact" not in page.text


async def test_unknown_commune_is_a_404_page_naming_it(guichet_client: GuichetClient) -> None:
    page = await guichet_client.get("/atlantis")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "Aucune commune « atlantis »" in page.text


async def test_service_a_commune_does_not_enable_is_a_404(guichet_client: GuichetClient) -> None:
    page = await guichet_client.get("/grigny/contact")
    assert page.status_code == 404
    assert "ne propose pas la démarche « contact »" in page.text


async def test_form_shows_the_communes_settings(guichet_client: GuichetClient) -> None:
    venissieux = await guichet_client.get("/venissieux/contact")
    corbas = await guichet_client.get("/corbas/contact")
    assert 'name="phone"' in venissieux.text and 'name="phone"' not in corbas.text
    assert "répond en 10 jours" in venissieux.text and "répond en 15 jours" in corbas.text


async def test_valid_form_files_a_request_and_shows_the_receipt(guichet_client: GuichetClient) -> None:
    sent = await guichet_client.submit("/venissieux/contact", VALID)
    assert sent.status_code == 303
    receipt = await guichet_client.get(sent.headers["location"])
    assert receipt.status_code == 200
    reference = re.search(r'class="reference">([^<]+)<', receipt.text)
    assert reference and re.fullmatch(r"MSG-\d{4}-000001", reference.group(1))
    [row] = stored(guichet_client)
    assert (row.commune, row.reference, row.data["topic"]) == ("venissieux", reference.group(1), "voirie")
    assert row.summary == "Voirie, éclairage, stationnement"


async def test_form_errors_keep_the_input_and_store_nothing(guichet_client: GuichetClient) -> None:
    answer = await guichet_client.submit("/venissieux/contact", {**VALID, "email": "not-an-address", "name": ""})
    assert answer.status_code == 422
    assert "Le formulaire contient 2 erreurs" in answer.text
    assert 'href="#champ-email"' in answer.text and 'aria-invalid="true"' in answer.text
    assert "Le lampadaire est éteint." in answer.text
    assert stored(guichet_client) == []


async def test_a_refused_form_asks_the_plugin_for_its_form_once(
    guichet_client: GuichetClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The post resolves the service's rules once; the 422 page shows the form from them, not from a second call."""
    loaded = await guichet_client.get("/venissieux/contact")
    hooks = guichet_client.app.state.registry.hooks
    asked: list[str] = []
    first = hooks.first

    def counting(hook: str, **kwargs: Any) -> Any:
        asked.append(hook)
        return first(hook, **kwargs)

    monkeypatch.setattr(hooks, "first", counting)
    csrf = re.search(r'name="csrftoken" value="([^"]+)"', loaded.text)
    assert csrf is not None
    answer = await guichet_client.post("/venissieux/contact", data={**VALID, "name": "", "csrftoken": csrf.group(1)})
    assert answer.status_code == 422
    assert asked.count("guichet_service_form") == 1


async def test_choice_outside_the_communes_topics_is_refused(guichet_client: GuichetClient) -> None:
    answer = await guichet_client.submit("/corbas/contact", {**VALID, "topic": "urbanisme"})
    assert answer.status_code == 422
    assert "Choisissez une des options proposées." in answer.text


async def test_plugin_validation_message_is_shown(guichet_client: GuichetClient) -> None:
    answer = await guichet_client.submit("/venissieux/contact", {**VALID, "message": "Bonjour"})
    assert answer.status_code == 422
    assert "Votre message est trop court" in answer.text


async def test_double_submission_files_one_request(guichet_client: GuichetClient) -> None:
    form = await guichet_client.get("/venissieux/contact")
    hidden = dict(re.findall(r'name="(csrftoken|submission_key)" value="([^"]+)"', form.text))
    first = await guichet_client.post("/venissieux/contact", data={**hidden, **VALID})
    second = await guichet_client.post("/venissieux/contact", data={**hidden, **VALID})
    assert first.headers["location"].split("t=")[0] == second.headers["location"].split("t=")[0]
    assert len(stored(guichet_client)) == 1


async def test_post_without_csrf_token_is_refused_and_stores_nothing(guichet_client: GuichetClient) -> None:
    await guichet_client.get("/venissieux/contact")
    answer = await guichet_client.post("/venissieux/contact", data=VALID)
    assert answer.status_code == 403
    assert "Le formulaire a expiré" in answer.text
    assert stored(guichet_client) == []


async def test_post_without_any_cookie_is_refused(guichet_client: GuichetClient) -> None:
    answer = await guichet_client.post("/venissieux/contact", data={**VALID, "csrftoken": "forged"})
    assert answer.status_code == 403
    assert stored(guichet_client) == []


async def test_body_over_the_limit_is_a_413_page(guichet_client: GuichetClient) -> None:
    token = await guichet_client.csrf_token("/venissieux/contact")
    answer = await guichet_client.post(
        "/venissieux/contact", data={**VALID, "csrftoken": token, "message": "x" * 11_000_000}
    )
    assert answer.status_code == 413
    assert "Envoi trop volumineux" in answer.text
    assert stored(guichet_client) == []


async def test_tampered_receipt_link_is_a_404(guichet_client: GuichetClient) -> None:
    sent = await guichet_client.submit("/venissieux/contact", VALID)
    answer = await guichet_client.get(sent.headers["location"] + "x")
    assert answer.status_code == 404
    assert "Ce récépissé n&#39;est plus consultable" in answer.text


async def test_receipt_of_one_commune_is_not_shown_under_another(guichet_client: GuichetClient) -> None:
    sent = await guichet_client.submit("/venissieux/contact", VALID)
    answer = await guichet_client.get(sent.headers["location"].replace("/venissieux/", "/corbas/"))
    assert answer.status_code == 404


async def test_language_switch_sets_english_and_returns_to_the_page(guichet_client: GuichetClient) -> None:
    token = await guichet_client.csrf_token("/venissieux")
    answer = await guichet_client.post("/langue", data={"csrftoken": token, "lang": "en", "next": "/venissieux"})
    assert (answer.status_code, answer.headers["location"]) == (303, "/venissieux")
    page = await guichet_client.get("/venissieux")
    assert '<html lang="en">' in page.text and "Write to the town hall" in page.text


async def test_language_switch_returns_to_the_receipt_with_its_token(guichet_client: GuichetClient) -> None:
    receipt = (await guichet_client.submit("/venissieux/contact", VALID)).headers["location"]
    page = await guichet_client.get(receipt)
    found = re.search(r'name="next" value="([^"]+)"', page.text)
    assert found is not None
    back = html.unescape(found.group(1))
    assert back == receipt
    token = await guichet_client.csrf_token(receipt)
    answer = await guichet_client.post("/langue", data={"csrftoken": token, "lang": "en", "next": back})
    assert answer.headers["location"] == receipt
    assert (await guichet_client.get(receipt)).status_code == 200


async def test_language_switch_never_redirects_off_site(guichet_client: GuichetClient) -> None:
    token = await guichet_client.csrf_token("/")
    answer = await guichet_client.post("/langue", data={"csrftoken": token, "lang": "en", "next": "//evil.example/"})
    assert answer.headers["location"] == "/"


async def test_unknown_language_is_a_400(guichet_client: GuichetClient) -> None:
    token = await guichet_client.csrf_token("/")
    answer = await guichet_client.post("/langue", data={"csrftoken": token, "lang": "xx", "next": "/"})
    assert answer.status_code == 400
    assert "Langue inconnue." in answer.text


async def test_browser_language_english_is_honoured(guichet_client: GuichetClient) -> None:
    page = await guichet_client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in page.text


async def test_wrong_method_is_a_405_page(guichet_client: GuichetClient) -> None:
    token = await guichet_client.csrf_token("/venissieux")
    answer = await guichet_client.post("/venissieux", data={"csrftoken": token})
    assert answer.status_code == 405
    assert set(answer.headers["allow"].split(", ")) == {"GET", "HEAD"}
    assert "Méthode non autorisée" in answer.text


async def test_deployment_may_default_to_english(guichet_config: ConfigFolder, guichet_database_url: str) -> None:
    guichet_config.set_gateway(gateway={"default_locale": "en"}, database={"url": guichet_database_url})
    app = create_app(guichet_config.path)
    async with GuichetClient(app) as client:
        page = await client.get("/", headers={"Accept-Language": "de"})
        problem = await client.get("/api/v1/communes/atlantis", headers={"Accept-Language": "de"})
    app.state.db.dispose()
    assert '<html lang="en">' in page.text
    assert problem.json()["title"] == "Page not found"


async def test_error_summary_uses_english_punctuation_in_english(guichet_client: GuichetClient) -> None:
    guichet_client.cookies.set("guichet_lang", "en")
    answer = await guichet_client.submit("/venissieux/contact", {**VALID, "name": ""})
    assert "Your first and last name: This field is required." in answer.text
    assert "<title>Error: Write to the town hall" in answer.text
