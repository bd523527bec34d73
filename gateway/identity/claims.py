"""FranceConnect's scopes and the claims each releases (one scope per claim, plus its bundles).

Shared by the citizen sign-in, which keeps only the claims of the scopes it
asked for, and by the demo identity provider, which releases them.
"""

from __future__ import annotations

from collections.abc import Mapping

SCOPE_CLAIMS: Mapping[str, tuple[str, ...]] = {
    "given_name": ("given_name",),
    "family_name": ("family_name",),
    "birthdate": ("birthdate",),
    "gender": ("gender",),
    "birthplace": ("birthplace",),
    "birthcountry": ("birthcountry",),
    "email": ("email",),
    "preferred_username": ("preferred_username",),
    "profile": ("given_name", "family_name", "birthdate", "gender", "preferred_username"),
    "birth": ("birthplace", "birthcountry"),
    "identite_pivot": ("given_name", "family_name", "birthdate", "gender", "birthplace", "birthcountry"),
}

#: kept beside ``email`` (as the text "true") when the provider says it checked the address: only such an
#: address finds what was filed under it without an account (gateway/identity/subjects.py)
EMAIL_VERIFIED = "email_verified"
