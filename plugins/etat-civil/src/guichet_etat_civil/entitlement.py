"""Who may obtain which civil-status document: a pure function of the request and today's date.

The rules (décret n° 2017-890 du 6 mai 2017 on civil status, and the archive
periods of the Code du patrimoine, art. L213-2):

- an extract without filiation of a birth or marriage record, and a death
  record (issued as a full copy only), may be delivered to anyone;
- a full copy, an extract with filiation or a multilingual extract only to the
  person the record concerns (adult), their spouse, an ascendant, a
  descendant, their legal representative or a professional authorised by law;
- any record becomes open to anyone 75 years after its date (100 years when it
  concerns a minor), or 25 years after the death of the person it concerns.

Both the matrix and the periods are data (:class:`Rules`), so a commune can
correct them in its file; :data:`LAWFUL` holds the defaults above.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Literal

from gateway import Localized

Kind = Literal["birth", "marriage", "death"]
Form = Literal["full-copy", "extract-with-filiation", "extract-without-filiation", "multilingual-extract"]
#: the qualities an entitlement matrix may name; ``pacs-partner`` is handled by a flag (see :class:`Rules`)
Quality = Literal[
    "self", "spouse", "ascendant", "descendant", "legal-representative", "professional", "other"
]  # fmt: skip
Requester = Literal[
    "self", "spouse", "pacs-partner", "ascendant", "descendant", "legal-representative", "professional", "other"
]

KINDS: tuple[Kind, ...] = ("birth", "marriage", "death")
FORMS: tuple[Form, ...] = ("full-copy", "extract-with-filiation", "extract-without-filiation", "multilingual-extract")
QUALITIES: tuple[Quality, ...] = (
    "self", "spouse", "ascendant", "descendant", "legal-representative", "professional", "other"
)  # fmt: skip
REQUESTERS: tuple[Requester, ...] = (
    "self", "spouse", "pacs-partner", "ascendant", "descendant", "legal-representative", "professional", "other"
)  # fmt: skip

KIND_LABELS: dict[str, Localized] = {
    "birth": Localized("Naissance", "Birth"),
    "marriage": Localized("Mariage", "Marriage"),
    "death": Localized("Décès", "Death"),
}
FORM_LABELS: dict[str, Localized] = {
    "full-copy": Localized("Copie intégrale", "Full copy"),
    "extract-with-filiation": Localized("Extrait avec filiation", "Extract with parents' names"),
    "extract-without-filiation": Localized("Extrait sans filiation", "Extract without parents' names"),
    "multilingual-extract": Localized("Extrait plurilingue", "Multilingual extract"),
}
QUALITY_LABELS: dict[str, Localized] = {
    "self": Localized("la personne concernée par l'acte", "the person the record concerns"),
    "spouse": Localized("son conjoint ou sa conjointe (marié)", "their spouse (married)"),
    "pacs-partner": Localized("son partenaire de PACS", "their PACS partner"),
    "ascendant": Localized("un parent ou grand-parent (ascendant)", "a parent or grandparent (ascendant)"),
    "descendant": Localized("un enfant ou petit-enfant (descendant)", "a child or grandchild (descendant)"),
    "legal-representative": Localized("son représentant légal (tuteur…)", "their legal representative (guardian…)"),
    "professional": Localized(
        "un professionnel habilité par la loi (notaire, avocat…)", "a professional authorised by law (notary, lawyer…)"
    ),
    "other": Localized("une autre personne", "someone else"),
}

_FAMILY: tuple[Quality, ...] = ("self", "spouse", "ascendant", "descendant", "legal-representative", "professional")

#: kind -> form -> the qualities entitled to it, as the law stands (see the module's docstring)
LAWFUL_MATRIX: dict[Kind, dict[Form, tuple[Quality, ...]]] = {
    "birth": {
        "full-copy": _FAMILY,
        "extract-with-filiation": _FAMILY,
        "extract-without-filiation": QUALITIES,
        "multilingual-extract": _FAMILY,
    },
    "marriage": {
        "full-copy": _FAMILY,
        "extract-with-filiation": _FAMILY,
        "extract-without-filiation": QUALITIES,
        "multilingual-extract": _FAMILY,
    },
    "death": {"full-copy": QUALITIES},
}

ADULT_YEARS = 18


@dataclass(frozen=True)
class Rules:
    """The entitlement matrix and the archive periods (years)."""

    matrix: Mapping[Kind, Mapping[Form, tuple[Quality, ...]]]
    archive_years: int = 75
    archive_years_minor: int = 100
    years_after_death: int = 25
    #: a PACS partner counts as a spouse when True, else as "someone else"
    pacs_partner_entitled: bool = False


LAWFUL = Rules(matrix=LAWFUL_MATRIX)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: Localized


def add_years(day: date, years: int) -> date:
    """``day`` moved by whole years; 29 February becomes 1 March in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 3, 1)


def _french_date(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _list(labels: list[Localized], locale: str) -> str:
    words = [label(locale) for label in labels]
    joiner = " ou " if locale == "fr" else " or "
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + joiner + words[-1]


def _entitled_list(qualities: tuple[str, ...]) -> Localized:
    labels = [QUALITY_LABELS[quality] for quality in QUALITIES if quality in qualities]
    return Localized(_list(labels, "fr"), _list(labels, "en"))


def _what(kind: str, form: str) -> Localized:
    form_label, kind_label = FORM_LABELS[form], KIND_LABELS[kind]
    return Localized(
        f"{form_label.fr} d'acte de {kind_label.fr.lower()}",
        f"{form_label('en')} of a {kind_label('en').lower()} record",
    )


def decide(
    kind: Kind,
    form: Form,
    quality: Requester,
    record_date: date,
    *,
    today: date,
    concerns_minor: bool = False,
    death_date: date | None = None,
    rules: Rules = LAWFUL,
) -> Decision:
    """Whether ``quality`` may obtain ``form`` of a ``kind`` record dated ``record_date``, and why."""
    what = _what(kind, form)
    entitled = rules.matrix.get(kind, {}).get(form)
    if entitled is None:
        return Decision(
            False,
            Localized(
                f"{what.fr} : ce document n'est pas délivré."
                + (" Un acte de décès est délivré en copie intégrale uniquement." if kind == "death" else ""),
                f"{what.en}: this document is not issued."
                + (" A death record is issued as a full copy only." if kind == "death" else ""),
            ),
        )
    effective: str = quality
    if quality == "pacs-partner":
        effective = "spouse" if rules.pacs_partner_entitled else "other"
    if "other" in entitled:
        return Decision(
            True, Localized(f"{what.fr} : ce document est délivré à toute personne.", f"{what.en}: issued to anyone.")
        )
    if effective in entitled:
        if quality == "self" and kind == "birth" and add_years(record_date, ADULT_YEARS) > today:
            return Decision(
                False,
                Localized(
                    "Une personne mineure ne peut pas demander elle-même ce document : son représentant légal "
                    "peut le faire pour elle (une personne mineure émancipée peut s'adresser au guichet).",
                    "A minor cannot ask for this document themselves: their legal representative can "
                    "(an emancipated minor may ask at the counter).",
                ),
            )
        label = QUALITY_LABELS[quality]
        return Decision(
            True,
            Localized(
                f"{what.fr} : ce document est délivré à {label.fr}, ce que vous êtes.",
                f"{what.en}: issued to {label.en}, which you are.",
            ),
        )
    years = rules.archive_years_minor if concerns_minor else rules.archive_years
    opens = add_years(record_date, years)
    if opens <= today:
        return Decision(
            True,
            Localized(
                f"L'acte a plus de {years} ans : il est ouvert à toute personne (Code du patrimoine, art. L213-2).",
                f"The record is more than {years} years old: it is open to anyone (Code du patrimoine, L213-2).",
            ),
        )
    if death_date is not None and add_years(death_date, rules.years_after_death) <= today:
        return Decision(
            True,
            Localized(
                f"La personne est décédée depuis plus de {rules.years_after_death} ans : l'acte est ouvert à toute "
                "personne (Code du patrimoine, art. L213-2).",
                f"The person died more than {rules.years_after_death} years ago: the record is open to anyone "
                "(Code du patrimoine, L213-2).",
            ),
        )
    who = _entitled_list(entitled)
    fallback = rules.matrix.get(kind, {}).get("extract-without-filiation", ())
    suggest = form != "extract-without-filiation" and ("other" in fallback or effective in fallback)
    return Decision(
        False,
        Localized(
            f"{what.fr} : ce document n'est délivré qu'à {who.fr}. Il sera ouvert à toute personne à partir du "
            f"{_french_date(opens)}." + (" Vous pouvez demander un extrait sans filiation." if suggest else ""),
            f"{what.en}: this document is issued only to {who.en}. It becomes open to anyone on "
            f"{opens.isoformat()}." + (" You may ask for an extract without parents' names." if suggest else ""),
        ),
    )
