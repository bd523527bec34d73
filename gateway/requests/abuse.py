"""Limits on filing without an account: no flood from one origin, no mail relay to addresses nobody verified.

A service open without an account lets anyone file, and each filing mails a
receipt to the address typed in its form. Unchecked, a script could fill a
commune's queue, or make the gateway mail whomever it likes. Two limits,
counted in the database (:func:`gateway.identity.throttle.take`) so that every
process shares them, and set in ``[filing_limits]``:

- **filings without an account, per origin** (the client address, an IPv6
  one by its /64 network, whichever door it uses): past
  ``anonymous_per_origin`` in the window, :class:`TooManyFilings` (429 with
  ``Retry-After``), raised inside the filing's transaction, so nothing of the
  refused filing is stored, nor counted;
- **receipts to an unverified address, per address and per origin**: an
  address is verified when it is the signed-in citizen's own account address,
  or given by staff (an agent at the counter) or the system; any other is counted by its pseudonym
  (no address is stored in the counters). Past either limit the filing is
  still accepted and acknowledged; only its receipt is not mailed, and the
  answer says so.

What a receipt says is :mod:`gateway.requests.notices`' text, the service's
title and the reference: nothing typed in the form reaches the mailbox.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from gateway.audit.events import ANONYMOUS, pseudonym
from gateway.audit.refusals import origin_key
from gateway.identity import throttle
from gateway.requests.caller import Caller
from gateway.requests.errors import TooManyFilings
from gateway.settings import Settings


def is_anonymous(caller: Caller) -> bool:
    """Someone not signed in (the demo seed and other system callers are not counted)."""
    return caller.actor.role == ANONYMOUS.role and caller.principal is None and caller.citizen_id is None


def origin_of(caller: Caller) -> str:
    """The client address the limits count by, whichever door it came through (``web`` or ``api``)."""
    channel, _, address = origin_key(caller.origin).partition(" ")
    return (address or channel)[:150]


def check_anonymous_filing(session: Session, settings: Settings, caller: Caller, now: datetime) -> None:
    """Count one filing without an account from the caller's origin; past the limit, :class:`TooManyFilings`."""
    if not is_anonymous(caller):
        return
    limits = settings.filing_limits
    locked = throttle.take(session, f"filing-origin:{origin_of(caller)}", limit=limits.anonymous_per_origin,
                           window=timedelta(minutes=limits.anonymous_window_minutes), now=now)  # fmt: skip
    if locked is not None:
        raise TooManyFilings(locked.wait_seconds(now))


def is_verified(caller: Caller, address: str) -> bool:
    """Whether ``address`` is vouched for: the signed-in citizen's own, or given by staff or the system.

    An agent at the counter has the person in front of them; the system is the demo seed.
    """
    if caller.actor.role not in (ANONYMOUS.role, "citizen"):
        return True
    own = caller.identity.email if caller.identity is not None else None
    return own is not None and own.strip().casefold() == address.strip().casefold()


def may_mail_receipt(session: Session, settings: Settings, caller: Caller, address: str, now: datetime) -> bool:
    """Whether the receipt to ``address`` may be mailed; counted against the limits when the address is unverified."""
    if is_verified(caller, address):
        return True
    limits = settings.filing_limits
    window = timedelta(minutes=limits.receipt_window_minutes)
    addressee = pseudonym(settings.secret_key, "receipt", address)
    if throttle.take(session, f"receipt-address:{addressee}", limit=limits.receipts_per_address,
                     window=window, now=now) is not None:  # fmt: skip
        return False
    origin = f"receipt-origin:{origin_of(caller)}"
    return throttle.take(session, origin, limit=limits.receipts_per_origin, window=window, now=now) is None
