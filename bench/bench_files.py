"""Memory of storing and reading back the largest attachment allowed, now that the bytes live in the database.

Run with ``python -m bench.bench_files [--database-url URL] [--megabytes 20]``.
Each measurement is a fresh Python process (its peak resident memory,
``ru_maxrss``, is its own): ``hold`` only makes the file's bytes and opens the
database; ``save`` makes them and stores them (:func:`gateway.stored_files.save`,
one transaction); ``read`` reads a stored file back whole, checked against its
digest, as a download does. The report gives each peak and what ``save`` and
``read`` cost beyond ``hold``, as a multiple of the file's size. Without
``--database-url``, a migrated SQLite file in a temporary folder;
``GUICHET_TEST_DATABASE_URL`` (a PostgreSQL server) is measured too when set.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from gateway.services import MEGABYTE
from gateway.testing.databases import TEST_DATABASE_ENV, fresh_postgres_schema, migrate

CHILD = """
import hashlib, os, resource, sys
from gateway import stored_files
from gateway.db import Database
mode, url, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
db = Database(url)
if mode in ("hold", "save"):
    data = os.urandom(size)
    if mode == "save":
        with db.session() as session:
            name, digest = stored_files.save(session, data, kind="bench")
        print(name, digest, end=" ")
else:
    name, digest = sys.argv[4], sys.argv[5]
    with db.read_session() as session:
        data = stored_files.read(session, name, sha256=digest)
    assert len(data) == size
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _child(*args: str) -> list[str]:
    command = [sys.executable, "-c", CHILD, *args]
    done = subprocess.run(command, check=True, capture_output=True, text=True)  # noqa: S603  (our interpreter, our code)
    return done.stdout.split()


def measure(url: str, size: int) -> str:
    """One database's three peaks, as report lines."""
    [hold] = _child("hold", url, str(size))
    name, digest, save = _child("save", url, str(size))
    [read] = _child("read", url, str(size), name, digest)
    peaks = {"hold": int(hold), "save": int(save), "read": int(read)}
    base = peaks["hold"] - size // 1024  # the process without the file's bytes
    lines = [f"{url.split(':', 1)[0]}: a file of {size / MEGABYTE:.0f} MiB"]
    for mode, peak in peaks.items():
        extra = (peak - base) * 1024 / size
        lines.append(f"  {mode:<5} peak RSS {peak / 1024:7.1f} MiB   beyond the bare process: {extra:4.1f} × the file")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--megabytes", type=int, default=20, help="file size in MiB (the largest limit is 20)")
    args = parser.parse_args(argv)
    size = args.megabytes * MEGABYTE
    if args.database_url:
        print(measure(args.database_url, size))
        return 0
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        migrate(url)
        print(measure(url, size))
    server = os.environ.get(TEST_DATABASE_ENV)
    if server:
        with fresh_postgres_schema(server) as url:
            migrate(url)
            print(measure(url, size))
    return 0


if __name__ == "__main__":
    sys.exit(main())
