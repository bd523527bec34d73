"""The checkpoint signing key: from the environment or a file, never the repository."""

from __future__ import annotations

import contextlib
import os

from gateway.audit.checkpoint import Signer, Verifier, load_or_create_signer
from gateway.settings import Settings


class NoSigningKey(RuntimeError):
    pass


def signer_for(settings: Settings) -> Signer:
    """The deployment's signer: ``$signing_key_env`` first, else ``signing_key_file`` (created in demo mode)."""
    section = settings.audit
    if section.signing_key_env and os.environ.get(section.signing_key_env):
        return Signer.from_text(os.environ[section.signing_key_env].strip())
    if section.signing_key_file:
        path = settings.audit_path(section.signing_key_file)
        try:
            return load_or_create_signer(path, settings.audit_origin, create=section.generate_if_missing)
        except FileNotFoundError:
            pass
    raise NoSigningKey(
        f"no audit signing key: set {section.signing_key_env or 'audit.signing_key_env'} "
        "or audit.signing_key_file in gateway.toml (`guichet audit keygen` makes one)"
    )


def verifiers_for(settings: Settings, extra: tuple[str, ...] = ()) -> list[Verifier]:
    """Keys that may have signed this deployment's checkpoints: given ones, configured ones, our own."""
    keys = [Verifier.from_text(text) for text in (*extra, *settings.audit.extra_verifier_keys)]
    if not extra:
        with contextlib.suppress(NoSigningKey):
            keys.append(signer_for(settings).verifier())
    return keys
