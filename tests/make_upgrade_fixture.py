"""Make the upgrade test's fixture: a demo database written by the previous release's own code.

    .venv/bin/python -m tests.make_upgrade_fixture [COMMIT]

The previous release is :data:`PREVIOUS_RELEASE` (see tests/test_upgrade.py for
why that commit). The script checks it out with ``git worktree add --detach``
in a temporary folder, runs *its* ``guichet db upgrade`` and ``guichet demo
seed`` (then ``demo seed --requests 60``: the agents' activity) against a new
data folder, with the old tree's ``gateway`` and plugins first on
``PYTHONPATH`` (this environment's dependencies serve both), and stores under
``tests/fixtures/previous_release/``:

- ``guichet.db.gz``: the SQLite database, compressed;
- ``secret-key`` and ``audit-signing-key``: the demo's generated keys (the
  cookie/pseudonym key and the audit log's signer: fictitious, demo only; the
  upgraded gateway needs the same ones to read pseudonyms and verify seals);
- ``files.tar.gz``: everything else the old gateway wrote under its data folder
  (attachments, the audit archive), with the data folder as its root;
- ``postgresql.sql.gz``: the same seed on PostgreSQL, as ``pg_dump`` writes it
  (plain SQL, no owner), its schema renamed ``__SCHEMA__`` so the test loads it
  into a schema of its own — made only when $GUICHET_TEST_DATABASE_URL names a
  server and ``pg_dump`` is installed.

Nothing of the old commit is needed afterwards: the test reads only these
files. Running it again makes new random data (the demo's generated keys and
times differ), so commit the files it writes together.
"""

from __future__ import annotations

import gzip
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "previous_release"
#: the last commit of main before this turn's format changes (tests/test_upgrade.py says why this one)
PREVIOUS_RELEASE = "dcf0bf7e6108d03b858489e7c8105dccadc30b2b"
SCHEMA = "guichet_previous_release"
PLACEHOLDER = "__SCHEMA__"


def run_old(tree: Path, config: Path, database_url: str, *args: str) -> None:
    """One ``guichet`` command of the old tree, on ``config`` and ``database_url``."""
    paths = [tree, *sorted(tree.glob("plugins/*/src"))]
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith("GUICHET_")},
        "PYTHONPATH": os.pathsep.join(str(path) for path in paths),
        "GUICHET_DATABASE_URL": database_url,
    }
    command = [sys.executable, "-m", "gateway", "--config", str(config), *args]
    print("old release:", *args, flush=True)
    subprocess.run(command, cwd=tree, env=env, check=True)


def seed(tree: Path, config: Path, database_url: str) -> None:
    run_old(tree, config, database_url, "db", "upgrade")
    run_old(tree, config, database_url, "demo", "seed")
    run_old(tree, config, database_url, "demo", "seed", "--requests", "60")


def make_sqlite(tree: Path, work: Path) -> None:
    config, data = work / "sqlite" / "config", work / "sqlite" / "var"
    shutil.copytree(tree / "config", config)
    seed(tree, config, f"sqlite:///{data / 'guichet.db'}")
    whole = work / "whole.db"  # one file with whatever the write-ahead log still held
    with sqlite3.connect(data / "guichet.db") as source, sqlite3.connect(whole) as target:
        source.backup(target)
    (FIXTURE / "guichet.db.gz").write_bytes(gzip.compress(whole.read_bytes(), mtime=0))
    shutil.copyfile(data / "demo-secret-key", FIXTURE / "secret-key")
    shutil.copyfile(data / "demo-audit-signing-key", FIXTURE / "audit-signing-key")
    kept = {"guichet.db", "guichet.db-wal", "guichet.db-shm", "demo-secret-key", "demo-audit-signing-key"}
    with tarfile.open(FIXTURE / "files.tar.gz", "w:gz") as archive:
        for path in sorted(data.rglob("*")):
            if path.relative_to(data).parts[0] not in kept:
                archive.add(path, arcname=str(path.relative_to(data)), recursive=False)


def make_postgresql(tree: Path, work: Path, server: str) -> None:
    """The same seed in a schema of its own on ``server``, dumped, then dropped; the same keys as SQLite's."""
    base = make_url(server.replace("postgresql://", "postgresql+psycopg://", 1))
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA "{SCHEMA}"'))
    try:
        config, data = work / "pg" / "config", work / "pg" / "var"
        shutil.copytree(tree / "config", config)
        data.mkdir(parents=True)
        shutil.copyfile(FIXTURE / "secret-key", data / "demo-secret-key")
        shutil.copyfile(FIXTURE / "audit-signing-key", data / "demo-audit-signing-key")
        url = base.update_query_dict({"options": f"-csearch_path={SCHEMA}"}).render_as_string(hide_password=False)
        seed(tree, config, url)
        dump = subprocess.run(
            ["pg_dump", "--no-owner", "--no-privileges", "--inserts", f"--schema={SCHEMA}", server],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        (FIXTURE / "postgresql.sql.gz").write_bytes(gzip.compress(plain_sql(dump).encode("utf-8"), mtime=0))
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
        admin.dispose()


def plain_sql(dump: str) -> str:
    """The dump as statements a driver runs: no psql meta-command (``\\restrict``), no ``CREATE SCHEMA``.

    The loader makes the schema itself, under the name that replaces ``__SCHEMA__``.
    """
    lines = [
        line
        for line in dump.replace(SCHEMA, PLACEHOLDER).splitlines()
        if not line.startswith(("\\restrict ", "\\unrestrict "))
    ]
    return "\n".join(line for line in lines if line != f"CREATE SCHEMA {PLACEHOLDER};") + "\n"


def main(commit: str) -> None:
    FIXTURE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="guichet-previous-") as folder:
        work = Path(folder)
        tree = work / "tree"
        subprocess.run(["git", "worktree", "add", "--detach", str(tree), commit], cwd=ROOT, check=True)
        try:
            make_sqlite(tree, work)
            server = os.environ.get("GUICHET_TEST_DATABASE_URL")
            if server and shutil.which("pg_dump"):
                make_postgresql(tree, work, server)
            else:
                print("no PostgreSQL fixture: set GUICHET_TEST_DATABASE_URL and install pg_dump", file=sys.stderr)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=True)
    (FIXTURE / "COMMIT").write_text(commit + "\n", encoding="utf-8")
    print(f"fixture written to {FIXTURE.relative_to(ROOT)}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else PREVIOUS_RELEASE)
