"""The checks before submission (place, registers, quality, entitlement) and the prefill from FranceConnect."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

from guichet_etat_civil import plugin
from guichet_etat_civil.entitlement import add_years
from guichet_etat_civil.settings import EtatCivilSettings

from gateway import CitizenIdentity, Commune, FieldError

COMMUNE = Commune(slug="givors", name="Givors", insee="69091", department="69", seat=False, street="3 place",
                  postcode="69700", city="Givors", email="contact@givors.example", phone="04 00 00 00 03",
                  opening_hours=None)  # fmt: skip
CAMILLE = CitizenIdentity(
    given_name="Camille Hélène", family_name="Exemple-Démo", email="camille@example.org", birthdate="1990-04-02",
    birthplace="69091", birthcountry="99100", verified=True,
)  # fmt: skip

REQUEST = {
    "kind": "birth",
    "place": "here",
    "form": "full-copy",
    "person_surname": "Exemple-Démo",
    "person_given_names": "Camille Hélène",
    "event_date": "1990-04-02",
    "father_name": "Dominique Exemple-Démo",
    "mother_name": "Claude Fictif",
    "quality": "self",
    "record_minor": "",
    "death_date": "",
    "requester_family_name": "Exemple-Démo",
    "requester_given_names": "Camille Hélène",
    "requester_email": "",
    "copies": "2",
    "delivery": "post",
    "address_street": "1 rue de l'Exemple",
    "address_complement": "",
    "address_postcode": "69700",
    "address_city": "Givors",
    "address_country": "",
}


def validate(
    changes: Mapping[str, str] | None = None,
    *,
    settings: EtatCivilSettings | None = None,
    citizen: CitizenIdentity | None = CAMILLE,
) -> list[FieldError]:
    return plugin.guichet_validate_request(
        commune=COMMUNE, settings=settings or EtatCivilSettings(), data={**REQUEST, **(changes or {})}, citizen=citizen
    )


def fields(errors: list[FieldError]) -> list[str]:
    return [error.field for error in errors]


def test_own_full_copy_is_accepted() -> None:
    assert validate() == []


def test_event_abroad_is_declined_with_the_service_central_in_nantes() -> None:
    [error] = validate({"place": "abroad"})
    assert error.field == "place"
    assert "Service central d'état civil" in error.message.fr and "Nantes" in error.message.fr
    assert "service-public.fr" in error.message.fr
    assert "Ministry for Europe and Foreign Affairs in Nantes" in (error.message.en or "")


def test_event_in_another_commune_is_declined_with_its_town_hall() -> None:
    [error] = validate({"place": "elsewhere"})
    assert error.field == "place"
    assert "mairie de la commune où l'événement a eu lieu" in error.message.fr
    assert "town hall of the commune where the event happened" in (error.message.en or "")


def test_record_of_the_first_register_year_is_accepted() -> None:
    settings = EtatCivilSettings(registers_from_year=1990)
    assert validate({"event_date": "1990-01-01"}, settings=settings, citizen=None) == []


def test_record_before_the_first_register_year_points_to_the_archives() -> None:
    settings = EtatCivilSettings(registers_from_year=1990)
    [error] = validate({"event_date": "1989-12-31"}, settings=settings, citizen=None)
    assert error.field == "event_date"
    assert "depuis 1990" in error.message.fr and "Archives départementales" in error.message.fr
    assert "departmental archives" in (error.message.en or "")


def test_event_in_the_future_is_refused() -> None:
    tomorrow = (date.today() + timedelta(days=1)).isoformat()  # the test's day, not the day its module was imported
    assert fields(validate({"event_date": tomorrow}, citizen=None)) == ["event_date"]


def test_someone_else_asking_a_full_copy_is_refused_with_the_reason_in_both_languages() -> None:
    [error] = validate({"quality": "other"}, citizen=None)
    assert error.field == "form"
    assert "n'est délivré qu'à" in error.message.fr and "extrait sans filiation" in error.message.fr
    assert "is issued only to" in (error.message.en or "")


def test_someone_else_asking_an_extract_without_filiation_is_accepted() -> None:
    assert validate({"quality": "other", "form": "extract-without-filiation"}, citizen=None) == []


def test_someone_else_may_have_a_record_older_than_the_archive_period() -> None:
    old = add_years(date.today(), -80).isoformat()
    assert validate({"quality": "other", "event_date": old}, settings=EtatCivilSettings(registers_from_year=1900)) == []


def test_marriage_of_80_years_counts_as_concerning_a_minor_unless_told_otherwise() -> None:
    old = add_years(date.today(), -80).isoformat()
    settings = EtatCivilSettings(registers_from_year=1900)
    marriage = {"kind": "marriage", "quality": "other", "event_date": old}
    assert fields(validate(marriage, settings=settings)) == ["form"]
    assert validate({**marriage, "record_minor": "no"}, settings=settings) == []


def test_someone_else_may_have_a_record_25_years_after_the_death() -> None:
    death = add_years(date.today(), -25).isoformat()
    assert validate({"quality": "other", "event_date": "1970-05-05", "death_date": death}, citizen=None) == []


def test_death_date_before_the_record_is_refused() -> None:
    errors = validate({"quality": "other", "event_date": "1990-04-02", "death_date": "1980-01-01"}, citizen=None)
    assert fields(errors) == ["death_date"]


def test_death_record_is_accepted_from_anyone() -> None:
    assert validate({"kind": "death", "form": "", "quality": "other", "event_date": "2020-01-01"}, citizen=None) == []


def test_death_record_is_accepted_only_as_a_full_copy() -> None:
    errors = validate({"kind": "death", "form": "extract-without-filiation", "quality": "other"}, citizen=None)
    assert fields(errors) == ["form"]
    assert errors[0].message.en == "A death record is issued as a full copy only."


def test_self_is_not_a_quality_for_a_death_record() -> None:
    assert fields(validate({"kind": "death", "form": "", "event_date": "2020-01-01"}, citizen=None)) == ["quality"]


def test_self_request_must_name_the_signed_in_person() -> None:
    [error] = validate({"person_surname": "Autre"})
    assert error.field == "quality"
    assert "choisissez votre lien" in error.message.fr and "choose how you are related" in (error.message.en or "")


def test_self_request_matches_names_regardless_of_case_accents_and_hyphens() -> None:
    assert validate({"person_surname": "EXEMPLE DEMO", "person_given_names": "camille"}) == []


def test_self_request_is_not_matched_against_an_unverified_identity() -> None:
    typed_by_hand = CitizenIdentity(given_name="Someone", family_name="Else", verified=False)
    assert validate(citizen=typed_by_hand) == []


def test_minor_asking_for_their_own_full_copy_is_refused() -> None:
    born = add_years(date.today(), -15).isoformat()
    young = CitizenIdentity(given_name="Camille Hélène", family_name="Exemple-Démo", verified=True)
    assert fields(validate({"event_date": born}, citizen=young)) == ["form"]


def test_french_postcode_must_have_five_digits() -> None:
    assert fields(validate({"address_postcode": "6970"})) == ["address_postcode"]


def test_foreign_postcode_is_free() -> None:
    assert validate({"address_postcode": "SW1A 1AA", "address_country": "Royaume-Uni"}) == []


def test_prefill_from_a_verified_identity_fills_requester_and_own_birth_record() -> None:
    values = plugin.guichet_prefill_form(commune=COMMUNE, citizen=CAMILLE)
    assert values == {
        "requester_email": "camille@example.org",
        "requester_family_name": "Exemple-Démo",
        "requester_given_names": "Camille Hélène",
        "person_surname": "Exemple-Démo",
        "person_given_names": "Camille Hélène",
        "event_date": "1990-04-02",
        "quality": "self",
        "kind": "birth",
        "place": "here",
    }


def test_prefill_leaves_the_place_to_someone_born_elsewhere() -> None:
    elsewhere = CitizenIdentity(given_name="Camille", family_name="Exemple", birthplace="75056", verified=True)
    assert "place" not in (plugin.guichet_prefill_form(commune=COMMUNE, citizen=elsewhere) or {})


def test_prefill_from_an_unverified_identity_is_the_email_only() -> None:
    local = CitizenIdentity(given_name="Camille", family_name="Exemple", email="camille@example.org")
    assert plugin.guichet_prefill_form(commune=COMMUNE, citizen=local) == {"requester_email": "camille@example.org"}
