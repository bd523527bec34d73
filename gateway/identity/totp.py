"""Time-based one-time passwords (RFC 6238, via pyotp) with replay protection.

The seed is stored encrypted (Fernet, key derived from the gateway secret with
HKDF) because it must be read back to check a code. A code is accepted for
the current 30-second step or the one before or after (clock drift), and
only if its step is later than the last step accepted for that user: the
same code never works twice.
"""

from __future__ import annotations

import base64
import time

import pyotp
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

STEP_SECONDS = 30
DRIFT_STEPS = 1


def _fernet(secret_key: bytes) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"guichet totp seed").derive(secret_key)
    return Fernet(base64.urlsafe_b64encode(key))


def new_seed() -> str:
    return pyotp.random_base32()


def seal_seed(secret_key: bytes, seed: str) -> str:
    return _fernet(secret_key).encrypt(seed.encode()).decode()


def open_seed(secret_key: bytes, sealed: str) -> str:
    try:
        return _fernet(secret_key).decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise ValueError("the TOTP seed cannot be decrypted with this gateway's secret key") from None


def provisioning_uri(seed: str, account: str, issuer: str) -> str:
    return pyotp.TOTP(seed).provisioning_uri(name=account, issuer_name=issuer)


def accepted_step(seed: str, code: str, last_step: int | None, *, now: float | None = None) -> int | None:
    """The time step ``code`` belongs to if it is valid and newer than ``last_step``; else None."""
    code = code.strip().replace(" ", "")
    if not (code.isascii() and code.isdigit() and len(code) == 6):  # not « ¹²³⁴⁵⁶ », which NFKC makes digits
        return None
    totp = pyotp.TOTP(seed, interval=STEP_SECONDS)
    current = int((now if now is not None else time.time()) // STEP_SECONDS)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if (last_step is None or step > last_step) and pyotp.utils.strings_equal(totp.generate_otp(step), code):
            return step
    return None


def code_at(seed: str, moment: float) -> str:
    """The code for ``moment`` (tests and the enrolment page's self-check)."""
    return pyotp.TOTP(seed, interval=STEP_SECONDS).at(moment)
