"""The name of a demo's audit log, as its signing key was made: the CLI then agrees with the server.

A checkpoint's first line is the log's origin, by default the public host
followed by ``/audit``; the key that seals it bears the same name. A demo makes
its key the first time it runs (``generate_if_missing``), named after the
address it was served at then — with ``make run PORT=18801``, that is
``127.0.0.1:18801/audit``. A ``guichet`` command run afterwards without that
``GUICHET_PUBLIC_BASE_URL`` would compute ``127.0.0.1:8000/audit`` and find a
key for another log. So in a demo (only there: elsewhere a name that does not
match is a fault the operator is told about), once the key exists, its name is
the log's origin. Only the name is read; the rest of the key is never kept.
"""

from __future__ import annotations

from pathlib import Path


def demo_key_origin(key_file: Path) -> str | None:
    """The name a demo's signing key in ``key_file`` bears, or None when there is no readable key there yet."""
    try:
        text = key_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    parts = text.strip().split("+", 3)
    if len(parts) < 4 or parts[:2] != ["PRIVATE", "KEY"] or not parts[2] or any(c.isspace() for c in parts[2]):
        return None  # malformed: signing with it says so
    return parts[2]
