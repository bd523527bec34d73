"""The migration gate reads the scripts' head and the stored revision without Alembic, and agrees with it."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.util import CommandError
from sqlalchemy import text

from gateway.db import Database, migrations_head
from gateway.testing import migrate

HEADER = '''"""{revision}"""
from collections.abc import Sequence

revision: str = "{revision}"
down_revision: str | None = {down}
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
'''


def write_script(folder: Path, revision: str, down: str) -> None:
    (folder / f"{revision}_step.py").write_text(HEADER.format(revision=revision, down=down), encoding="utf-8")


def test_the_head_read_from_the_scripts_is_alembics_head(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        assert migrations_head() == database._alembic_state()[1] is not None
    finally:
        database.dispose()


def test_an_unmigrated_database_is_at_no_revision_as_alembic_says(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        assert database.migration_state() == database._alembic_state() == (None, migrations_head())
    finally:
        database.dispose()


def test_a_migrated_database_is_at_the_head_as_alembic_says(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'guichet.db'}"
    migrate(url)
    database = Database(url)
    try:
        assert database.migration_state() == database._alembic_state() == (migrations_head(), migrations_head())
    finally:
        database.dispose()


def test_branched_scripts_are_left_to_alembic(tmp_path: Path) -> None:
    write_script(tmp_path, "0001", "None")
    write_script(tmp_path, "0002", '"0001"')
    write_script(tmp_path, "0003", '"0001"')
    assert migrations_head(tmp_path) is None


def test_a_merge_script_is_left_to_alembic(tmp_path: Path) -> None:
    write_script(tmp_path, "0001", "None")
    write_script(tmp_path, "0002", '"0001"')
    write_script(tmp_path, "0003", '"0001"')
    write_script(tmp_path, "0004", '("0002", "0003")')
    assert migrations_head(tmp_path) is None


def test_a_plain_chain_of_scripts_has_its_newest_as_head(tmp_path: Path) -> None:
    write_script(tmp_path, "0001", "None")
    write_script(tmp_path, "0002", '"0001"')
    assert migrations_head(tmp_path) == "0002"


def test_a_version_table_with_two_revisions_gets_alembics_own_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'guichet.db'}"
    migrate(url)
    database = Database(url)
    try:
        with database.engine.begin() as connection:
            connection.execute(text("INSERT INTO alembic_version (version_num) VALUES ('0001')"))
        with pytest.raises(CommandError, match="more than one head"):
            database.migration_state()
    finally:
        database.dispose()
