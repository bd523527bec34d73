"""Services using every field kind: one filed without an account, one whose form asks for a document."""

from __future__ import annotations

from gateway import Choice, FormField, Localized, ServiceDefinition, hookimpl

#: the plugin API version this test plugin is written for
GUICHET_PLUGIN_API = "1.0"

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


WITH_DOCUMENT = ServiceDefinition(
    key="piece-au-formulaire",
    title=Localized("Une pièce demandée par le formulaire", "A document the form asks for"),
    description=Localized("Une démarche d'essai d'un champ « document ».", "A service trying a document field."),
    reference_prefix="PAF",
    purpose=Localized("Essayer les champs.", "To try the fields."),
)
DOCUMENT_FORM = [
    FormField("owner", Localized("Propriétaire ?", "Owner?"), kind="yesno"),
    FormField(
        "deed",
        Localized("Titre de propriété", "Title deed"),
        kind="document",
        accept=("application/pdf",),
        max_bytes=64 * 1024,
        show_if=("owner", ("yes",)),
    ),
]


@hookimpl
def guichet_services() -> list[ServiceDefinition]:
    return [SERVICE, WITH_DOCUMENT]


@hookimpl
def guichet_service_form(service: ServiceDefinition) -> list[FormField]:
    return FORM if service.key == KEY else DOCUMENT_FORM
