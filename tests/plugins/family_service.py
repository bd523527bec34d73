"""A service filed per family member (plugin API 1.2): one request per child, the parent's answers shared.

``child_given_name`` and ``child_birthdate`` repeat once per child (``per_member``);
``parent_email`` and ``school_year`` are asked once. A child named « Refus » is refused
by the service's own check (an error on that child's field); one named « Panne »
makes the plugin fail while its request is stored, so nothing of the family is kept.
"""

from __future__ import annotations

from gateway import (
    Choice,
    CitizenIdentity,
    FieldError,
    FormField,
    FormValues,
    Localized,
    MemberBlock,
    RequestHandle,
    ServiceDefinition,
    hookimpl,
)

#: the plugin API version this plugin is written for (docs/plugin_api.md)
GUICHET_PLUGIN_API = "1.2"

KEY = "famille-essai"
MAX_CHILDREN = 3

SERVICE = ServiceDefinition(
    key=KEY,
    title=Localized("Inscription des enfants (essai)", "Children's registration (test)"),
    description=Localized("Une démarche déposée par enfant.", "A service filed per child."),
    reference_prefix="FAM",
    purpose=Localized("Inscrire chaque enfant.", "To register each child."),
    subject_field="parent_email",
    members=MemberBlock(
        label=Localized("Enfant", "Child"),
        add_label=Localized("Ajouter un enfant", "Add another child"),
        max_count=MAX_CHILDREN,
    ),
)

FORM = [
    FormField("parent_email", Localized("Votre adresse électronique", "Your e-mail address"), kind="email"),
    FormField("child_given_name", Localized("Prénom de l'enfant", "Child's given name"), per_member=True),
    FormField("child_birthdate", Localized("Date de naissance", "Date of birth"), kind="date", per_member=True),
    FormField(
        "school_year",
        Localized("Année scolaire", "School year"),
        kind="select",
        choices=(Choice("2027", Localized("2027-2028")), Choice("2028", Localized("2028-2029"))),
    ),
]

REFUSED = Localized("Cet enfant ne peut pas être inscrit ici.", "This child cannot be registered here.")


@hookimpl
def guichet_services() -> list[ServiceDefinition]:
    return [SERVICE]


@hookimpl
def guichet_service_form(service: ServiceDefinition) -> list[FormField] | None:
    return FORM if service.key == KEY else None


@hookimpl
def guichet_prefill_form(service: ServiceDefinition, citizen: CitizenIdentity) -> FormValues | None:
    if service.key != KEY:
        return None
    return {"parent_email": citizen.email, "child_given_name": "not prefilled: each child is typed"}


@hookimpl
def guichet_validate_request(service: ServiceDefinition, data: FormValues) -> list[FieldError]:
    if service.key == KEY and data.get("child_given_name") == "Refus":
        return [FieldError("child_given_name", REFUSED)]
    return []


@hookimpl
def guichet_request_submitted(request: RequestHandle) -> None:
    if request.service == KEY and request.data.get("child_given_name") == "Panne":
        raise RuntimeError("the test plugin fails on purpose")
