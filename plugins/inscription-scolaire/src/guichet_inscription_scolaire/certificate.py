"""The certificat d'inscription: what the PDF prints, and the four facts a school director may confirm.

The core numbers, signs (the commune's Ed25519 key), renders and keeps it;
only the child's first name and initial, the school, the level and the year
are confirmable (the public check page and the QR code show nothing else).
"""

from __future__ import annotations

from gateway import Commune, DocumentContent, DocumentLine, FormValues, Localized
from guichet_inscription_scolaire.levels import LEVEL_LABELS


def child_shown(data: FormValues) -> str:
    """The child's first first name and the initial of the surname: « Léa D. »."""
    first = str(data.get("child_first_names") or "").split()
    last = str(data.get("child_last_name") or "").strip()
    return f"{first[0] if first else '?'} {last[:1].upper()}."


def certificate(commune: Commune, data: FormValues) -> DocumentContent:
    level = str(data.get("level") or "")
    label = LEVEL_LABELS[level].fr if level in LEVEL_LABELS else level
    return DocumentContent(
        kind="certificat_inscription",
        title=Localized("Certificat d'inscription scolaire", "School registration certificate"),
        intro=Localized(
            f"Le maire de {commune.name} certifie que l'enfant ci-dessous est inscrit à l'école publique nommée, "
            "pour l'année scolaire indiquée.",
            f"The mayor of {commune.name} certifies that the child below is registered at the named public school "
            "for the school year given.",
        ),
        lines=(
            DocumentLine("child", Localized("Enfant", "Child"), child_shown(data), confirmable=True),
            DocumentLine("school", Localized("École", "School"), str(data.get("school_name") or "?"), confirmable=True),
            DocumentLine("level", Localized("Niveau", "Level"), label, confirmable=True),
            DocumentLine(
                "year",
                Localized("Année scolaire", "School year"),
                str(data.get("school_year") or "?"),
                confirmable=True,
            ),
            DocumentLine("commune", Localized("Commune", "Commune"), commune.name),
        ),
    )
