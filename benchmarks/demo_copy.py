"""Benchmark of the tests' demo: built by ``load_demo`` against copied back by
``tests/snapshots.py`` (``built_once``), in the same run and on the same database.

Usage::

    .venv/bin/python benchmarks/demo_copy.py                      # a temporary SQLite file
    .venv/bin/python benchmarks/demo_copy.py --database-url postgresql+psycopg://.../EMPTY_DB

The database is migrated, the demo built once (the baseline: what each demo load of the tests
cost before), then its tables emptied and the copy put back ``--repeat`` times; the rows are
compared with the build's each time. Prints CPU seconds of this process (PostgreSQL's own work
is not in it; wall seconds are) and one JSON line at the end.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from flask_migrate import upgrade

    from survey_app.extensions import db
    from survey_app.services.demo import load_demo
    from tests.conftest import empty_tables, make_app
    from tests.snapshots import built_once, snapshot_rows

    folder = Path(tempfile.mkdtemp(prefix="relhealth-test-data-"))
    url = args.database_url or f"sqlite:///{folder}/bench.sqlite3"
    app = make_app(url, folder / "instance")
    with app.app_context():
        upgrade()
        empty_tables(db)

        def timed(fn):  # type: ignore[no-untyped-def]
            cpu, wall = time.process_time(), time.perf_counter()
            fn()
            return time.process_time() - cpu, time.perf_counter() - wall

        build = timed(lambda: built_once("bench", lambda: load_demo(links=1).relationship))
        rows = snapshot_rows()
        copies = []
        for _ in range(args.repeat):
            db.session.commit()
            empty_tables(db)
            copies.append(timed(lambda: built_once("bench", lambda: 1 / 0)))
            assert snapshot_rows() == rows, "the copy differs from the build"
        db.session.commit()
        empty_tables(db)
    copy_cpu = statistics.median(c for c, _ in copies)
    copy_wall = statistics.median(w for _, w in copies)
    result = {
        "database": url.split(":", 1)[0],
        "rows": sum(len(values) for _, values in rows.values()),
        "build_cpu_s": round(build[0], 2),
        "build_wall_s": round(build[1], 2),
        "copy_cpu_s": round(copy_cpu, 2),
        "copy_wall_s": round(copy_wall, 2),
        "cpu_ratio": round(build[0] / copy_cpu, 1),
        "wall_ratio": round(build[1] / copy_wall, 1),
    }
    print(f"demo built: {build[0]:.1f} s CPU, {build[1]:.1f} s wall; {result['rows']:,} rows")
    print(f"copied back (median of {args.repeat}): {copy_cpu:.1f} s CPU, {copy_wall:.1f} s wall")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
