"""The checkpoint signing key: from the environment or a file, never the repository."""

from __future__ import annotations

import os

from gateway.audit.checkpoint import KeyNameMismatch, Signer, Verifier, load_or_create_signer
from gateway.settings import PUBLIC_BASE_URL_ENV, Settings


class NoSigningKey(RuntimeError):
    """No usable audit signing key: missing, malformed, or for another log; the message says what to set."""


class WrongSigningKey(NoSigningKey):
    """A signing key is there but cannot be used: malformed, or made for another log."""


def signer_for(settings: Settings) -> Signer:
    """The deployment's signer: ``$signing_key_env`` first, else ``signing_key_file`` (created in demo mode)."""
    section = settings.audit
    if section.signing_key_env and os.environ.get(section.signing_key_env):
        try:
            return Signer.from_text(os.environ[section.signing_key_env].strip())
        except ValueError as error:  # the message never shows the key
            raise WrongSigningKey(f"${section.signing_key_env}: {error}") from None
    if section.signing_key_file:
        path = settings.audit_path(section.signing_key_file)
        try:
            return load_or_create_signer(path, settings.audit_origin, create=section.generate_if_missing)
        except FileNotFoundError:
            pass
        except KeyNameMismatch as error:
            raise WrongSigningKey(
                f'{error}: if the key is right, set origin = "{error.found}" under [audit] in gateway.toml '
                f"(or set gateway.public_base_url, or ${PUBLIC_BASE_URL_ENV}, to the address it was made for)"
            ) from None
        except ValueError as error:  # malformed: the message never shows the key
            raise WrongSigningKey(str(error)) from None
    raise NoSigningKey(
        f"no audit signing key: set {section.signing_key_env or 'audit.signing_key_env'} "
        "or audit.signing_key_file in gateway.toml (`guichet audit keygen` makes one)"
    )


def verifiers_for(settings: Settings, extra: tuple[str, ...] = ()) -> list[Verifier]:
    """Keys that may have signed this deployment's checkpoints: given ones, configured ones, our own."""
    keys = [Verifier.from_text(text) for text in (*extra, *settings.audit.extra_verifier_keys)]
    if not extra:
        try:
            keys.append(signer_for(settings).verifier())
        except WrongSigningKey:
            raise
        except NoSigningKey:
            pass  # no key of our own here: the configured ones must do
    return keys
