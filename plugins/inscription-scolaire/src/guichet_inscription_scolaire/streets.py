"""Street names compared the way people write them: case, accents, hyphens and the usual abbreviations.

« Av. Jean-Moulin », « avenue jean moulin » and « AVENUE JEAN MOULIN » are one
street; so are « r. des Écoles » and « rue des ecoles ». Only the spelling is
normalised, never the name: « rue des Lilas » and « allée des Lilas » differ.
"""

from __future__ import annotations

import re
import unicodedata

#: abbreviations of street types and of saint, as the post office and families write them
ABBREVIATIONS: dict[str, str] = {
    "r": "rue",
    "av": "avenue",
    "ave": "avenue",
    "bd": "boulevard",
    "bld": "boulevard",
    "bvd": "boulevard",
    "boul": "boulevard",
    "pl": "place",
    "ch": "chemin",
    "chem": "chemin",
    "imp": "impasse",
    "all": "allee",
    "crs": "cours",
    "rte": "route",
    "sq": "square",
    "qu": "quai",
    "mte": "montee",
    "st": "saint",
    "ste": "sainte",
}


def normalise_street(name: str) -> str:
    """The comparable form of a street name: plain lower-case words, abbreviations spelt out."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    words = re.sub(r"[^0-9a-z]+", " ", plain.casefold()).split()
    return " ".join(ABBREVIATIONS.get(word, word) for word in words)
