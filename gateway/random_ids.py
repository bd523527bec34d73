"""Random ids from the operating system's generator, read a page at a time instead of one system call per id.

Every request gets a log id, every filing a public id. ``secrets`` reads
``os.urandom`` for each: a system call, during which the interpreter lock is
let go, and a thread under load (the event loop, the batch writer) then waits
for another thread to give it back — a few milliseconds at a time, measured
as a tenth of the event loop's time while filing. Here each thread keeps a
buffer of 4 KiB from ``os.urandom`` and takes its ids from it: the same
generator's bytes, each used once. A forked child starts with empty buffers,
so parent and child never hand out the same bytes.

For ids only (names in URLs and logs); secrets (sessions, CSRF, passwords,
keys) come from :mod:`secrets` directly.
"""

from __future__ import annotations

import base64
import os
import threading

#: bytes read from the operating system at a time, per thread
PAGE = 4096


class _Buffer(threading.local):
    def __init__(self) -> None:
        self.data = b""
        self.offset = 0


_buffer = _Buffer()


def _forget_after_fork() -> None:
    global _buffer
    _buffer = _Buffer()


os.register_at_fork(after_in_child=_forget_after_fork)


def random_bytes(count: int) -> bytes:
    """``count`` bytes from ``os.urandom``, never handed out twice in this process."""
    buffer = _buffer
    if buffer.offset + count > len(buffer.data):
        buffer.data, buffer.offset = os.urandom(max(PAGE, count)), 0
    start = buffer.offset
    buffer.offset = start + count
    return buffer.data[start : start + count]


def random_hex(count: int) -> str:
    """As ``secrets.token_hex(count)``: ``count`` random bytes in hex."""
    return random_bytes(count).hex()


def random_urlsafe(count: int) -> str:
    """As ``secrets.token_urlsafe(count)``: ``count`` random bytes in URL-safe base64, unpadded."""
    return base64.urlsafe_b64encode(random_bytes(count)).rstrip(b"=").decode("ascii")
