"""Benchmark of the tests' per-test fixture costs (tests/conftest.py), before and after, in
the same run and on the same database.

Usage::

    .venv/bin/python benchmarks/fixtures.py                  # a temporary SQLite file
    .venv/bin/python benchmarks/fixtures.py --database-url postgresql+psycopg://.../EMPTY_DB

Three things every test with the ``app`` fixture pays, each measured both ways, alternating:

* ``make_app``: werkzeug compiling every URL rule's two builder functions afresh (before)
  against the builders shared across the run's apps (``_shared_url_builder``, after);
* ``empty_tables``: one ``text()`` DELETE per table and, on PostgreSQL, one more round trip
  for the sequences (before), against driver SQL in one round trip (after), each after the
  same writes (a wave, three links, a signed-in admin);
* on PostgreSQL, a small test's work (those writes, the sign-in, the emptying) with the test
  database's ``synchronous_commit`` on (before) and off (after): wall time, since what it saves
  is the wait for the disk.

Prints CPU milliseconds of this process (PostgreSQL's own work is not in them; wall is) and
one JSON line at the end.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _old_empty_tables(db) -> None:  # type: ignore[no-untyped-def]
    """tests/conftest.py's empty_tables before this change (the baseline)."""
    from sqlalchemy import text

    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        for table in tables:
            conn.execute(text(f"DELETE FROM {table}"))
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT setval(oid, 1, false) FROM pg_class WHERE relkind = 'S'"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    from flask_migrate import upgrade
    from werkzeug.routing import Rule

    import tests.conftest as conftest
    from survey_app.extensions import db
    from survey_app.models import user
    from tests.factories import sign_in
    from tests.snapshots import tables_are_empty

    user.PASSWORD_HASH_METHOD = conftest.TEST_PASSWORD_HASH_METHOD
    folder = Path(tempfile.mkdtemp(prefix="relhealth-fixtures-"))
    url = args.database_url or f"sqlite:///{folder}/bench.sqlite3"
    instance = folder / "instance"
    app = conftest.make_app(url, instance)
    with app.app_context():
        upgrade()
        conftest.empty_tables(db)
        db.engine.dispose()
    logging.disable(logging.INFO)
    load_start = os.getloadavg()[0]

    def timed(fn):  # type: ignore[no-untyped-def]
        cpu, wall = time.process_time(), time.perf_counter()
        fn()
        return time.process_time() - cpu, time.perf_counter() - wall

    def made() -> None:
        conftest.make_app(url, instance)

    builders = {"before": conftest._compile_builder, "after": conftest._shared_url_builder}
    apps: dict[str, list] = {"before": [], "after": []}
    for _ in range(args.repeat):
        for side, builder in builders.items():
            Rule._compile_builder = builder  # type: ignore[method-assign]
            apps[side].append(timed(made))
    Rule._compile_builder = conftest._shared_url_builder  # type: ignore[method-assign]

    def writes() -> None:
        factory = conftest.Factory(app)
        factory.tokens(factory.wave(), n=3)
        sign_in(app, "admin")
        db.session.remove()

    def emptied(empty) -> None:  # type: ignore[no-untyped-def]
        empty(db)
        assert tables_are_empty()
        db.session.remove()

    def small_test() -> None:
        writes()
        emptied(conftest.empty_tables)

    empties: dict[str, list] = {"before": [], "after": []}
    emptying = {"before": _old_empty_tables, "after": conftest.empty_tables}
    app = conftest.make_app(url, instance)
    with app.app_context():
        for _ in range(args.repeat):
            for side, empty in emptying.items():
                writes()
                empties[side].append(timed(lambda empty=empty: empty(db)))
                emptied(lambda db: None)  # checked, outside the timing

        commits: dict[str, list] = {"before": [], "after": []}
        postgres = db.engine.dialect.name == "postgresql"
        if postgres:
            name = db.engine.url.database
            for _ in range(args.repeat):
                for side, setting in (("before", "on"), ("after", "off")):
                    with db.engine.begin() as conn:
                        conn.exec_driver_sql(
                            f'ALTER DATABASE "{name}" SET synchronous_commit = {setting}'
                        )
                    db.engine.dispose()  # new connections read the database's setting
                    commits[side].append(timed(small_test))
        db.engine.dispose()

    def ms(values, index):  # type: ignore[no-untyped-def]
        return round(statistics.median(v[index] for v in values) * 1000, 1)

    result: dict[str, object] = {
        "database": url.split(":", 1)[0],
        "repeat": args.repeat,
        "load_avg_1m_start": round(load_start, 1),
    }
    for label, runs in (("make_app", apps), ("empty_tables", empties), ("small_test", commits)):
        if not runs["before"]:
            continue
        before_cpu, after_cpu = ms(runs["before"], 0), ms(runs["after"], 0)
        before_wall, after_wall = ms(runs["before"], 1), ms(runs["after"], 1)
        result[label] = {
            "before_cpu_ms": before_cpu,
            "after_cpu_ms": after_cpu,
            "cpu_ratio": round(before_cpu / after_cpu, 2) if after_cpu else None,
            "before_wall_ms": before_wall,
            "after_wall_ms": after_wall,
            "wall_ratio": round(before_wall / after_wall, 2) if after_wall else None,
        }
        print(
            f"{label}: CPU {before_cpu} -> {after_cpu} ms, wall {before_wall} -> {after_wall} ms"
            f" (median of {args.repeat})"
        )
    result["load_avg_1m_end"] = round(os.getloadavg()[0], 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
