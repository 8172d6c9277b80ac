"""Costly test data built once per run and copied back wherever it is needed again.

Loading the demo (``load_demo``: 14 closed waves, about 170,000 rows, their results computed)
takes about 18 s of CPU; the browser tests need it in a dozen tests and ``demo_site`` in each of
its modules, on SQLite and on PostgreSQL. :func:`built_once` builds such data through the
services the first time and keeps every row of every table in memory (``snapshot``); the
next test that asks for it, again into empty tables, gets those rows inserted back as they were
(about 1.5 s), with the same ids, and the value the build returned. What is copied is exactly
what the build committed, so a test sees the same data either way; ``tests/test_snapshots.py``
checks the copy against a fresh build.

Tables that are not empty (a test made data first) get a fresh build, not the copy: the ids
would clash. Each helper asks for its data before making anything else.

Tests that only read such data (marked ``reads_demo``, see ``tests/conftest.py``) need not copy
it again each: after one, :func:`trim_to_held` deletes just the rows it added (those past each
table's largest id in the snapshot), and the next finds the data still there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Integer, func, select, text

from survey_app.database import insert_rows
from survey_app.extensions import db

T = TypeVar("T")


@dataclass(frozen=True)
class Snapshot:
    #: table name -> (its column names, its rows as tuples), in the order tables are created.
    rows: dict[str, tuple[tuple[str, ...], list[tuple]]]
    value: Any  # what the build returned (ids, names: nothing tied to a session)


_TAKEN: dict[str, Snapshot] = {}
#: The key whose data the tables hold exactly as built (put into empty tables, or trimmed back to
#: it since); None once anything empties the tables (:func:`forget_held`).
_held: str | None = None


def built_once(key: str, build: Callable[[], T]) -> T:
    """``build()``'s data in the database (committed), and what it returned: built the first
    time for ``key`` and copied from the snapshot afterwards (when the tables are empty)."""
    global _held
    db.session.commit()  # a read transaction begun earlier would not see the tables as now
    snapshot = _TAKEN.get(key)
    if snapshot is not None and _held == key and _counts_match(snapshot):
        db.session.commit()
        return snapshot.value  # kept from the test before (trim_to_held)
    _held = None
    empty = tables_are_empty()
    if snapshot is not None and empty:
        db.session.commit()  # its read transaction ends: the rows go in on a connection of their own
        put_back(snapshot.rows)
        _held = key
        return snapshot.value
    value = build()
    db.session.commit()
    if empty:
        _TAKEN[key] = Snapshot(snapshot_rows(), value)
        _held = key
        db.session.commit()
    return value


def forget_held() -> None:
    """The tables were emptied (``tests/conftest.py``'s ``empty_tables`` calls this)."""
    global _held
    _held = None


def trim_to_held() -> bool:
    """Take the tables back to the data :func:`built_once` last put in, by deleting every row
    added since: rows past each table's largest id in its snapshot (children first). True if
    every table then holds as many rows as the snapshot; False (the caller empties the tables)
    if nothing is held or a table's count differs (rows deleted, or added to a table without a
    single integer id)."""
    global _held
    snapshot = _TAKEN.get(_held) if _held is not None else None
    if snapshot is None:
        return False
    db.session.remove()
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            (column, *others) = table.primary_key.columns
            if others or not isinstance(column.type, Integer):
                continue
            names, rows = snapshot.rows.get(table.name, ((), []))
            at = names.index(column.name) if rows else 0
            largest = max((row[at] for row in rows), default=0)
            conn.execute(table.delete().where(column > largest))
    if _counts_match(snapshot):
        return True
    _held = None
    return False


def _counts_match(snapshot: Snapshot) -> bool:
    counts = db.session.execute(
        select(
            *(
                select(func.count()).select_from(t).scalar_subquery()
                for t in db.metadata.sorted_tables
            )
        )
    ).one()
    db.session.commit()
    return all(
        n == len(snapshot.rows.get(table.name, ((), []))[1])
        for table, n in zip(db.metadata.sorted_tables, counts, strict=True)
    )


def tables_are_empty() -> bool:
    return all(
        db.session.scalar(select(func.count()).select_from(table)) == 0
        for table in db.metadata.sorted_tables
    )


def snapshot_rows() -> dict[str, tuple[tuple[str, ...], list[tuple]]]:
    taken = {}
    for table in db.metadata.sorted_tables:
        query = select(table).order_by(*table.primary_key.columns)
        rows = [tuple(row) for row in db.session.execute(query)]
        if rows:
            taken[table.name] = (tuple(c.name for c in table.columns), rows)
    return taken


def put_back(rows: dict[str, tuple[tuple[str, ...], list[tuple]]]) -> None:
    """Insert the rows (parents before children; on PostgreSQL with COPY: ``insert_rows``)
    and, on PostgreSQL, move each id sequence on past them, as if the rows had been inserted
    one by one; ``insert_rows`` analyses each table as it is filled: its statistics
    may describe the few rows an earlier test left, and plans made on them (its children's
    foreign-key checks, the disclosure tests' downloads of the demo) take seconds, not
    milliseconds, on 100,000 rows."""
    with db.engine.begin() as conn:
        for table in db.metadata.sorted_tables:
            if table.name not in rows:
                continue
            names, values = rows[table.name]
            insert_rows(conn, table, [dict(zip(names, row)) for row in values])
            if conn.dialect.name == "postgresql":
                name = conn.dialect.identifier_preparer.quote(table.name)
                for column in table.primary_key.columns:
                    if isinstance(column.type, Integer):
                        conn.execute(
                            text(
                                f"SELECT setval(s, (SELECT max({column.name}) FROM {name})) "
                                "FROM pg_get_serial_sequence(:t, :c) AS s WHERE s IS NOT NULL"
                            ),
                            {"t": name, "c": column.name},
                        )
