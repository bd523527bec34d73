"""The service the plugin declares: « Inscription scolaire », its documents, purpose, legal basis and derived values."""

from __future__ import annotations

from gateway import DocumentSpec, Localized, MemberBlock, ServiceDefinition
from guichet_inscription_scolaire.settings import InscriptionSettings
from guichet_inscription_scolaire.workflow import LINKED_WORKFLOW, WORKFLOW

KEY = "inscription-scolaire"

#: the values the plugin records on each request's data at submission (stable keys, read by capacity counts):
#: ``level`` the level code (``ps``, ``cp``…), ``school`` the assigned school's key (``""`` when the address is
#: not covered or the child goes to another commune), ``school_name`` the school's name as printed,
#: ``catchment`` ``"covered"`` or ``"uncovered"``
DERIVED = ("level", "school", "school_name", "catchment")

DOCUMENTS = (
    DocumentSpec(
        "identity_filiation",
        Localized(
            "Livret de famille, ou pièce d'identité et acte de naissance de l'enfant",
            "Family record book, or ID and the child's birth certificate",
        ),
        per_member=True,
    ),
    DocumentSpec(
        "proof_of_address",
        Localized("Justificatif de domicile de moins de trois mois", "Proof of address less than three months old"),
    ),
    DocumentSpec(
        "vaccinations",
        Localized(
            "Vaccinations obligatoires à jour (carnet de santé) ou contre-indication",
            "Compulsory vaccinations (health record) or a medical contraindication",
        ),
        per_member=True,
    ),
    DocumentSpec(
        "court_decision",
        Localized("Décision de justice désignant le tuteur", "Court decision naming the guardian"),
        show_if=("applicant_authority", ("guardian",)),
    ),
    DocumentSpec(
        "radiation",
        Localized("Certificat de radiation de l'ancienne école", "Certificat de radiation from the former school"),
        show_if=("leaving_school", ("yes",)),
        per_member=True,
    ),
    DocumentSpec(
        "derogation_proof",
        Localized("Justificatif du motif de dérogation", "Proof of the dérogation's reason"),
        required=False,
        show_if=("derogation", ("here", "elsewhere")),
        per_member=True,
    ),
)

#: siblings are registered together (API 1.2): one draft per child, its own answers (the form's ``per_member``
#: fields) and documents (``per_member`` above); the applicant, the address and the school year are shared, and
#: the proof of address and a guardian's court decision are copied into each child's draft
FAMILY = MemberBlock(
    label=Localized("Enfant", "Child"),
    add_label=Localized("Inscrire aussi un frère ou une sœur", "Also register a brother or sister"),
    max_count=6,
)

SERVICE = ServiceDefinition(
    key=KEY,
    title=Localized("Inscription scolaire (maternelle et élémentaire)", "School registration (nursery and primary)"),
    description=Localized(
        "Inscrivez votre enfant à l'école maternelle ou élémentaire publique : la mairie attribue l'école selon votre "
        "adresse et délivre le certificat d'inscription.",
        "Register your child at a public nursery or primary school: the town hall assigns the school from your "
        "address and issues the registration certificate.",
    ),
    reference_prefix="INS",
    purpose=Localized(
        "Inscrire les enfants dans les écoles publiques de la commune et délivrer le certificat d'inscription.",
        "To register children in the commune's public schools and issue the registration certificate.",
    ),
    legal_basis=Localized(
        "Code de l'éducation, art. L131-5 et L131-6 (inscription), L212-7 (carte scolaire), L212-8 (frais entre "
        "communes).",
        "French Education Code, art. L131-5 and L131-6 (registration), L212-7 (catchment), L212-8 (costs between "
        "communes).",
    ),
    eligibility=Localized(
        "Une personne exerçant l'autorité parentale, domiciliée dans la commune, pour un enfant de 3 à 10 ans dans "
        "l'année civile de la rentrée (2 ans pour la toute petite section, là où une école l'accueille).",
        "A person holding parental authority, living in the commune, for a child aged 3 to 10 in the calendar year "
        "the school year starts (2 for pre-nursery, where a school offers it).",
    ),
    settings=InscriptionSettings,
    retention_days=730,
    workflow=WORKFLOW,
    linked_workflow=LINKED_WORKFLOW,
    documents=DOCUMENTS,
    derived=DERIVED,
    members=FAMILY,
)
