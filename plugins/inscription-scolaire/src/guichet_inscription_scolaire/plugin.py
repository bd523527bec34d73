"""The rules of « Inscription scolaire »: the hooks the gateway calls, each handing over to its module.

The plugin holds no data: the core stores the request and hands this plugin a
:class:`~gateway.RequestHandle`. Levels are computed in
:mod:`~guichet_inscription_scolaire.levels`, the school assigned by
:mod:`~guichet_inscription_scolaire.catchment`, the certificate written by
:mod:`~guichet_inscription_scolaire.certificate`.
"""

from __future__ import annotations

from datetime import date

from gateway import (
    Choice,
    CitizenIdentity,
    Commune,
    FieldError,
    FormField,
    FormValues,
    Localized,
    Places,
    RequestHandle,
    ServiceDefinition,
    SharedRequest,
    Transition,
    TransitionRefused,
    hookimpl,
)
from guichet_inscription_scolaire.catchment import assigned_school
from guichet_inscription_scolaire.certificate import certificate
from guichet_inscription_scolaire.demo import demo_answers
from guichet_inscription_scolaire.form import service_form
from guichet_inscription_scolaire.levels import LEVEL_LABELS, open_school_years, school_year_label
from guichet_inscription_scolaire.service import KEY, SERVICE
from guichet_inscription_scolaire.settings import InscriptionSettings
from guichet_inscription_scolaire.validation import level_of, validation_errors
from guichet_inscription_scolaire.workflow import ASSIGN_SCHOOL, LINKED_WORKFLOW, WORKFLOW

#: the plugin API version this plugin is written for: derived values and the supervisor level came in 1.2
GUICHET_PLUGIN_API = "1.2"

#: the fields (and derived value) a receiving commune sees of an inter-commune dérogation, nothing else: the level,
#: that a dérogation to another commune is asked (the condition the other two fields are shown on), its reason's
#: category and the school asked for
DISCLOSED = ("level", "derogation", "derogation_reason", "derogation_school_elsewhere")

UNCOVERED = Localized(
    "Adresse hors carte scolaire : aucune école n'est attribuée. Attribuez une école (« Attribuer une école »), "
    "demandez une correction de l'adresse ou refusez ; la carte scolaire est dans les réglages de la commune.",
    'Address outside the catchment map: no school is assigned. Assign a school ("Assign a school"), ask for the '
    "address to be corrected, or refuse; the map is in the commune's settings.",
)
NO_PLACE_YET = Localized(
    "La commune d'accueil n'a pas proposé de place : inscrivez l'enfant à l'école de secteur (refus de la dérogation).",
    "The receiving commune has not offered a place: register the child at the catchment school (refuse the "
    "dérogation).",
)

__all__ = ["DISCLOSED", "KEY", "LINKED_WORKFLOW", "SERVICE", "WORKFLOW"]


@hookimpl
def guichet_services() -> list[ServiceDefinition]:
    return [SERVICE]


@hookimpl
def guichet_service_form(commune: Commune, settings: InscriptionSettings) -> list[FormField]:
    return service_form(commune, settings)


@hookimpl
def guichet_validate_request(
    commune: Commune, settings: InscriptionSettings, data: FormValues, citizen: CitizenIdentity | None
) -> list[FieldError]:
    return validation_errors(commune, settings, data)


#: the states in which a registration holds its place: accepted by the town hall, then admitted by the school
HOLDING_A_PLACE = ("accepted", "admitted")


@hookimpl
def guichet_service_places(settings: InscriptionSettings) -> list[Places] | None:
    """Each school's registrations against its places, a row per level, for the school years families register for."""
    return [
        Places(
            LEVEL_LABELS[level],
            {"school": school.key, "level": level, "school_year": school_year_label(year)},
            school.capacity[level],
            group=f"{school.name} — {school_year_label(year)}",
            accepted_states=HOLDING_A_PLACE,
        )
        for year in open_school_years(date.today())
        for school in settings.schools
        for level in school.levels
    ] or None


@hookimpl
def guichet_request_shares(data: FormValues) -> list[SharedRequest] | None:
    """An inter-commune dérogation goes to the receiving commune with the level, the reason and the school only."""
    if data.get("derogation") != "elsewhere" or not data.get("derogation_commune"):
        return None
    level = level_of(data)
    documents = ("derogation_proof",) if data.get("derogation_share_proof") == "yes" else ()
    summary = f"Dérogation entrante · {LEVEL_LABELS[level].fr if level else '?'}"
    return [
        SharedRequest(
            str(data["derogation_commune"]),
            fields=DISCLOSED,
            documents=documents,
            summary=summary,
            field="derogation_commune",
        )
    ]


@hookimpl
def guichet_transition_choices(
    settings: InscriptionSettings, data: FormValues, transition: Transition
) -> list[Choice] | None:
    """The schools an agent may assign an address off the map to: the commune's schools teaching the child's level."""
    if transition.name != ASSIGN_SCHOOL:
        return None
    level = str(data.get("level") or "")
    return [Choice(school.key, Localized(school.name)) for school in settings.schools if level in school.levels] or None


@hookimpl
def guichet_demo_answers(commune: Commune, settings: InscriptionSettings) -> list[FormValues] | None:
    """Answers a demonstration files: addresses on (and off) the map, birth dates giving a level (never in real use)."""
    return demo_answers(commune, settings, date.today()) or None


def _assign(request: RequestHandle, settings: InscriptionSettings, school_key: str | None) -> None:
    school = settings.school(school_key) if school_key else None
    request.record_value("school", school.key if school else "")
    request.record_value("school_name", school.name if school else "")


@hookimpl
def guichet_request_submitted(settings: InscriptionSettings, request: RequestHandle) -> None:
    """Record the level and the catchment school; an uncovered address is flagged for agents, not refused."""
    data = request.data
    level = level_of(data) or ""
    request.record_value("level", level)
    school_key = assigned_school(settings, data.get("address"), level) if level else None
    _assign(request, settings, school_key)
    request.record_value("catchment", "covered" if school_key else "uncovered")
    parts = [LEVEL_LABELS[level].fr if level in LEVEL_LABELS else "?"]
    school = settings.school(school_key) if school_key else None
    parts.append(school.name if school else "ADRESSE HORS CARTE SCOLAIRE : école à attribuer")
    if data.get("derogation") in ("here", "elsewhere"):
        parts.append("dérogation " + ("hors commune" if data.get("derogation") == "elsewhere" else "demandée"))
    request.summary = " · ".join(parts)[:200]
    if school is None:
        request.record_event("address-uncovered", outcome="failure")


def _assign_by_hand(request: RequestHandle, settings: InscriptionSettings, school_key: str) -> None:
    """An agent's school for an address off the map: recorded, the flag cleared, the queue line says so."""
    _assign(request, settings, school_key)
    request.record_value("catchment", "assigned")
    data = request.data
    level = str(data.get("level") or "")
    parts = [LEVEL_LABELS[level].fr if level in LEVEL_LABELS else "?", f"{data.get('school_name')} (hors carte)"]
    if data.get("derogation") in ("here", "elsewhere"):
        parts.append("dérogation " + ("hors commune" if data.get("derogation") == "elsewhere" else "demandée"))
    request.summary = " · ".join(parts)[:200]
    request.record_event("school-assigned")


def _catchment_school(settings: InscriptionSettings, data: FormValues) -> str | None:
    """The school the (maybe corrected) address belongs to; else, off the map, the one an agent assigned."""
    level = str(data.get("level") or "")
    found = assigned_school(settings, data.get("address"), level) if level else None
    if found is None and data.get("catchment") == "assigned":
        return str(data.get("school") or "") or None
    return found


@hookimpl
def guichet_request_transition(
    commune: Commune,
    settings: InscriptionSettings,
    request: RequestHandle,
    transition: Transition,
    choice: str | None,
) -> None:
    """Assign the school each decision names, issue the certificate on acceptance, revoke it on cancellation."""
    data = request.data
    if request.linked is not None and request.linked.role == "receiving":
        return  # the receiving commune only says whether it has a place
    name = transition.name
    if name == ASSIGN_SCHOOL and choice:
        _assign_by_hand(request, settings, choice)
        return
    if name == "grant_derogation":
        _assign(request, settings, str(data.get("derogation_school") or ""))
    elif name == "register_elsewhere":
        linked = request.linked
        if linked is None or linked.status != "place_available":
            raise TransitionRefused(NO_PLACE_YET)
        where = settings.partner_communes.get(str(data.get("derogation_commune") or ""), "")
        request.record_value("school", "")
        request.record_value("school_name", f"{data.get('derogation_school_elsewhere')} ({where})"[:200])
    elif name in ("accept", "refuse_derogation"):
        _assign(request, settings, _catchment_school(settings, data))
    elif name == "cancel":
        request.revoke_documents("inscription annulée")
        return
    else:
        return
    if not request.data.get("school_name"):
        raise TransitionRefused(UNCOVERED)
    issued = request.issue_document(certificate(commune, request.data))
    request.summary = (
        f"{LEVEL_LABELS[str(data.get('level'))].fr if data.get('level') in LEVEL_LABELS else '?'} · "
        f"{request.data.get('school_name')} · certificat {issued.number}"[:200]
    )
