"""A service using every field kind, filed without an account: the field-kind tests' subject."""

from __future__ import annotations

from gateway import Choice, FormField, Localized, ServiceDefinition, hookimpl

KEY = "toutes-sortes"

SERVICE = ServiceDefinition(
    key=KEY,
    title=Localized("Toutes les sortes de champs", "Every kind of field"),
    description=Localized("Une démarche d'essai des sortes de champs.", "A service trying every kind of field."),
    reference_prefix="SRT",
    purpose=Localized("Essayer les champs.", "To try the fields."),
    requires_sign_in=False,
)

DAYS = (
    Choice("lundi", Localized("Lundi", "Monday")),
    Choice("mardi", Localized("Mardi", "Tuesday")),
    Choice("jeudi", Localized("Jeudi", "Thursday")),
)
FORM = [
    FormField("name", Localized("Nom", "Name"), max_length=80),
    FormField("days", Localized("Jours de cantine", "Canteen days"), kind="checkboxes", choices=DAYS),
    FormField(
        "meal",
        Localized("Repas", "Meal"),
        kind="radio",
        choices=(
            Choice("standard", Localized("Standard", "Standard")),
            Choice("veg", Localized("Sans viande", "Meatless")),
        ),
    ),
    FormField("children", Localized("Nombre d'enfants", "Number of children"), kind="number", min_value=1, max_value=9),
    FormField("allergy", Localized("Une allergie ?", "An allergy?"), kind="yesno"),
    FormField(
        "allergy_detail",
        Localized("Laquelle ?", "Which one?"),
        required=False,
        show_if=("allergy", ("yes",)),
    ),
    FormField("home", Localized("Adresse du domicile", "Home address"), kind="address"),
    FormField("second_home", Localized("Autre adresse", "Other address"), kind="address", required=False),
]


@hookimpl
def guichet_services() -> list[ServiceDefinition]:
    return [SERVICE]


@hookimpl
def guichet_service_form() -> list[FormField]:
    return FORM
