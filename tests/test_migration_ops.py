"""``survey_app.migration_ops`` emits what the revisions' generated code wrote before: each shape
is compared with the same table written out constraint by constraint, as ``flask db migrate``
writes it (``tests/test_migrations.py`` checks the whole history against the models)."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op
from alembic.migration import MigrationContext
from alembic.operations import Operations

from survey_app.migration_ops import (
    create_table,
    drop_column_in_place,
    drop_table,
    reference,
    stamped,
)


def schema_after(*steps: Callable[[], None]) -> list[tuple]:
    """sqlite_master after the ``steps`` ran as a revision would, on two tables to refer to."""
    engine = sa.create_engine("sqlite://")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE waves (id INTEGER NOT NULL PRIMARY KEY)")
        conn.exec_driver_sql("CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY)")
        with Operations.context(MigrationContext.configure(conn)):
            for step in steps:
                step()
        return conn.exec_driver_sql(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
        ).all()


def by_the_helper() -> None:
    create_table(
        "notes",
        reference("wave_id", "waves", "CASCADE"),
        reference("author_id", "users", "SET NULL", nullable=True),
        sa.Column("state", sa.String(length=8), nullable=False),
        stamped("written_at"),
        checks=[("state", "state IN ('draft', 'kept')")],
        unique=[("wave_id", "state")],
        indexes=["wave_id", ("state", "written_at")],
    )


def written_out() -> None:
    op.create_table(
        "notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("wave_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column(
            "written_at",
            sa.DateTime(),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.CheckConstraint("state IN ('draft', 'kept')", name=op.f("ck_notes_state")),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_notes_author_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["wave_id"], ["waves.id"], name=op.f("fk_notes_wave_id_waves"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notes")),
        sa.UniqueConstraint("wave_id", "state", name=op.f("uq_notes_wave_id_state")),
    )
    with op.batch_alter_table("notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notes_wave_id"), ["wave_id"], unique=False)
        batch_op.create_index("ix_notes_state_written_at", ["state", "written_at"], unique=False)


def test_a_table_with_its_constraints_and_indexes_is_the_one_written_out():
    made = schema_after(by_the_helper)
    assert made == schema_after(written_out)
    assert [name for kind, name, _, _ in made if kind == "index"] == [
        "ix_notes_state_written_at",
        "ix_notes_wave_id",
        "sqlite_autoindex_notes_1",  # the unique constraint's
    ]


def test_a_table_with_its_own_key_gets_no_surrogate_id():
    def keyed() -> None:
        create_table(
            "marks",
            reference("wave_id", "waves.id", "CASCADE"),
            sa.Column("item_no", sa.SmallInteger(), autoincrement=False, nullable=False),
            key=("wave_id", "item_no"),
            sqlite_with_rowid=False,
        )

    def by_hand() -> None:
        op.create_table(
            "marks",
            sa.Column("wave_id", sa.Integer(), nullable=False),
            sa.Column("item_no", sa.SmallInteger(), autoincrement=False, nullable=False),
            sa.ForeignKeyConstraint(
                ["wave_id"], ["waves.id"], name=op.f("fk_marks_wave_id_waves"), ondelete="CASCADE"
            ),
            sa.PrimaryKeyConstraint("wave_id", "item_no", name=op.f("pk_marks")),
            sqlite_with_rowid=False,
        )

    assert schema_after(keyed) == schema_after(by_hand)


def test_drop_table_undoes_create_table():
    before = schema_after()
    assert (
        schema_after(
            by_the_helper, lambda: drop_table("notes", ["wave_id", ("state", "written_at")])
        )
        == before
    )


def test_a_column_dropped_in_place_leaves_the_rest_of_the_table_as_it_was():
    def add() -> None:
        op.add_column("waves", sa.Column("label", sa.String(2), nullable=True))

    assert schema_after(add, lambda: drop_column_in_place("waves", "label")) == schema_after()
