"""Each kind of finding in words, French first with English: a title and a sentence citing what was found.

The sentence names agents by their actor id (``staff:12``) and people by
their pseudonym only: the review, like the log, holds no name.
"""

from __future__ import annotations

from datetime import date

from babel.dates import format_date

from gateway.audit.review.findings import Finding
from gateway.services import Localized

TITLES: dict[str, Localized] = {
    "outside-service": Localized("Accès hors du service de l'agent", "Access outside the agent's service"),
    "outside-assignment": Localized(
        "Accès à des demandes attribuées à un collègue", "Access to requests assigned to a colleague"
    ),
    "volume": Localized("Volume inhabituel d'accès", "Unusual volume of access"),
    "off-hours": Localized("Accès en dehors des heures de travail", "Access outside working hours"),
    "denials": Localized("Série de refus d'accès", "Burst of refused access"),
    "many-agents": Localized("Une personne consultée par de nombreux agents", "One person looked at by many agents"),
    "export": Localized("Export de données personnelles", "Export of personal data"),
}

SENTENCES: dict[str, Localized] = {
    "outside-service": Localized(
        "{actor} a ouvert ou tenté d'ouvrir {count} fois des demandes de services que ses rôles actuels ne "
        "couvrent pas ({services}).",
        "{actor} opened or tried to open requests {count} times in services their current roles do not cover "
        "({services}).",
    ),
    "outside-assignment": Localized(
        "{actor} a ouvert {count} fois {requests} demande(s) attribuée(s) à un autre agent.",
        "{actor} opened {requests} request(s) assigned to another agent, {count} times.",
    ),
    "volume": Localized(
        "{actor} a ouvert {count} demandes cette semaine ; d'habitude {own} par semaine, ses collègues {peers}.",
        "{actor} opened {count} requests this week; usually {own} a week, their colleagues {peers}.",
    ),
    "off-hours": Localized(
        "{actor} a accédé {count} fois à des données personnelles le {day} en dehors des heures de travail.",
        "{actor} reached personal data outside working hours on {day} ({count} access(es)).",
    ),
    "denials": Localized(
        "{actor} a essuyé {count} refus d'accès en {minutes} minute(s).",
        "{actor} was refused access {count} times within {minutes} minute(s).",
    ),
    "many-agents": Localized(
        "Les demandes de la personne {subject} ont été ouvertes par {agents} agents différents ({count} accès).",
        "The requests of person {subject} were opened by {agents} different agents ({count} accesses).",
    ),
    "export": Localized(
        "{actor} a exporté des données de {people} personne(s) le {day} ({count} entrées).",
        "{actor} exported data about {people} person(s) on {day} ({count} entries).",
    ),
}

SYNDICATE = Localized("tout le syndicat (hors commune)", "syndicate-wide (no commune)")


def title(finding: Finding, locale: str) -> str:
    return TITLES[finding.kind](locale)


def sentence(finding: Finding, locale: str) -> str:
    """The finding in a sentence, its day written in the page's language (« 4 novembre 2026 », "November 4, 2026")."""
    values = {
        "actor": finding.actor or "—",
        "subject": finding.subject or "—",
        "count": finding.count,
        **finding.detail,
    }
    if "day" in finding.detail:
        values["day"] = format_date(date.fromisoformat(str(finding.detail["day"])), format="long", locale=locale)
    return SENTENCES[finding.kind](locale).format(**values)
