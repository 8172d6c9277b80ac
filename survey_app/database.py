"""Database engine behaviour: SQLite pragmas (WAL, busy timeout, foreign keys, secure
delete), explicit transaction control so that a submit can take the write lock up front,
the write-ahead log's checkpoint that leaves no submit readable in it, PostgreSQL's
VACUUM after the commit that asks for it, bulk inserts (COPY on PostgreSQL), and the JSON
columns' encoder (orjson)."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import orjson
from flask import Flask, current_app
from sqlalchemy import Table, event, insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from survey_app.extensions import db

IMMEDIATE = "relhealth_begin_immediate"
#: ``Connection.info`` key: SQLite's count of rows this connection had changed when its
#: transaction began (what :func:`hold_write_lock` compares with); ``None`` when it began
#: with the write lock.
_CHANGES_AT_BEGIN = "relhealth_changes_at_begin"
log = logging.getLogger(__name__)
_listening = False


def init_app(app: Flask) -> None:
    """Listen to every engine's connections and sessions, and give the app's engines the JSON
    encoder below (before ``db.init_app`` creates them; a setting in the app's config wins).
    JSON is read by :func:`json.loads`, SQLAlchemy's default."""
    global _listening
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    options.setdefault("json_serializer", json_text)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    if not _listening:
        event.listen(Engine, "connect", _on_connect)
        event.listen(Engine, "begin", _on_begin)
        event.listen(Session, "after_commit", _vacuum)
        event.listen(Session, "after_rollback", _forget_vacuum)
        _listening = True


#: orjson's options for JSON columns: keys that are not strings written as strings, as
#: :func:`json.dumps` writes them, and NumPy scalars and arrays written as numbers.
_JSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def json_text(value: Any) -> str:
    """A JSON column's value as text, written by orjson.

    A full recompute stores ~1.5 million numbers as JSON; :func:`json.dumps` spent ~1.0 s of
    CPU writing them (most of it ``float.__repr__``), orjson ~0.1 s (benchmarks/README.md,
    issue 16). The numbers read back the same: both write the shortest text that reads
    back as the same float. Unlike :func:`json.dumps`, NaN and infinities are written as
    ``null`` (as the result tables already store a missing value; PostgreSQL's ``json`` type
    refuses ``NaN`` anyway) and text is written as UTF-8, not ``\\u`` escapes. A value orjson
    refuses (an integer beyond 64 bits) is written by :func:`json.dumps`, as before. Reading
    stays with :func:`json.loads`: ``orjson.loads`` reads such an integer as a float.
    """
    try:
        return orjson.dumps(value, option=_JSON_OPTIONS).decode("utf-8")
    except orjson.JSONEncodeError:
        return json.dumps(value)


def _on_connect(dbapi_connection, connection_record) -> None:  # type: ignore[no-untyped-def]
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    try:
        timeout = current_app.config["SQLITE_BUSY_TIMEOUT_MS"]
    except RuntimeError:
        timeout = 15000
    # Let SQLAlchemy, not pysqlite, decide when a transaction begins.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={int(timeout)}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Deleted rows (drafts, address lists) are overwritten with zeros, not left in free space.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def _on_begin(conn: Connection) -> None:
    if conn.dialect.name != "sqlite":
        return
    if conn.get_execution_options().get(IMMEDIATE):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        conn.info[_CHANGES_AT_BEGIN] = None
    else:
        conn.exec_driver_sql("BEGIN")
        conn.info[_CHANGES_AT_BEGIN] = _sqlite(conn).total_changes


def _sqlite(conn: Connection) -> sqlite3.Connection:
    raw = conn.connection.driver_connection
    assert isinstance(raw, sqlite3.Connection)
    return raw


@contextmanager
def write_transaction() -> Iterator[None]:
    """Run the block as one transaction that holds the write lock from its first statement.

    On SQLite this is ``BEGIN IMMEDIATE`` (a concurrent writer waits for the busy
    timeout instead of failing on a stale snapshot); on PostgreSQL an ordinary
    transaction, whose row locks serialise competing updates. Commits on success,
    rolls back on any error.
    """
    session = db.session
    session.rollback()  # end any read transaction begun earlier in the request
    session.connection(execution_options={IMMEDIATE: True})
    try:
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise


def hold_write_lock() -> None:
    """Make sure the session's transaction can write from here on without failing at once.

    On SQLite (WAL) a transaction that has only read holds a snapshot; once another
    connection commits (a job's heartbeat writing progress), its first write fails
    "database is locked" straight away, whatever the busy timeout. So: the session's
    pending changes are flushed; a transaction that began with the write lock or has
    changed rows holds it and is kept (nobody else can have written since); one that has changed
    nothing has nothing to keep, so it is rolled back and a new one begun with ``BEGIN
    IMMEDIATE``, which waits for the lock (the busy timeout) and reads the latest state.
    The rollback expires the session's objects (they are read again when used). Elsewhere
    (PostgreSQL reads each statement's own snapshot) it does nothing.
    """
    if db.engine.dialect.name != "sqlite":
        return
    session = db.session()
    if session.in_transaction():
        session.flush()
        conn = session.connection()
        baseline = conn.info.get(_CHANGES_AT_BEGIN, -1)
        if baseline is None or _sqlite(conn).total_changes != baseline:
            return
        session.rollback()
    session.connection(execution_options={IMMEDIATE: True})


#: The most the minute tick's checkpoint waits for readers to finish: while it waits it
#: holds SQLite's writer lock, so every writer waits as long (not the 15 s busy timeout).
CHECKPOINT_WAIT_MS = 1000


def checkpoint_wal(*, wait: bool = True) -> bool:
    """Copy SQLite's write-ahead log into the database file and truncate it to nothing.

    A submit is one transaction (invitation used, response stored, draft deleted); until
    it is checkpointed, the ``-wal`` file holds its pages side by side, so a copy of the
    files would line the response up with its invitation. First a PASSIVE checkpoint copies
    what the readers allow, blocking nobody; then ``PRAGMA wal_checkpoint(TRUNCATE)``, which
    returns ``(busy, log frames, checkpointed frames)``, empties the log; ``busy`` is 1 when
    a reader or writer kept it from finishing (the log is then left as it was). TRUNCATE
    holds the writer lock while it waits for readers (SQLite's ``wal_checkpoint_v2``), so it
    waits briefly: not at all with ``wait=False`` (after a submit), at most
    :data:`CHECKPOINT_WAIT_MS` otherwise (the minute tick, which tries again a minute later).
    Returns True when the log is empty afterwards; True on other databases, which have no
    such file.
    """
    if db.engine.dialect.name != "sqlite":
        return True
    with db.engine.connect() as connection:
        raw = connection.connection.driver_connection
        assert isinstance(raw, sqlite3.Connection)
        (timeout,) = raw.execute("PRAGMA busy_timeout").fetchone()
        raw.execute(f"PRAGMA busy_timeout={CHECKPOINT_WAIT_MS if wait else 0}")
        try:
            raw.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            busy, _, _ = raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        except sqlite3.OperationalError:  # locked by a writer: as good as busy
            busy = 1
        finally:
            raw.execute(f"PRAGMA busy_timeout={int(timeout)}")
    return busy == 0


def insert_rows(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (each a mapping of the same column names to values) into ``table``, in
    ``connection``'s transaction: one executemany, or on PostgreSQL one COPY, which the server
    takes several times faster (an executemany is a statement per row for it: the demo's
    170,000 rows took seconds of its time). Each value goes through its column type's bind
    processing as in an INSERT (JSON serialised; ``None`` in a JSON column without
    ``none_as_null`` stored as JSON ``null``), so either way stores the same. A caller on the
    session flushes it first (``session.execute`` would).

    On PostgreSQL the table is then analysed (:func:`analyse`): a bulk load is read at once,
    often in the same transaction (the demo's and an import's recompute, a child table's
    foreign-key checks), where autovacuum cannot see the new rows, and statistics taken while
    the table was empty (a row estimate of 0 over pages a VACUUM kept) plan every read for one
    row: a nested loop over the answers that took minutes in a fresh test database."""
    if not rows:
        return
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), list(rows))
        return
    names = list(rows[0])
    columns = [table.c[name] for name in names]
    dialect = connection.dialect
    processors = [c.type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
    steps = [(i, p) for i, p in enumerate(processors) if p is not None]
    quote = dialect.identifier_preparer.quote
    statement = f"COPY {quote(table.name)} ({', '.join(quote(n) for n in names)}) FROM STDIN"
    with (
        connection.connection.driver_connection.cursor() as cursor,  # type: ignore[union-attr]
        cursor.copy(statement) as copy,
    ):
        for row in rows:
            values = [row[name] for name in names]
            for i, process in steps:
                values[i] = process(values[i])
            copy.write_row(values)
    analyse(connection, [table.name])


def analyse(connection: Connection, tables: Sequence[str]) -> None:
    """ANALYZE ``tables`` (PostgreSQL; nothing on SQLite) in ``connection``'s transaction, whose
    own new rows it counts: after a bulk load that is read at once (:func:`insert_rows`). The
    planner's statistics would otherwise describe the tables as they were (autovacuum analyses
    a minute later at best), and a plan made for a few rows takes seconds a query on 100,000
    answers."""
    if tables and connection.dialect.name == "postgresql":
        quote = connection.dialect.identifier_preparer.quote
        connection.exec_driver_sql(f"ANALYZE {', '.join(quote(t) for t in tables)}")


#: Session.info key: tables to VACUUM once the session's transaction has committed.
_VACUUM = "relhealth_vacuum_after_commit"


def vacuum_after_commit(tables: tuple[str, ...]) -> None:
    """VACUUM ``tables`` (PostgreSQL) as soon as the current transaction commits.

    VACUUM cannot run inside a transaction, and the service that asks for it does not
    commit (the request or command does): so the request's commit triggers it, on a
    connection of its own in autocommit mode. A rollback forgets the request.

    It does not give the table's empty last pages back to the disk (``TRUNCATE false``): that
    takes an exclusive lock, for which VACUUM waits up to 5 s a table while any other
    transaction has read the table, and the request that closed the wave would wait with it
    (the old row versions are removed either way; autovacuum gives the pages back later).
    """
    if db.engine.dialect.name != "postgresql":
        return
    db.session.info.setdefault(_VACUUM, set()).update(tables)


def _vacuum(session: Session) -> None:
    tables = session.info.pop(_VACUUM, None)
    if not tables:
        return
    engine = session.get_bind()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        names = ", ".join(sorted(tables))
        connection.exec_driver_sql(f"VACUUM (ANALYZE, TRUNCATE false) {names}")


def _forget_vacuum(session: Session) -> None:
    session.info.pop(_VACUUM, None)


#: What an analysts' PostgreSQL role may read: the surveys, their responses and results, never
#: invitations, their links, drafts, address lists, people, tokens, jobs or the audit log.
ANALYST_TABLES = (
    "relationships",
    "parties",
    "service_areas",
    "instrument_versions",
    "waves",
    "responses",
    "answers",
    "comments",
    "result_tables",
)


def grant_analyst_reads(role: str) -> None:
    """Let an existing PostgreSQL role read :data:`ANALYST_TABLES` and nothing else of ours.

    Such a role sees every response but no invitation, so it cannot compare the
    transaction ids (``xmin``) of a submit's rows, even while a wave is open.
    """
    if db.engine.dialect.name != "postgresql":
        raise ValueError("database roles are PostgreSQL's: SQLite has none")
    quoted = db.engine.dialect.identifier_preparer.quote(role)
    with db.engine.begin() as connection:
        exists = connection.exec_driver_sql(
            "SELECT 1 FROM pg_roles WHERE rolname = %(role)s", {"role": role}
        ).scalar()
        if not exists:
            raise ValueError(f"there is no database role {role!r}: create it first")
        connection.exec_driver_sql(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {quoted}")
        connection.exec_driver_sql(f"GRANT SELECT ON {', '.join(ANALYST_TABLES)} TO {quoted}")


@contextmanager
def sqlite_foreign_keys_off(bind: Connection) -> Iterator[None]:
    """For a migration that rebuilds a table on SQLite (Alembic's batch mode copies the table
    and drops the old one): with foreign keys enforced, dropping the old table would cascade to
    every row that refers to it (or refuse). The pragma only takes effect outside a transaction,
    so the work runs in a transaction of its own, and the keys are checked before it commits.
    Elsewhere (PostgreSQL alters tables in place) it does nothing."""
    if bind.dialect.name != "sqlite":
        yield
        return
    bind.exec_driver_sql("COMMIT")
    bind.exec_driver_sql("PRAGMA foreign_keys=OFF")
    bind.exec_driver_sql("BEGIN")
    try:
        yield
        broken = bind.exec_driver_sql("PRAGMA foreign_key_check").all()
        if broken:
            raise RuntimeError(f"foreign keys broken by the migration: {broken[:5]}")
    except BaseException:
        bind.exec_driver_sql("ROLLBACK")
        bind.exec_driver_sql("PRAGMA foreign_keys=ON")
        bind.exec_driver_sql("BEGIN")
        raise
    bind.exec_driver_sql("COMMIT")
    bind.exec_driver_sql("PRAGMA foreign_keys=ON")
    bind.exec_driver_sql("BEGIN")
