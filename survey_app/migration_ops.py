"""The shapes the Alembic revisions (``migrations/versions``) repeat, written once.

Every table is created the way ``flask db migrate`` wrote it: an integer surrogate key ``id``
first (unless the table names its own key), the columns, then the named constraints in the
order given — checks, foreign keys, the primary key, unique constraints — and its indexes.
Every name follows the models' naming convention (``survey_app.models.base``): ``ck_<table>_<name>``,
``fk_<table>_<column>_<referred table>``, ``pk_<table>``, ``uq_<table>_<columns>``,
``ix_<table>_<columns>``.

This module is part of the schema's history: each revision that calls it must keep doing what it
did when it was applied (``tests/test_migrations.py`` checks that the history ends at the models).
Never change what a function emits; add a new one instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

#: A foreign key: (column, referred table or ``table.column``, ON DELETE action or None).
Reference = tuple[str, str, str | None]


def stamped(name: str) -> sa.Column:
    """A required timestamp the database fills in when the row is inserted."""
    return sa.Column(
        name, sa.DateTime(), server_default=sa.text("(CURRENT_TIMESTAMP)"), nullable=False
    )


def references(table: str, *keys: Reference) -> list[sa.ForeignKeyConstraint]:
    """Named foreign keys of ``table``; a referred table without a column means its ``id``."""
    constraints = []
    for column, referred, ondelete in keys:
        target = referred if "." in referred else f"{referred}.id"
        name = op.f(f"fk_{table}_{column}_{target.split('.')[0]}")
        constraints.append(
            sa.ForeignKeyConstraint([column], [target], name=name, ondelete=ondelete)
        )
    return constraints


def create_table(
    name: str,
    *columns: sa.Column,
    checks: Sequence[tuple[str, str]] = (),
    foreign_keys: Sequence[Reference] = (),
    key: Sequence[str] = ("id",),
    unique: Sequence[Sequence[str]] = (),
    indexes: Sequence[str | Sequence[str]] = (),
    **options: Any,
) -> None:
    """Create table ``name`` with its named constraints, then its (non-unique) indexes.

    A table keyed by ``id`` gets the integer surrogate key unless ``columns`` define ``id``.

    ``checks`` are (name, SQL condition) pairs; ``indexes`` are a column or a tuple of
    columns each; ``options`` go to :func:`alembic.op.create_table` (``sqlite_with_rowid``).
    """
    named_id = any(column.name == "id" for column in columns)
    surrogate = (
        [] if named_id or tuple(key) != ("id",) else [sa.Column("id", sa.Integer(), nullable=False)]
    )
    op.create_table(
        name,
        *surrogate,
        *columns,
        *(sa.CheckConstraint(sql, name=op.f(f"ck_{name}_{check}")) for check, sql in checks),
        *references(name, *foreign_keys),
        sa.PrimaryKeyConstraint(*key, name=op.f(f"pk_{name}")),
        *(sa.UniqueConstraint(*cols, name=op.f(f"uq_{name}_{'_'.join(cols)}")) for cols in unique),
        **options,
    )
    if indexes:
        with op.batch_alter_table(name, schema=None) as batch_op:
            for columns_ in _index_columns(indexes):
                batch_op.create_index(_index_name(name, columns_), list(columns_), unique=False)


def drop_table(name: str, indexes: Sequence[str | Sequence[str]] = ()) -> None:
    """Undo :func:`create_table`: its indexes, last first, then the table."""
    if indexes:
        with op.batch_alter_table(name, schema=None) as batch_op:
            for columns_ in reversed(_index_columns(indexes)):
                batch_op.drop_index(_index_name(name, columns_))
    op.drop_table(name)


def drop_column_in_place(table: str, column: str) -> None:
    """Drop a column with a plain ALTER TABLE, never a batch "copy and move": rebuilding a
    table on SQLite drops the old one, and with foreign keys on that cascades to every row that
    refers to it. SQLite has dropped columns in place since 3.35."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    else:
        op.drop_column(table, column)


def _index_columns(indexes: Iterable[str | Sequence[str]]) -> list[tuple[str, ...]]:
    return [(index,) if isinstance(index, str) else tuple(index) for index in indexes]


def _index_name(table: str, columns: tuple[str, ...]) -> Any:
    name = f"ix_{table}_{'_'.join(columns)}"
    # A one-column index is named by the convention (op.f), a composite one was named by hand.
    return op.f(name) if len(columns) == 1 else name
