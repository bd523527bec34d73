"""The registration form: the child, the school year, who registers, the address, the dérogation, what is shared.

Only what the decision needs: the child's names and birth date (the level is
computed from it), the applicant's parental authority, the family's address
(the school is assigned from it). The documents are the service's
(:mod:`guichet_inscription_scolaire.service`).
"""

from __future__ import annotations

from datetime import date

from gateway import Choice, Commune, FormField, Localized
from guichet_inscription_scolaire.levels import open_school_years, school_year_label
from guichet_inscription_scolaire.settings import InscriptionSettings

YES_NO = (Choice("yes", Localized("Oui", "Yes")), Choice("no", Localized("Non", "No")))

REASONS: dict[str, Localized] = {
    "sibling": Localized("Un frère ou une sœur y est déjà scolarisé", "A sibling already attends it"),
    "working-hours": Localized(
        "Horaires de travail des parents, sans cantine ni garderie dans l'école de secteur",
        "Parents' working hours, with no canteen or after-school care at the catchment school",
    ),
    "medical": Localized("Raison médicale", "Medical reason"),
    "other": Localized("Autre motif", "Other reason"),
}


def school_years(today: date) -> tuple[str, ...]:
    return tuple(school_year_label(year) for year in open_school_years(today))


def service_form(commune: Commune, settings: InscriptionSettings, today: date | None = None) -> list[FormField]:
    """The form, in the order an agent reads it: the child, the year, the applicant, the address, the dérogation."""
    years = school_years(today or date.today())
    where = [Choice("no", Localized("Non, l'école de secteur me convient", "No, the catchment school suits me"))]
    if settings.schools:
        where.append(
            Choice(
                "here", Localized(f"Oui, une autre école de {commune.name}", f"Yes, another school in {commune.name}")
            )
        )
    if settings.partner_communes:
        where.append(
            Choice(
                "elsewhere",
                Localized(
                    "Oui, une école d'une autre commune du syndicat",
                    "Yes, a school in another commune of the syndicate",
                ),
            )
        )
    fields = [
        FormField(
            "child_first_names",
            Localized("Prénoms de l'enfant", "Child's first names"),
            max_length=150,
            per_member=True,
        ),
        FormField("child_last_name", Localized("Nom de l'enfant", "Child's surname"), max_length=100, per_member=True),
        FormField(
            "child_birth_date",
            Localized("Date de naissance de l'enfant", "Child's date of birth"),
            kind="date",
            help=Localized(
                "Le niveau (petite section à CM2) est calculé à partir de l'année de naissance.",
                "The level (nursery to CM2) is computed from the year of birth.",
            ),
            per_member=True,
        ),
        FormField(
            "school_year",
            Localized("Année scolaire", "School year"),
            kind="radio",
            choices=tuple(Choice(year, Localized(year)) for year in years),
        ),
        FormField(
            "applicant_authority",
            Localized("Vous êtes", "You are"),
            kind="radio",
            choices=(
                Choice("parent", Localized("Parent de l'enfant (autorité parentale)", "The child's parent")),
                Choice("guardian", Localized("Tuteur ou tutrice (décision de justice)", "Guardian (court decision)")),
            ),
            help=Localized(
                "Seule une personne exerçant l'autorité parentale peut inscrire l'enfant.",
                "Only a person holding parental authority may register the child.",
            ),
        ),
        FormField(
            "other_parent",
            Localized("Autre parent : nom et prénom (facultatif)", "Other parent: full name (optional)"),
            required=False,
            max_length=200,
        ),
        FormField(
            "other_parent_phone",
            Localized("Autre parent : téléphone (facultatif)", "Other parent: phone (optional)"),
            kind="tel",
            required=False,
            max_length=30,
        ),
        FormField(
            "address",
            Localized("Adresse de la famille", "Family address"),
            kind="address",
            help=Localized(
                "L'école est attribuée selon cette adresse (carte scolaire).",
                "The school is assigned from this address (catchment map).",
            ),
        ),
        FormField(
            "leaving_school",
            Localized("L'enfant quitte-t-il une autre école ?", "Is the child leaving another school?"),
            kind="yesno",
            help=Localized(
                "Si oui, joignez le certificat de radiation remis par l'ancienne école.",
                "If so, attach the certificat de radiation the former school gave you.",
            ),
            per_member=True,
        ),
        FormField(
            "derogation",
            Localized(
                "Demandez-vous une dérogation (une autre école que celle du secteur) ?",
                "Do you ask for a dérogation (another school than the catchment one)?",
            ),
            kind="radio",
            choices=tuple(where),
            per_member=True,
        ),
        FormField(
            "derogation_school_elsewhere",
            Localized("Nom de l'école demandée", "Name of the school asked for"),
            max_length=120,
            show_if=("derogation", ("elsewhere",)),
            per_member=True,
        ),
        FormField(
            "derogation_reason",
            Localized("Motif de la dérogation", "Reason for the dérogation"),
            kind="radio",
            choices=tuple(Choice(value, label) for value, label in REASONS.items()),
            show_if=("derogation", ("here", "elsewhere")),
            per_member=True,
        ),
        FormField(
            "derogation_details",
            Localized("Précisions sur le motif", "Details of the reason"),
            kind="textarea",
            required=False,
            max_length=1000,
            show_if=("derogation", ("here", "elsewhere")),
            help=Localized(
                "Lues par votre commune seulement, jamais transmises à la commune d'accueil.",
                "Read by your commune only, never passed on to the receiving commune.",
            ),
            per_member=True,
        ),
        FormField(
            "derogation_share_proof",
            Localized(
                "Transmettre le justificatif du motif à la commune d'accueil ?",
                "Share the proof of the reason with the receiving commune?",
            ),
            kind="radio",
            choices=YES_NO,
            show_if=("derogation", ("elsewhere",)),
            help=Localized(
                "La commune d'accueil ne voit que le niveau, le motif (sa catégorie), l'école demandée et la décision "
                "de votre commune ; le justificatif seulement si vous répondez oui.",
                "The receiving commune sees only the level, the reason's category, the school asked for and your "
                "commune's decision; the proof only if you answer yes.",
            ),
            per_member=True,
        ),
    ]
    # the school asked for comes right after the dérogation question
    at = next(index for index, field in enumerate(fields) if field.name == "derogation") + 1
    return fields[:at] + _chosen_schools(settings) + fields[at:]


def _chosen_schools(settings: InscriptionSettings) -> list[FormField]:
    """The school asked for in the commune, and the other commune: only when the settings give choices."""
    chosen = []
    if settings.schools:
        chosen.append(
            FormField(
                "derogation_school",
                Localized("École demandée", "School asked for"),
                kind="select",
                choices=tuple(Choice(school.key, Localized(school.name)) for school in settings.schools),
                show_if=("derogation", ("here",)),
                per_member=True,
            )
        )
    if settings.partner_communes:
        chosen.append(
            FormField(
                "derogation_commune",
                Localized("Commune de l'école demandée", "Commune of the school asked for"),
                kind="select",
                choices=tuple(Choice(slug, Localized(name)) for slug, name in settings.partner_communes.items()),
                show_if=("derogation", ("elsewhere",)),
                per_member=True,
            )
        )
    return chosen
