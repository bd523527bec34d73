"""Each commune's Ed25519 keys for the documents it issues: kept on disk outside the repository, rotated by adding one.

A commune's folder (``[documents] signing_keys_dir/<slug>/``) holds one
``<key id>.pem`` (PKCS#8, readable by its owner only) per key it may sign
with, and one ``<key id>.pub`` (the raw public key, base64url) per key it has
ever used. The key id starts with the UTC time the key was made
(``20261203170512-a1b2c3``), so the newest private key is the one that signs.
Rotating is adding a key (`guichet documents keygen --commune SLUG`); retiring
an old one is deleting its ``.pem`` and keeping its ``.pub``, so documents it
signed still verify against the published keys.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from gateway.settings import Settings

KEY_ID = re.compile(r"^[0-9]{14}-[0-9a-f]{6}$")


class NoDocumentKey(RuntimeError):
    """The commune has no key to sign documents with: the operator must make one."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def from_b64url(text: str) -> bytes:
    """Unpadded base64url; ValueError on anything else."""
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class PublicKey:
    """A commune's published verifier key."""

    commune: str
    key_id: str
    key: Ed25519PublicKey
    #: whether the commune still signs with it (its private key is present)
    current: bool = False

    @property
    def text(self) -> str:
        return b64url(self.key.public_bytes_raw())

    def as_dict(self) -> dict[str, object]:
        return {"commune": self.commune, "key_id": self.key_id, "algorithm": "Ed25519", "public_key": self.text,
                "current": self.current}  # fmt: skip


@dataclass(frozen=True)
class SigningKey:
    commune: str
    key_id: str
    private: Ed25519PrivateKey

    def sign(self, message: bytes) -> bytes:
        return self.private.sign(message)


def public_key_from_text(text: str) -> Ed25519PublicKey:
    """A raw Ed25519 public key in base64url (as published), or a PEM ``PUBLIC KEY``; ValueError otherwise."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_public_key(text.encode("ascii"))
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("not an Ed25519 public key")
        return key
    raw = from_b64url(text)
    if len(raw) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


class CommuneKeys:
    """Every commune's signing keys, read from their folders at each use (a rotation needs no restart)."""

    def __init__(self, settings: Settings) -> None:
        self.folder = (settings.config_dir / settings.documents.signing_keys_dir).resolve()
        self.generate = settings.documents.generate_if_missing and settings.gateway.demo

    def _dir(self, commune: str) -> Path:
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", commune):
            raise ValueError(f"not a commune slug: {commune!r}")
        return self.folder / commune

    def generate_key(self, commune: str, *, now: datetime | None = None) -> SigningKey:
        """Make a new key for ``commune``: it signs from now on; the older keys stay published."""
        private = Ed25519PrivateKey.generate()
        public = private.public_key().public_bytes_raw()
        moment = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
        folder = self._dir(commune)
        newest = max((path.stem[:14] for path in folder.glob("*.pub") if KEY_ID.match(path.stem)), default=None)
        if newest is not None and newest >= f"{moment:%Y%m%d%H%M%S}":  # the new key must sort last: it signs
            moment = datetime.strptime(newest, "%Y%m%d%H%M%S").replace(tzinfo=UTC) + timedelta(seconds=1)
        key_id = f"{moment:%Y%m%d%H%M%S}-{hashlib.sha256(public).hexdigest()[:6]}"
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        fd = os.open(folder / f"{key_id}.pem", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        (folder / f"{key_id}.pub").write_text(b64url(public) + "\n", encoding="ascii")
        return SigningKey(commune, key_id, private)

    def signing_key(self, commune: str) -> SigningKey:
        """The key ``commune`` signs with now: its newest private key (made here in a demo when it has none)."""
        folder = self._dir(commune)
        ids = sorted(path.stem for path in folder.glob("*.pem") if KEY_ID.match(path.stem)) if folder.is_dir() else []
        if not ids:
            if self.generate:
                return self.generate_key(commune)
            raise NoDocumentKey(
                f"commune {commune!r} has no document signing key in {folder} (`guichet documents keygen`)"
            )
        key = serialization.load_pem_private_key((folder / f"{ids[-1]}.pem").read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise NoDocumentKey(f"{folder / ids[-1]}.pem is not an Ed25519 private key")
        return SigningKey(commune, ids[-1], key)

    def published(self, commune: str) -> list[PublicKey]:
        """Every verifier key of ``commune``, newest first: the current one and those of retired keys."""
        folder = self._dir(commune)
        if not folder.is_dir():
            return []
        signing = {path.stem for path in folder.glob("*.pem")}
        newest = max(signing, default=None)
        keys = []
        for path in sorted(folder.glob("*.pub"), reverse=True):
            if KEY_ID.match(path.stem):
                key = public_key_from_text(path.read_text(encoding="ascii"))
                keys.append(PublicKey(commune, path.stem, key, current=path.stem == newest))
        return keys

    def verifier(self, commune: str, key_id: str) -> PublicKey | None:
        return next((key for key in self.published(commune) if key.key_id == key_id), None)


def unsigned_communes(settings: Settings, communes: Iterable[str]) -> list[str]:
    """Why each of ``communes`` could not sign a document now, for ``guichet check`` (none where a demo makes keys).

    A service does not declare that it issues documents (its plugin issues
    from its hooks), so every commune is checked: the first document issued
    without a key would fail (503, nothing kept) with the reason only in the log.
    """
    keys = CommuneKeys(settings)
    if keys.generate:
        return []
    reasons = []
    for commune in communes:
        try:
            keys.signing_key(commune)
        except NoDocumentKey as missing:
            reasons.append(str(missing))
        except ValueError as unreadable:  # not a PEM private key at all
            reasons.append(f"commune {commune!r}: its newest document signing key cannot be read ({unreadable})")
    return reasons


def published_listing(settings: Settings, communes: Mapping[str, str]) -> dict[str, object]:
    """Every commune's verifier keys (``communes``: slug -> name), as ``/documents/cles.json`` and the API give them."""
    keys = CommuneKeys(settings)
    return {"communes": [{"slug": slug, "name": name, "keys": [key.as_dict() for key in keys.published(slug)]}
                         for slug, name in communes.items()]}  # fmt: skip
