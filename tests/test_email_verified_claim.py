"""An identity provider's ``email_verified``: kept only when it says true, beside the address it vouches for."""

from __future__ import annotations

from gateway.identity.oidc import kept_claims

SCOPES = ("openid", "given_name", "email")


def test_an_address_the_provider_checked_is_kept_as_checked() -> None:
    kept = kept_claims(SCOPES, {"email": "camille@example.org", "email_verified": True})
    assert kept == {"email": "camille@example.org", "email_verified": "true"}


def test_an_address_the_provider_did_not_check_is_kept_without_the_mark() -> None:
    assert kept_claims(SCOPES, {"email": "camille@example.org", "email_verified": False}) == {
        "email": "camille@example.org"
    }


def test_only_a_true_boolean_counts_as_checked() -> None:
    assert "email_verified" not in kept_claims(SCOPES, {"email": "camille@example.org", "email_verified": "true"})


def test_the_mark_is_not_kept_without_the_address() -> None:
    assert kept_claims(("openid", "given_name"), {"email": "camille@example.org", "email_verified": True}) == {}
