"""A family service that asks for documents (plugin API 1.2): prepared as one draft per child, submitted together.

``child_given_name`` is asked per child, ``parent_email`` once. The proof of
address is shared (copied to each child's draft); the birth certificate is
each child's own (``per_member``).
"""

from __future__ import annotations

from gateway import (
    CitizenIdentity,
    DocumentSpec,
    FormField,
    FormValues,
    Localized,
    MemberBlock,
    ServiceDefinition,
    hookimpl,
)

#: the plugin API version this plugin is written for (docs/plugin_api.md)
GUICHET_PLUGIN_API = "1.2"

KEY = "famille-pieces"
MAX_CHILDREN = 3

SERVICE = ServiceDefinition(
    key=KEY,
    title=Localized("Inscription des enfants avec pièces (essai)", "Children's registration with documents (test)"),
    description=Localized("Une démarche par enfant, avec des pièces.", "A service per child, with documents."),
    reference_prefix="FAP",
    purpose=Localized("Inscrire chaque enfant.", "To register each child."),
    documents=(
        DocumentSpec("proof_of_address", Localized("Justificatif de domicile", "Proof of address")),
        DocumentSpec("birth_certificate", Localized("Acte de naissance", "Birth certificate"), per_member=True),
    ),
    members=MemberBlock(
        label=Localized("Enfant", "Child"),
        add_label=Localized("Inscrire aussi un frère ou une sœur", "Also register a brother or sister"),
        max_count=MAX_CHILDREN,
    ),
)

FORM = [
    FormField("parent_email", Localized("Votre adresse électronique", "Your e-mail address"), kind="email"),
    FormField("child_given_name", Localized("Prénom de l'enfant", "Child's given name"), per_member=True),
]


@hookimpl
def guichet_services() -> list[ServiceDefinition]:
    return [SERVICE]


@hookimpl
def guichet_service_form(service: ServiceDefinition) -> list[FormField] | None:
    return FORM if service.key == KEY else None


@hookimpl
def guichet_prefill_form(service: ServiceDefinition, citizen: CitizenIdentity) -> FormValues | None:
    return {"parent_email": citizen.email} if service.key == KEY else None
