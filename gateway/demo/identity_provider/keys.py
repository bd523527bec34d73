"""The provider's ES256 signing key: generated once, kept in the data folder, shared by every process.

Tokens signed by one gateway process must verify in all the others and after
a restart, so the key lives in a file rather than in memory. It is written to
a private temporary file (``O_EXCL``, mode 0600) and then hard-linked to its
final name, which fails if another process got there first: two workers
starting together end up with one key, and nobody ever reads a half-written file.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from pathlib import Path
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import ECKey

KEY_FILE = "demo-idp-es256.json"
ALGORITHM = "ES256"


class SigningKeyError(RuntimeError):
    """The key file exists but does not hold a private ES256 key."""


def signing_key(data_dir: Path) -> ECKey:
    """The provider's private key, created on first use under ``data_dir``."""
    path = data_dir / KEY_FILE
    if not path.exists():
        _create(path)
    return _load(path)


def public_jwks(key: ECKey) -> dict[str, Any]:
    """The key set published at ``/jwks``: the public half only, with kid, alg and use."""
    return {"keys": [key.as_dict(private=False)]}


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    key = ECKey.generate_key("P-256", parameters={"alg": ALGORITHM, "use": "sig"}, private=True, auto_kid=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(key.as_dict(private=True), handle)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another process created it first: everyone uses that one
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _load(path: Path) -> ECKey:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        key = ECKey.import_key(data)
    except (OSError, ValueError, TypeError, JoseError) as error:
        raise SigningKeyError(f"{path}: not a JSON Web Key ({error})") from None
    if not key.is_private or key.curve_name != "P-256" or not key.kid:
        raise SigningKeyError(f"{path}: expected a private P-256 key with a kid")
    return key
