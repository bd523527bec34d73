"""An e-mail address's syntax check, made once per address however many times a filing asks.

A filing checks its receipt address as a form answer (:mod:`gateway.requests.forms`)
and again as the receipt's recipient (:func:`gateway.notify.outbox.checked_recipient`);
each check was ~0.1 ms of ``email_validator``'s work. The answer depends on the
text alone (no DNS: deliverability is never checked), so the last addresses
checked are remembered; an invalid one is checked again each time (never remembered).
"""

from __future__ import annotations

import functools

from email_validator import EmailNotValidError, ValidatedEmail, validate_email

__all__ = ["EmailNotValidError", "validated"]


@functools.lru_cache(maxsize=1024)
def validated(text: str) -> ValidatedEmail:
    """``email_validator``'s answer for ``text`` (syntax only); raises ``EmailNotValidError``. Do not modify it."""
    return validate_email(text, check_deliverability=False)
