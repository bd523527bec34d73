"""The witness's memory: the latest checkpoint it cosigned for each log, in its own small SQLite file.

One row per origin holds the cosigned note (the log's signatures and the
witness's own). Checking a submission against that row and replacing it happen
in one ``BEGIN IMMEDIATE`` transaction, under a lock, so two submissions can
never roll the log back between them (the race tlog-witness warns about).
State survives a restart; nothing else is kept.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS latest (
    origin TEXT PRIMARY KEY,
    note TEXT NOT NULL,
    updated_at TEXT NOT NULL
)
"""


class WitnessState:
    """The latest cosigned note per origin, read and replaced atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        with self._connect() as connection:
            connection.execute(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        connection = sqlite3.connect(self.path, isolation_level=None, timeout=10)
        try:
            yield connection
        finally:
            connection.close()

    def latest(self, origin: str) -> str | None:
        """The latest note cosigned for ``origin``, or None."""
        with self._connect() as connection:
            row = connection.execute("SELECT note FROM latest WHERE origin = ?", (origin,)).fetchone()
        return row[0] if row else None

    def update(self, origin: str, decide: Callable[[str | None], tuple[T, str | None]]) -> T:
        """Run ``decide(latest note)`` and store the note it returns (None: keep), atomically; return its answer."""
        with self._lock, self._connect() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                row = connection.execute("SELECT note FROM latest WHERE origin = ?", (origin,)).fetchone()
                answer, note = decide(row[0] if row else None)
                if note is not None:
                    connection.execute(
                        "INSERT INTO latest (origin, note, updated_at) VALUES (?, ?, ?) "
                        "ON CONFLICT (origin) DO UPDATE SET note = excluded.note, updated_at = excluded.updated_at",
                        (origin, note, datetime.now(UTC).isoformat()),
                    )
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
        return answer
