"""The request id: taken from ``X-Request-Id`` when it is sane, made up otherwise, known to every log record.

A reverse proxy that already names requests passes its id on, so a line of its
log and a line of ours can be matched; a value that could forge or bloat a log
line (too long, odd characters) is replaced rather than trusted.
"""

from __future__ import annotations

import re
from contextvars import ContextVar

from gateway.random_ids import random_hex

HEADER = "x-request-id"
#: what an incoming id may look like: a UUID, a hex trace id, a proxy's token; nothing that needs escaping
SANE = re.compile(r"[A-Za-z0-9._:-]{8,128}")

#: the id of the request being served in this context (None outside a request)
current: ContextVar[str | None] = ContextVar("guichet_request_id", default=None)


def new_id() -> str:
    """A fresh id: 128 random bits in hex, the shape of a W3C trace id."""
    return random_hex(16)


def accepted(incoming: bytes | None) -> str:
    """``incoming`` when it is a sane id, else a new one."""
    if incoming is not None:
        try:
            text = incoming.decode("ascii")
        except UnicodeDecodeError:
            return new_id()
        if SANE.fullmatch(text):
            return text
    return new_id()
