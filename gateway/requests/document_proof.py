"""What makes an issued document checkable: a code typed by hand and a payload signed with the commune's key.

**Verification code.** 10 symbols of Crockford's base32 (50 random bits)
and one check symbol (the Luhn mod N algorithm over the same 32 symbols: any
single mistyped symbol and most swaps of two neighbours are caught before the
code is even looked up), shown in groups: ``7K2M-Q9XH-4TC``. Reading it back
forgives case, spaces, dashes, and the letters Crockford maps (O→0, I and L→1).

**Signed payload** (the QR code): ``GD1.<body>.<signature>``, where body is the
base64url of a compact JSON object — ``n`` the document's number, ``c`` the
commune, ``k`` the key id, ``d`` the issue date, ``t`` the kind, ``f`` the
confirmable fields — and signature the base64url of the Ed25519 signature of
the ASCII text ``GD1.<body>``. The signature covers the exact bytes carried,
so no canonical JSON is needed to verify it.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import date

from cryptography.exceptions import InvalidSignature

from gateway.requests.signing_keys import PublicKey, SigningKey, b64url, from_b64url

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_SYMBOLS = 10
PREFIX = "GD1"
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def _luhn_check(symbols: str) -> str:
    """The Luhn mod 32 check symbol of ``symbols``."""
    factor, total = 2, 0
    for symbol in reversed(symbols):
        addend = factor * ALPHABET.index(symbol)
        total += addend // 32 + addend % 32
        factor = 1 if factor == 2 else 2
    return ALPHABET[(32 - total % 32) % 32]


def new_code() -> str:
    """A fresh verification code, grouped for reading: ``XXXX-XXXX-XXX``."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(CODE_SYMBOLS))
    full = body + _luhn_check(body)
    return f"{full[:4]}-{full[4:8]}-{full[8:]}"


def normalize_code(typed: str) -> str | None:
    """The code as stored (11 symbols, no dash), or None when it cannot be one (wrong length, symbol or check)."""
    text = "".join(typed.split()).replace("-", "").upper().translate(_READ_AS)
    if len(text) != CODE_SYMBOLS + 1 or any(symbol not in ALPHABET for symbol in text):
        return None
    return text if _luhn_check(text[:-1]) == text[-1] else None


def code_digest(normalized: str) -> str:
    """What the database keeps of a code: its SHA-256 (50 random bits: a copy of the table reveals no code)."""
    return hashlib.sha256(normalized.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class Claims:
    """What a signed payload says."""

    number: str
    commune: str
    key_id: str
    issued_on: date
    kind: str
    fields: dict[str, str]


class PayloadError(ValueError):
    """A payload that is malformed, or whose signature does not check out with the key given."""


def sign_payload(claims: Claims, key: SigningKey) -> str:
    body = {"n": claims.number, "c": claims.commune, "k": claims.key_id, "d": claims.issued_on.isoformat(),
            "t": claims.kind, "f": claims.fields}  # fmt: skip
    encoded = b64url(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    signed = f"{PREFIX}.{encoded}"
    return f"{signed}.{b64url(key.sign(signed.encode('ascii')))}"


def read_payload(payload: str) -> tuple[Claims, str, bytes]:
    """The claims of a payload, unchecked, with the signed text and the signature; PayloadError when malformed."""
    parts = payload.strip().split(".")
    if len(parts) != 3 or parts[0] != PREFIX:
        raise PayloadError(f"not a Guichet document payload (expected {PREFIX}.<body>.<signature>)")
    try:
        body = json.loads(from_b64url(parts[1]).decode("utf-8"))
        signature = from_b64url(parts[2])
        fields = body["f"]
        if not isinstance(fields, dict) or not all(isinstance(v, str) for v in fields.values()):
            raise TypeError("fields")
        claims = Claims(str(body["n"]), str(body["c"]), str(body["k"]), date.fromisoformat(body["d"]),
                        str(body["t"]), {str(k): v for k, v in fields.items()})  # fmt: skip
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise PayloadError("the payload's content is malformed") from None
    return claims, f"{parts[0]}.{parts[1]}", signature


def verify_payload(payload: str, keys: list[PublicKey]) -> Claims:
    """The claims, once the signature checks with the published key its commune and key id name; else PayloadError."""
    claims, signed, signature = read_payload(payload)
    key = next((k for k in keys if k.commune == claims.commune and k.key_id == claims.key_id), None)
    if key is None:
        raise PayloadError(f"no published key {claims.key_id!r} of commune {claims.commune!r} among the keys given")
    try:
        key.key.verify(signature, signed.encode("ascii"))
    except InvalidSignature:
        raise PayloadError("the signature does not match: the payload was altered or signed by another key") from None
    return claims
