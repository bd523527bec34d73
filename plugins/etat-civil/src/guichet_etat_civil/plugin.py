"""The rules of « Demande d'acte d'état civil »: its form, workflow, settings and checks.

The plugin holds no data: the core stores the request and hands this plugin a
:class:`~gateway.request_handle.RequestHandle`. Who may obtain what is decided
by :mod:`guichet_etat_civil.entitlement`, a pure function.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import date
from typing import cast

from gateway import (
    Choice,
    CitizenIdentity,
    FieldError,
    FormField,
    Localized,
    ServiceDefinition,
    State,
    Transition,
    TransitionRefused,
    Workflow,
    hookimpl,
)
from gateway.communes import Commune
from gateway.request_handle import RequestHandle
from guichet_etat_civil.entitlement import (
    FORM_LABELS,
    KIND_LABELS,
    QUALITY_LABELS,
    REQUESTERS,
    Form,
    Kind,
    Requester,
    decide,
)
from guichet_etat_civil.settings import EtatCivilSettings

KEY = "etat-civil"
#: FranceConnect's code for France as a birth country
FRANCE = "99100"
_FILIATION: tuple[str, ...] = ("full-copy", "extract-with-filiation")
_POSTCODE = re.compile(r"^[0-9]{5}$")

WORKFLOW = Workflow(
    states=(
        State("submitted", Localized("Déposée", "Submitted")),
        State("in_progress", Localized("En cours de traitement", "In progress")),
        State("sent", Localized("Envoyé par courrier", "Sent by post"), final=True),
        State("ready", Localized("Prêt à retirer en mairie", "Ready to collect at the town hall")),
        State("collected", Localized("Retiré", "Collected"), final=True),
        State("refused", Localized("Refusée", "Refused"), final=True),
    ),
    transitions=(
        Transition(
            "start",
            Localized("Prendre en charge", "Start processing"),
            ("submitted",),
            "in_progress",
            notify=Localized(
                "Votre demande est en cours de traitement : un agent recherche l'acte dans les registres.",
                "Your request is being processed: an officer is looking for the record in the registers.",
            ),
        ),
        Transition(
            "send",
            Localized("Envoyé par courrier", "Sent by post"),
            ("in_progress",),
            "sent",
            notify=Localized(
                "Votre acte vous a été envoyé par courrier.", "Your record has been sent to you by post."
            ),
            only_if=("delivery", ("post",)),
        ),
        Transition(
            "ready",
            Localized("Prêt à retirer en mairie", "Ready to collect at the town hall"),
            ("in_progress",),
            "ready",
            notify=Localized(
                "Votre acte est prêt. Retirez-le à l'accueil de la mairie en présentant une pièce d'identité ; "
                "les horaires d'ouverture sont sur la page de la commune.",
                "Your record is ready. Collect it at the town hall's counter with an identity document; "
                "the opening hours are on the commune's page.",
            ),
            only_if=("delivery", ("counter",)),
        ),
        Transition(
            "collect",
            Localized("Retiré", "Collected"),
            ("ready",),
            "collected",
            notify=Localized(
                "Vous avez retiré votre acte à la mairie : votre demande est terminée.",
                "You collected your record at the town hall: your request is complete.",
            ),
        ),
        Transition(
            "refuse",
            Localized("Refuser", "Refuse"),
            ("submitted", "in_progress"),
            "refused",
            notify=Localized(
                "Votre demande n'a pas pu aboutir. Le motif est indiqué ci-dessous.",
                "Your request could not be met. The reason is given below.",
            ),
            reasons=(
                Choice("not-found", Localized("Acte introuvable dans nos registres", "Record not in our registers")),
                Choice("not-entitled", Localized("Demandeur non habilité", "Requester not entitled")),
                Choice("incomplete", Localized("Informations incomplètes ou inexactes", "Incomplete information")),
                Choice("outside", Localized("Événement hors de la commune", "Event outside the commune")),
                Choice("other", Localized("Autre motif", "Other reason")),
            ),
            comment_required=True,
        ),
    ),
)  # fmt: skip

ELIGIBILITY = Localized(
    "Tout le monde peut obtenir un extrait d'acte de naissance ou de mariage sans filiation, et un acte de décès. "
    "La copie intégrale, l'extrait avec filiation et l'extrait plurilingue ne sont délivrés qu'à la personne "
    "concernée (majeure), à son conjoint, à ses ascendants ou descendants, à son représentant légal ou à un "
    "professionnel habilité (notaire, avocat) ; ils sont ouverts à tous 75 ans après l'acte (100 ans s'il concerne "
    "un mineur) ou 25 ans après le décès de la personne. La mairie ne délivre que les actes des événements survenus "
    "dans la commune ; pour un événement à l'étranger, adressez-vous au Service central d'état civil (Nantes).",
    "Anyone may obtain an extract of a birth or marriage record without parents' names, and a death record. "
    "A full copy, an extract with parents' names and a multilingual extract are issued only to the person the record "
    "concerns (adult), their spouse, ascendants or descendants, legal representative or an authorised professional "
    "(notary, lawyer); they are open to anyone 75 years after the record (100 if it concerns a minor) or 25 years "
    "after the person's death. The town hall issues only records of events that happened in the commune; for an "
    "event abroad, apply to the Service central d'état civil (Nantes).",
)

SERVICE = ServiceDefinition(
    key=KEY,
    title=Localized("Demande d'acte d'état civil", "Civil-status record request"),
    description=Localized(
        "Demandez une copie ou un extrait d'acte de naissance, de mariage ou de décès, gratuitement, "
        "reçu par courrier ou à retirer en mairie.",
        "Ask for a copy or an extract of a birth, marriage or death record, free of charge, by post or "
        "to collect at the town hall.",
    ),
    reference_prefix="EC",
    purpose=Localized(
        "Délivrer les copies et extraits d'actes de l'état civil demandés (mission de la commune, officier de "
        "l'état civil).",
        "To issue the copies and extracts of civil-status records you ask for (the commune's civil-status duty).",
    ),
    legal_basis=Localized(
        "Code civil ; décret n° 2017-890 du 6 mai 2017 relatif à l'état civil ; Code du patrimoine, art. L213-2.",
        "French Civil Code; decree 2017-890 of 6 May 2017 on civil status; Code du patrimoine, art. L213-2.",
    ),
    eligibility=ELIGIBILITY,
    settings=EtatCivilSettings,
    retention_days=365,
    workflow=WORKFLOW,
)

DELIVERY_LABELS: dict[str, Localized] = {
    "post": Localized("Par courrier, à une adresse postale", "By post, to a postal address"),
    "counter": Localized("À retirer à l'accueil de la mairie", "To collect at the town hall's counter"),
}
_SUMMARY_DELIVERY = {"post": "courrier", "counter": "retrait en mairie"}


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


@hookimpl
def guichet_services() -> list[ServiceDefinition]:
    return [SERVICE]


@hookimpl
def guichet_service_form(commune: Commune, settings: EtatCivilSettings) -> list[FormField]:
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


def _normalised(name: str) -> str:
    """Case-, accent-, hyphen- and apostrophe-insensitive form of a name."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    return " ".join(re.sub(r"[-'’‐]", " ", plain).casefold().split())


def _same_given_names(typed: str, known: str) -> bool:
    """Typed given names match the identity's when one list starts with the other (first name at least)."""
    a, b = _normalised(typed).split(), _normalised(known).split()
    shorter = min(len(a), len(b))
    return shorter > 0 and a[:shorter] == b[:shorter]


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _error(field: str, fr: str, en: str) -> list[FieldError]:
    return [FieldError(field, Localized(fr, en))]


def _place_errors(commune: Commune, place: str) -> list[FieldError]:
    if place == "abroad":
        return _error(
            "place",
            "Les actes des événements survenus à l'étranger (naissance, mariage ou décès d'un Français) sont tenus "
            "par le Service central d'état civil du ministère de l'Europe et des Affaires étrangères, à Nantes, "
            "et non par la mairie. Faites votre demande en ligne sur service-public.fr.",
            "Records of events abroad (the birth, marriage or death of a French national) are kept by the Service "
            "central d'état civil of the Ministry for Europe and Foreign Affairs in Nantes, not by the town hall. "
            "Apply online on service-public.fr.",
        )
    if place == "elsewhere":
        return _error(
            "place",
            f"La mairie de {commune.name} ne détient pas cet acte : adressez votre demande à la mairie de la commune "
            "où l'événement a eu lieu (beaucoup la proposent en ligne sur service-public.fr).",
            f"{commune.name} town hall does not hold this record: apply to the town hall of the commune where the "
            "event happened (many offer it online on service-public.fr).",
        )
    return []


def _self_errors(kind: str, data: Mapping[str, str], citizen: CitizenIdentity | None) -> list[FieldError]:
    if kind == "death":
        return _error(
            "quality",
            "Vous ne pouvez pas être la personne concernée par un acte de décès : choisissez votre lien avec elle.",
            "You cannot be the person a death record concerns: choose how you are related to them.",
        )
    if citizen is None or not citizen.verified:
        return []
    surname_ok = bool(citizen.family_name) and _normalised(data.get("person_surname", "")) == _normalised(
        citizen.family_name or ""
    )
    given_ok = bool(citizen.given_name) and _same_given_names(
        data.get("person_given_names", ""), citizen.given_name or ""
    )
    if surname_ok and given_ok:
        return []
    return _error(
        "quality",
        "Le nom ou les prénoms de la personne inscrite sur l'acte ne sont pas les vôtres (selon FranceConnect) : "
        "si l'acte concerne quelqu'un d'autre, choisissez votre lien avec cette personne.",
        "The name or given names of the person on the record are not yours (according to FranceConnect): "
        "if the record concerns someone else, choose how you are related to them.",
    )


def _postcode_errors(data: Mapping[str, str]) -> list[FieldError]:
    postcode, country = data.get("address_postcode", ""), _normalised(data.get("address_country", ""))
    if data.get("delivery") == "post" and postcode and country in ("", "france") and not _POSTCODE.match(postcode):
        return _error(
            "address_postcode",
            "Un code postal français compte cinq chiffres, par exemple 69200.",
            "A French postcode has five digits, for example 69200.",
        )
    return []


@hookimpl
def guichet_validate_request(
    commune: Commune, settings: EtatCivilSettings, data: Mapping[str, str], citizen: CitizenIdentity | None
) -> list[FieldError]:
    """The place rule, the registers held online, the quality and who may obtain what."""
    place_errors = _place_errors(commune, data.get("place", ""))
    if place_errors:
        return place_errors
    kind, quality = data.get("kind", ""), data.get("quality", "")
    form = "full-copy" if kind == "death" and not data.get("form") else data.get("form", "")
    record_date = _date(data.get("event_date"))
    today = date.today()
    errors: list[FieldError] = []
    if kind == "death" and form != "full-copy":
        errors += _error(
            "form",
            "Un acte de décès n'est délivré qu'en copie intégrale.",
            "A death record is issued as a full copy only.",
        )
    if record_date is not None and record_date > today:
        errors += _error("event_date", "Cette date est dans le futur.", "This date is in the future.")
    elif record_date is not None and record_date.year < settings.registers_from_year:
        errors += _error(
            "event_date",
            f"La mairie de {commune.name} ne délivre en ligne que les actes établis depuis "
            f"{settings.registers_from_year}. Pour un acte plus ancien, adressez-vous au service des archives de la "
            f"mairie ou aux Archives départementales ({commune.department}).",
            f"{commune.name} town hall issues online only records drawn up since {settings.registers_from_year}. "
            f"For an older record, apply to the town hall's archives or the departmental archives "
            f"({commune.department}).",
        )
    death_date = _date(data.get("death_date"))
    if death_date is not None and (death_date > today or (record_date is not None and death_date < record_date)):
        errors += _error(
            "death_date",
            "La date de décès doit être passée et postérieure à la date de l'acte.",
            "The date of death must be in the past and after the record's date.",
        )
    if quality == "self":
        errors += _self_errors(kind, data, citizen)
    errors += _postcode_errors(data)
    if (
        errors
        or record_date is None
        or kind not in KIND_LABELS
        or form not in FORM_LABELS
        or quality not in QUALITY_LABELS
    ):
        return errors  # the core already reports a missing or unknown answer
    decision = decide(
        cast(Kind, kind),
        cast(Form, form),
        cast(Requester, quality),
        record_date,
        today=today,
        concerns_minor=kind == "marriage" and data.get("record_minor") != "no",
        death_date=death_date,
        rules=settings.rules(),
    )
    if decision.allowed:
        return []
    return [FieldError("quality" if kind == "death" else "form", decision.reason)]


@hookimpl
def guichet_prefill_form(commune: Commune, citizen: CitizenIdentity) -> dict[str, str] | None:
    """From a verified identity: the requester, and a request for one's own birth record.

    Prefilled: ``requester_family_name``, ``requester_given_names``,
    ``requester_email`` and, assuming the citizen asks for their own birth
    record (all editable), ``quality`` = self, ``kind`` = birth,
    ``person_surname``, ``person_given_names``, ``event_date`` (the birth date)
    and ``place`` = here when FranceConnect says they were born in this commune.
    Only ``requester_email`` is prefilled from an unverified identity.
    """
    values: dict[str, str] = {}
    if citizen.email:
        values["requester_email"] = citizen.email
    if citizen.verified:
        if citizen.family_name:
            values["requester_family_name"] = values["person_surname"] = citizen.family_name
        if citizen.given_name:
            values["requester_given_names"] = values["person_given_names"] = citizen.given_name
        if citizen.birthdate and _date(citizen.birthdate):
            values["event_date"] = citizen.birthdate
        values["quality"], values["kind"] = "self", "birth"
        if citizen.birthplace and citizen.birthplace == commune.insee:
            values["place"] = "here"
    return values or None


@hookimpl
def guichet_request_submitted(request: RequestHandle) -> None:
    """Queue summary for agents: kind, document, copies and delivery, never a name or a date."""
    data = request.data
    kind = data.get("kind", "")
    form = "full-copy" if kind == "death" else data.get("form", "")
    parts = [
        KIND_LABELS[kind].fr if kind in KIND_LABELS else "?",
        FORM_LABELS[form].fr.lower() if form in FORM_LABELS else "?",
        f"{data.get('copies', '?')} ex." if data.get("copies", "").isdigit() else "? ex.",
        _SUMMARY_DELIVERY.get(data.get("delivery", ""), "?"),
    ]
    request.summary = " · ".join(parts)


@hookimpl
def guichet_request_transition(request: RequestHandle, transition: Transition) -> None:
    """A second lock on the delivery: never "sent by post" for a counter request, nor the reverse."""
    if not transition.applies(request.data):
        raise TransitionRefused(
            Localized(
                "Cette étape ne correspond pas au mode de remise choisi par le demandeur.",
                "This step does not match the delivery the requester chose.",
            )
        )
