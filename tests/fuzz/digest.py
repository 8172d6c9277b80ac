"""A digest of every row of every table, to prove that a request changed nothing.

Each table is read with SQLAlchemy Core (``db.metadata.sorted_tables``), ordered by its primary
key, and every row's values hashed by their ``repr`` (values come back as the same Python types
on every read, so two reads of unchanged rows give the same digest). Nothing is excluded: a test
that expects a legitimate effect (a failed sign-in's attempt row) compares :func:`table_rows`
itself and asserts exactly that effect.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import select

from survey_app.extensions import db


def table_rows(name: str) -> list[tuple[Any, ...]]:
    """Every row of table ``name``, ordered by its primary key (in a fresh connection)."""
    table = db.metadata.tables[name]
    order = list(table.primary_key.columns) or list(table.columns)
    with db.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(select(table).order_by(*order))]


def database_digest() -> dict[str, str]:
    """table name -> SHA-256 of its rows (read outside the request's session: what is committed)."""
    digests: dict[str, str] = {}
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            hasher = hashlib.sha256()
            count = 0
            for row in conn.execute(select(table).order_by(*order)):
                hasher.update(repr(tuple(row)).encode("utf-8", "surrogatepass"))
                hasher.update(b"\n")
                count += 1
            digests[table.name] = f"{count}:{hasher.hexdigest()}"
    return digests


def changed_tables(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """The tables whose rows differ between two digests."""
    return sorted(
        name for name in before.keys() | after.keys() if before.get(name) != after.get(name)
    )
