"""The request form: its fields in the order an agent reads them, with the choices the commune's settings allow.

The archive questions (a minor on the record, a date of death) are shown only
to the qualities some offered document is not open to.
"""

from __future__ import annotations

from gateway import Choice, Commune, FormField, Localized
from guichet_etat_civil.entitlement import FORM_LABELS, KIND_LABELS, QUALITY_LABELS, REQUESTERS, Form, Kind, Requester
from guichet_etat_civil.settings import EtatCivilSettings

_FILIATION: tuple[str, ...] = ("full-copy", "extract-with-filiation")

DELIVERY_LABELS: dict[str, Localized] = {
    "post": Localized("Par courrier, à une adresse postale", "By post, to a postal address"),
    "counter": Localized("À retirer à l'accueil de la mairie", "To collect at the town hall's counter"),
}


def _kind_choice(kind: Kind) -> Choice:
    if kind == "death":
        return Choice(kind, Localized("Décès (copie intégrale uniquement)", "Death (full copy only)"))
    return Choice(kind, KIND_LABELS[kind])


def _quality_choice(quality: Requester) -> Choice:
    label = QUALITY_LABELS[quality]
    english = label("en")
    return Choice(quality, Localized(label.fr[0].upper() + label.fr[1:], english[0].upper() + english[1:]))


def _qualities(settings: EtatCivilSettings) -> tuple[Requester, ...]:
    return tuple(q for q in REQUESTERS if q != "pacs-partner" or settings.pacs_partner_entitled)


def _archive_qualities(settings: EtatCivilSettings) -> tuple[str, ...]:
    """The qualities some offered document is not open to: only they need the archive questions."""
    rules = settings.rules()
    needy = []
    for quality in _qualities(settings):
        effective = quality
        if quality == "pacs-partner":
            effective = "spouse" if rules.pacs_partner_entitled else "other"
        for kind in settings.kinds:
            for form in _forms_for(kind, settings):
                entitled = rules.matrix.get(kind, {}).get(form, ())
                if "other" not in entitled and effective not in entitled and quality not in needy:
                    needy.append(quality)
    return tuple(needy)


def _forms_for(kind: str, settings: EtatCivilSettings) -> tuple[Form, ...]:
    return ("full-copy",) if kind == "death" else settings.forms


def service_form(commune: Commune, settings: EtatCivilSettings) -> list[FormField]:
    """The form, in the order an agent reads it to find the record: what, where, whom, who asks, how."""
    here = commune.name
    archive_qualities = _archive_qualities(settings)
    deliveries = ("post", "counter") if settings.counter_pickup else ("post",)
    return [
        FormField(
            "kind",
            Localized("Type d'acte", "Kind of record"),
            kind="select",
            choices=tuple(_kind_choice(kind) for kind in settings.kinds),
        ),
        FormField(
            "place",
            Localized("Lieu de l'événement", "Where the event happened"),
            kind="select",
            choices=(
                Choice("here", Localized(f"À {here}", f"In {here}")),
                Choice("elsewhere", Localized("Dans une autre commune française", "In another French commune")),
                Choice("abroad", Localized("À l'étranger", "Abroad")),
            ),
            help=Localized(
                f"La mairie de {here} ne détient que les actes des naissances, mariages et décès survenus à {here}, "
                f"et ceux des décès de personnes qui y étaient domiciliées.",
                f"{here} town hall holds only the records of births, marriages and deaths that happened in {here}, "
                f"and those of deaths of people who lived there.",
            ),
        ),
        FormField(
            "form",
            Localized("Document demandé", "Document asked for"),
            kind="select",
            choices=tuple(Choice(form, FORM_LABELS[form]) for form in settings.forms),
            show_if=("kind", ("birth", "marriage")),
            help=Localized(
                "L'extrait sans filiation est délivré à tous. La copie intégrale, l'extrait avec filiation "
                "(avec les noms des parents) et l'extrait plurilingue (pour l'étranger) ne sont délivrés qu'à la "
                "personne concernée, à sa famille proche (conjoint, ascendants, descendants), à son représentant "
                "légal ou à un professionnel habilité.",
                "The extract without parents' names is issued to anyone. The full copy, the extract with parents' "
                "names and the multilingual extract (for use abroad) are issued only to the person concerned, "
                "their close family (spouse, ascendants, descendants), legal representative or an authorised "
                "professional.",
            ),
        ),
        FormField(
            "person_surname",
            Localized(
                "Nom de naissance de la personne inscrite sur l'acte", "Birth surname of the person on the record"
            ),
            max_length=100,
            help=Localized(
                "Le nom à la naissance, même si la personne en porte un autre. Pour un mariage : l'un des époux.",
                "The surname at birth, even if the person now uses another. For a marriage: one of the spouses.",
            ),
        ),
        FormField(
            "person_given_names",
            Localized("Prénoms de la personne inscrite sur l'acte", "Given names of the person on the record"),
            max_length=150,
        ),
        FormField(
            "event_date",
            Localized(
                "Date de l'événement (naissance, mariage ou décès)", "Date of the event (birth, marriage or death)"
            ),
            kind="date",
            help=Localized(
                f"Les actes antérieurs à {settings.registers_from_year} ne sont pas délivrés en ligne.",
                f"Records older than {settings.registers_from_year} are not issued online.",
            ),
        ),
        FormField(
            "father_name",
            Localized("Nom et prénoms du père (ou du premier parent)", "Father's (or first parent's) full name"),
            max_length=200,
            show_if=("form", _FILIATION),
            help=Localized(
                "Tels qu'ils figurent sur l'acte ; écrivez « non mentionné » s'il n'y figure pas.",
                "As on the record; write « non mentionné » if the record does not name one.",
            ),
        ),
        FormField(
            "mother_name",
            Localized(
                "Nom de naissance et prénoms de la mère (ou du second parent)",
                "Mother's (or second parent's) birth name and given names",
            ),
            max_length=200,
            show_if=("form", _FILIATION),
        ),
        FormField(
            "quality",
            Localized("Vous êtes", "You are"),
            kind="select",
            choices=tuple(_quality_choice(quality) for quality in _qualities(settings)),
            help=Localized(
                "Pour la copie intégrale et les extraits avec filiation ou plurilingues, seules la personne "
                "concernée, sa famille proche, son représentant légal et les professionnels habilités sont "
                "autorisés. "
                + ("" if settings.pacs_partner_entitled else "Un partenaire de PACS choisit « Une autre personne ». ")
                + "Une demande non autorisée est refusée avant l'envoi, avec le motif.",
                "For a full copy and extracts with parents' names or multilingual, only the person concerned, "
                "their close family, legal representative and authorised professionals may ask. "
                + ("" if settings.pacs_partner_entitled else "A PACS partner chooses « Someone else ». ")
                + "A request that is not allowed is refused before it is sent, with the reason.",
            ),
        ),
        FormField(
            "record_minor",
            Localized("Pour un mariage : l'un des époux était-il mineur ?", "For a marriage: was a spouse a minor?"),
            kind="select",
            required=False,
            choices=(Choice("no", Localized("Non", "No")), Choice("yes", Localized("Oui", "Yes"))),
            show_if=("quality", archive_qualities),
            help=Localized(
                f"Un acte est ouvert à toute personne {settings.archive_years} ans après sa date, "
                f"{settings.archive_years_minor} ans s'il concerne un mineur (sans réponse, c'est ce délai qui "
                "s'applique à un mariage).",
                f"A record is open to anyone {settings.archive_years} years after its date, "
                f"{settings.archive_years_minor} years if it concerns a minor (without an answer, that period "
                "applies to a marriage).",
            ),
        ),
        FormField(
            "death_date",
            Localized("Date de décès de la personne inscrite sur l'acte", "Date of death of the person on the record"),
            kind="date",
            required=False,
            show_if=("quality", archive_qualities),
            help=Localized(
                f"Si elle est décédée : l'acte est ouvert à toute personne {settings.years_after_death} ans après "
                "le décès.",
                f"If they have died: the record is open to anyone {settings.years_after_death} years after the death.",
            ),
        ),
        FormField(
            "requester_family_name",
            Localized("Nom du demandeur", "Requester's surname"),
            max_length=100,
            autocomplete="family-name",
        ),
        FormField(
            "requester_given_names",
            Localized("Prénoms du demandeur", "Requester's given names"),
            max_length=150,
            autocomplete="given-name",
        ),
        FormField(
            "requester_email",
            Localized("Adresse électronique du demandeur", "Requester's e-mail address"),
            kind="email",
            required=False,
            max_length=254,
            autocomplete="email",
            help=Localized("Facultatif : pour vous joindre en cas de question.", "Optional: to reach you if needed."),
        ),
        FormField(
            "copies",
            Localized("Nombre d'exemplaires", "Number of copies"),
            kind="select",
            choices=tuple(Choice(str(n), Localized(str(n))) for n in range(1, settings.max_copies + 1)),
        ),
        FormField(
            "delivery",
            Localized("Mode de remise", "Delivery"),
            kind="select",
            choices=tuple(Choice(mode, DELIVERY_LABELS[mode]) for mode in deliveries),
            help=Localized(
                f"La mairie traite les demandes en {settings.processing_days} jours ouvrés environ. Le document est "
                "gratuit.",
                f"The town hall processes requests in about {settings.processing_days} working days. The document "
                "is free.",
            ),
        ),
        FormField(
            "address_street",
            Localized("Adresse d'envoi : numéro et voie", "Postal address: number and street"),
            max_length=200,
            autocomplete="address-line1",
            show_if=("delivery", ("post",)),
        ),
        FormField(
            "address_complement",
            Localized("Complément d'adresse", "Address line 2"),
            required=False,
            max_length=200,
            autocomplete="address-line2",
            show_if=("delivery", ("post",)),
        ),
        FormField(
            "address_postcode",
            Localized("Code postal", "Postcode"),
            max_length=20,
            autocomplete="postal-code",
            show_if=("delivery", ("post",)),
        ),
        FormField(
            "address_city",
            Localized("Commune", "Town"),
            max_length=100,
            autocomplete="address-level2",
            show_if=("delivery", ("post",)),
        ),
        FormField(
            "address_country",
            Localized("Pays, si ce n'est pas la France", "Country, if not France"),
            required=False,
            max_length=100,
            autocomplete="country-name",
            show_if=("delivery", ("post",)),
        ),
    ]
