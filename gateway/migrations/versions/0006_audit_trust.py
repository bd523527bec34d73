"""audit trust: signed prune records, stored Merkle tiles, append-only guards on every audit table

- ``audit_prune`` gains ``note`` (the gateway's signed statement of the cut)
  and ``archive_sha256``.
- ``audit_tile`` stores the full tiles of the Merkle tree (C2SP tlog-tiles
  layout), so proofs read a few rows. Tiles of an existing log are built here.
- ``audit_entry``, ``audit_checkpoint``, ``audit_prune`` and ``audit_tile``
  refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL). Retention deletes a
  prefix through one path only: on PostgreSQL the SECURITY DEFINER function
  ``audit_prune_prefix``, owned by the role running this migration (the
  tables' owner), which the gateway's own role may execute but whose guards it
  cannot drop, not owning the tables; on SQLite, which has no roles, a
  deletion is let through only while the retention transaction holds a row in
  ``audit_retention_window`` — a guard against mistakes, not against a person
  with the file (see docs/audit_format.md §9).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 10:12:00.000000
"""

from collections.abc import Sequence
from hashlib import sha256

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GUARDED = ("audit_entry", "audit_checkpoint", "audit_prune", "audit_tile")
TILE_WIDTH = 256

#: retention's one way to delete: as the tables' owner, a prefix below a checkpoint, with a signed record
PRUNE_FUNCTION = """
        CREATE FUNCTION audit_prune_prefix(
            p_size bigint, p_frontier json, p_note text, p_archive text, p_archive_sha256 text,
            p_created_at timestamptz
        ) RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
        DECLARE
            removed bigint;
        BEGIN
            IF p_size <= coalesce((SELECT max(size) FROM audit_prune), 0) THEN
                RAISE EXCEPTION 'prune point % is not after the previous one', p_size;
            END IF;
            IF p_size > coalesce((SELECT max(size) FROM audit_checkpoint), 0) THEN
                RAISE EXCEPTION 'prune point % is not covered by a checkpoint', p_size;
            END IF;
            IF p_note IS NULL THEN
                RAISE EXCEPTION 'a prune record must be signed';
            END IF;
            PERFORM set_config('guichet.audit_retention', 'on', true);
            INSERT INTO audit_prune (size, frontier, archive, created_at, note, archive_sha256)
                VALUES (p_size, p_frontier, p_archive, p_created_at, p_note, p_archive_sha256);
            DELETE FROM audit_entry WHERE seq < p_size;
            GET DIAGNOSTICS removed = ROW_COUNT;
            DELETE FROM audit_tile WHERE (idx + 1)::numeric * power(256::numeric, level + 1) <= p_size;
            PERFORM set_config('guichet.audit_retention', 'off', true);
            RETURN removed;
        END $$
        """


def upgrade() -> None:
    with op.batch_alter_table("audit_prune", schema=None) as batch_op:
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("archive_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    op.create_table(
        "audit_tile",
        sa.Column("level", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hashes", sa.LargeBinary(length=8192), nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx"),
    )
    # SQLite's retention window (same schema on both databases; PostgreSQL prunes through its function)
    op.create_table(
        "audit_retention_window",
        sa.Column("opened_by", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.PrimaryKeyConstraint("opened_by"),
    )
    _build_tiles()
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_guards()
    else:
        _sqlite_guards()


def _perfect_root(hashes: list[bytes]) -> bytes:
    while len(hashes) > 1:
        pairs = iter(hashes)
        hashes = [sha256(b"\x01" + left + right).digest() for left, right in zip(pairs, pairs, strict=False)]
    return hashes[0]


def _build_tiles() -> None:
    """Tiles of the entries already there (a log pruned at a size not a multiple of 256 starts later)."""
    bind = op.get_bind()
    first = bind.execute(sa.text("SELECT min(seq) FROM audit_entry")).scalar()
    if first is None:
        return
    tile = -(-first // TILE_WIDTH)
    level_roots: dict[int, list[bytes]] = {}
    while True:
        leaves = bind.execute(
            sa.text("SELECT leaf_hash FROM audit_entry WHERE seq >= :a AND seq < :b ORDER BY seq"),
            {"a": tile * TILE_WIDTH, "b": (tile + 1) * TILE_WIDTH},
        ).scalars().all()  # fmt: skip
        if len(leaves) < TILE_WIDTH:
            return
        _insert_tile(0, tile, list(leaves), level_roots)
        tile += 1


def _insert_tile(level: int, index: int, hashes: list[bytes], level_roots: dict[int, list[bytes]]) -> None:
    root = _perfect_root(hashes)
    op.get_bind().execute(
        sa.text("INSERT INTO audit_tile (level, idx, hashes, root) VALUES (:l, :i, :h, :r)"),
        {"l": level, "i": index, "h": b"".join(hashes), "r": root},
    )
    above = level_roots.setdefault(level + 1, [])
    if index % TILE_WIDTH == 0:
        above.clear()
    above.append(root)
    if len(above) == TILE_WIDTH:
        _insert_tile(level + 1, index // TILE_WIDTH, list(above), level_roots)


def _postgresql_guards() -> None:
    op.execute("DROP TRIGGER IF EXISTS audit_entry_no_update ON audit_entry")
    op.execute("DROP FUNCTION IF EXISTS audit_entry_append_only()")
    op.execute(
        """
        CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' AND current_setting('guichet.audit_retention', true) = 'on'
               AND current_user = (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = TG_RELID) THEN
                RETURN OLD;
            END IF;
            RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$
        """
    )
    for table in GUARDED:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION audit_append_only()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()"
        )
    schema = op.get_bind().execute(sa.text("SELECT quote_ident(current_schema())")).scalar_one()
    op.execute(PRUNE_FUNCTION.replace("@schema@", schema))  # quote_ident above
    op.execute("REVOKE ALL ON FUNCTION audit_prune_prefix(bigint, json, text, text, text, timestamptz) FROM PUBLIC")


def _sqlite_guards() -> None:
    op.execute("DROP TRIGGER IF EXISTS audit_entry_no_update")
    for table in GUARDED:
        op.execute(
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: UPDATE refused'); END"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "  # noqa: S608 (table names are constants)
            "WHEN NOT EXISTS (SELECT 1 FROM audit_retention_window) "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: DELETE refused'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_prune_prefix(bigint, json, text, text, text, timestamptz)")
        for table in GUARDED:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS audit_append_only()")
        op.execute(
            "CREATE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'audit entries are append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry "
            "FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()"
        )
    else:
        for table in GUARDED:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
        op.execute(
            "CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry "
            "BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END"
        )
    op.drop_table("audit_retention_window")
    op.drop_table("audit_tile")
    with op.batch_alter_table("audit_prune", schema=None) as batch_op:
        batch_op.drop_column("archive_sha256")
        batch_op.drop_column("note")
