"""The form a commune's settings produce: what is offered, and which fields apply to which answers."""

from __future__ import annotations

from guichet_etat_civil import plugin
from guichet_etat_civil.settings import EtatCivilSettings

from gateway import Commune, FormField, Localized

COMMUNE = Commune(slug="corbas", name="Corbas", insee="69273", department="69", seat=False, street="2 place",
                  postcode="69960", city="Corbas", email="contact@corbas.example", phone="04 00 00 00 02",
                  opening_hours=None)  # fmt: skip


def form(settings: EtatCivilSettings | None = None) -> dict[str, FormField]:
    fields = plugin.guichet_service_form(commune=COMMUNE, settings=settings or EtatCivilSettings())
    return {field.name: field for field in fields}


def values(field: FormField) -> list[str]:
    return [choice.value for choice in field.choices]


def test_death_is_offered_and_labelled_full_copy_only() -> None:
    [death] = [choice for choice in form()["kind"].choices if choice.value == "death"]
    assert "copie intégrale uniquement" in death.label.fr


def test_document_choice_applies_only_to_birth_and_marriage() -> None:
    document = form()["form"]
    assert document.applies({"kind": "birth"}) and document.applies({"kind": "marriage"})
    assert not document.applies({"kind": "death"})


def test_documents_offered_are_the_communes_forms() -> None:
    settings = EtatCivilSettings(forms=("full-copy", "extract-with-filiation", "extract-without-filiation"))
    assert values(form(settings)["form"]) == ["full-copy", "extract-with-filiation", "extract-without-filiation"]


def test_death_is_not_offered_where_full_copies_are_not_delivered() -> None:
    assert values(form(EtatCivilSettings(forms=("extract-without-filiation",)))["kind"]) == ["birth", "marriage"]


def test_parents_are_asked_only_for_a_full_copy_or_an_extract_with_filiation() -> None:
    fields = form()
    for name in ("father_name", "mother_name"):
        assert fields[name].required
        assert [f for f in plugin.FORM_LABELS if fields[name].applies({"form": f})] == [
            "full-copy",
            "extract-with-filiation",
        ]


def test_address_applies_only_to_delivery_by_post() -> None:
    fields = form(EtatCivilSettings(counter_pickup=True))
    for name in ("address_street", "address_postcode", "address_city"):
        assert fields[name].required
        assert fields[name].applies({"delivery": "post"}) and not fields[name].applies({"delivery": "counter"})


def test_counter_pickup_is_offered_only_when_the_commune_allows_it() -> None:
    assert values(form(EtatCivilSettings(counter_pickup=False))["delivery"]) == ["post"]
    assert values(form(EtatCivilSettings(counter_pickup=True))["delivery"]) == ["post", "counter"]


def test_copies_go_from_one_to_the_communes_maximum() -> None:
    assert values(form(EtatCivilSettings(max_copies=4))["copies"]) == ["1", "2", "3", "4"]


def test_pacs_partner_is_offered_only_when_the_commune_entitles_it() -> None:
    assert "pacs-partner" not in values(form()["quality"])
    assert "pacs-partner" in values(form(EtatCivilSettings(pacs_partner_entitled=True))["quality"])


def test_archive_questions_apply_only_to_someone_not_entitled() -> None:
    fields = form()
    for name in ("record_minor", "death_date"):
        assert not fields[name].required
        assert [q for q in values(fields["quality"]) if fields[name].applies({"quality": q})] == ["other"]


def test_processing_days_and_first_register_year_are_told_to_the_citizen() -> None:
    fields = form(EtatCivilSettings(processing_days=5, registers_from_year=1960))
    assert "5 jours ouvrés" in (fields["delivery"].help or Localized("")).fr
    assert "1960" in (fields["event_date"].help or Localized("")).fr


def test_dates_are_date_fields() -> None:
    fields = form()
    assert fields["event_date"].kind == fields["death_date"].kind == "date"


def test_eligibility_is_explained_before_the_form() -> None:
    assert plugin.SERVICE.eligibility is not None
    assert "extrait" in plugin.SERVICE.eligibility.fr and "75 ans" in plugin.SERVICE.eligibility.fr
