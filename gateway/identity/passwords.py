"""Password hashing with argon2id (argon2-cffi's defaults follow RFC 9106's recommendations)."""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

MIN_LENGTH = 12
MAX_LENGTH = 256


@functools.cache
def _dummy_hash() -> str:
    """Checked against when an account does not exist, so that answering takes as long either way.

    Made on first use, not at import: an argon2 hash is a fifth of a second of
    every worker's start otherwise.
    """
    return _hasher.hash("guichet-no-such-account")


def warm_up() -> None:
    """Make the dummy hash now (a worker calls this in the background as it starts, before any sign-in)."""
    _dummy_hash()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; never raises on a wrong or malformed hash."""
    try:
        return _hasher.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


def password_problem(password: str) -> str | None:
    """Why a new password is refused (ASVS 2.1: length, not composition rules), or None."""
    if len(password) < MIN_LENGTH:
        return f"at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"at most {MAX_LENGTH} characters"
    return None
