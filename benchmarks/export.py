"""Export benchmark (issue 4, part 6): the downloads of a million-response history.

Builds a scratch database (SQLite file, or a scratch PostgreSQL database created and dropped
here) holding one relationship with a ten-year history — 50 quarterly waves, 1,000,000
responses of the 37-item instrument (about 35 million answers, with "don't know" and skipped
items) — and computes and stores its results, as closing each wave would. Then, each in a
**fresh subprocess**, so that time and peak memory (the process's ``VmHWM``) belong to one
thing:

* ``floor``            the database driver's rows written by ``csv.writer``: the same SQL the
                       ``responses`` export runs (per wave: responses, answers, comments), and
                       the stored ``scores`` rows, fetched with the bare DB-API cursor and
                       written row by row — no SQLAlchemy, no pivot, no app;
* ``csv``              the ``responses`` and ``scores`` downloads as CSV, through
                       :func:`survey_app.services.exports.prepare_download` (what the web route
                       and ``relhealth export`` stream);
* ``xlsx``             the same two downloads as XLSX (openpyxl write-only).

Targets: CSV within 2x the floor and under 200 MB peak; XLSX under 300 MB peak.

    .venv/bin/python benchmarks/export.py                   # 1,000,000 responses, SQLite
    .venv/bin/python benchmarks/export.py --scale 0.01      # 10,000 responses
    .venv/bin/python benchmarks/export.py --db postgresql   # a scratch PostgreSQL database

The last line of output is one JSON object: ``csv_s``, ``floor_s``, ``floor_ratio``,
``csv_peak_mb``, ``xlsx_s``, ``xlsx_peak_mb``, ``responses`` (``csv_s`` and ``floor_s`` add the
``responses`` and ``scores`` files; peaks are the larger of the two), then the details.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._server import machine as server_machine  # noqa: E402
from benchmarks._server import scratch_database  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FULL_RESPONSES = 1_000_000
WAVES = 50
NAME = "Benchmark Council — Benchmark Supplier"
CSV_RATIO_TARGET = 2.0
CSV_PEAK_TARGET_MB = 200.0
XLSX_PEAK_TARGET_MB = 300.0


def log(message: str) -> None:
    print(message, flush=True)


def peak_mb() -> float:
    """This process's peak resident memory (MB).

    ``VmHWM`` from ``/proc/self/status``: the high-water mark of this program's own memory.
    (``ru_maxrss`` would not do on Linux: it keeps the parent's peak across fork and exec, so
    a child of a 300 MB parent starts at 300 MB.) Elsewhere, ``ru_maxrss``.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def make_app(database_url: str, instance: Path):
    os.environ["RELHEALTH_INSTANCE_PATH"] = str(instance)
    from survey_app import create_app

    return create_app(
        {"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "benchmark-only-secret"}
    )


# ============================================================================ the history


def build_history(
    database_url: str, instance: Path, responses: int, seed: int = 44001
) -> dict[str, Any]:
    """Migrate, create the relationship and its closed waves, insert the responses in bulk,
    and compute and store the results (as closing each wave does)."""
    import numpy as np
    from flask_migrate import upgrade

    app = make_app(database_url, instance)
    with app.app_context():
        from survey_app.extensions import db
        from survey_app.services import results
        from survey_app.services.demo import AREAS
        from survey_app.services.instruments import frozen_instrument
        from survey_app.services.relationships import create_relationship
        from survey_app.services.waves import create_wave

        upgrade()
        rel = create_relationship(
            NAME, client="Benchmark Council", supplier="Benchmark Supplier", service_areas=AREAS
        )
        waves = []
        for t in range(WAVES):
            label = f"{2003 + t // 4}-Q{t % 4 + 1}"
            wave = create_wave(rel, label, actor="benchmark")
            wave.state = "closed"
            wave.opened_at = datetime(2003 + t // 4, 3 * (t % 4) + 1, 15, 9)
            wave.closed_at = datetime(2003 + t // 4, 3 * (t % 4) + 3, 10, 17)
            waves.append(wave)
        db.session.commit()
        instrument = frozen_instrument(waves[0].instrument_version)
        wave_ids = [w.id for w in waves]
        version_id = waves[0].instrument_version_id
        area_ids = [a.id for a in rel.service_areas]
        dialect = db.engine.dialect.name
        rel_id = rel.id
        db.session.commit()  # end the session's read transaction before the raw writes
        started = time.perf_counter()
        rng = np.random.default_rng(seed)
        n_items = len(instrument.items)
        reverse = np.array([i.reverse for i in instrument.items])
        dont_know = np.array([i.dont_know for i in instrument.items])
        # Keys are random, as the service makes them; inserted in key order (the tables are
        # clustered on them), so that generating a million rows takes a minute, not an hour.
        keys = np.sort(rng.integers(0, 2**63, size=responses, dtype=np.int64))
        raw = db.engine.raw_connection()
        try:
            inserted = _insert(
                raw, dialect, rng, keys, wave_ids, version_id, area_ids, n_items, reverse, dont_know
            )
            raw.commit()
        finally:
            raw.close()
        insert_s = time.perf_counter() - started
        log(f"  inserted {responses:,} responses and {inserted:,} answers in {insert_s:.0f} s")
        started = time.perf_counter()
        db.session.rollback()
        summary = results.recompute(db.session.get(type(rel), rel_id))
        db.session.commit()
        results_s = time.perf_counter() - started
        log(f"  {summary.line()} ({results_s:.0f} s)")
        return {
            "relationship_id": rel_id,
            "answers": inserted,
            "insert_s": round(insert_s, 1),
            "results_s": round(results_s, 1),
        }


def _insert(
    raw, dialect, rng, keys, wave_ids, version_id, area_ids, n_items, reverse, dont_know
) -> int:
    import numpy as np

    sides = np.array(["client", "supplier"])
    roles = np.array(["executive", "manager", "staff", ""], dtype=object)
    total = 0
    chunk = 20_000
    cursor = raw.cursor()
    if dialect == "sqlite":
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.execute("PRAGMA cache_size=-400000")
        cursor.execute("BEGIN")  # the app's connections run pysqlite in autocommit mode
    for lo in range(0, keys.size, chunk):
        part = keys[lo : lo + chunk]
        n = part.size
        # A uuid4 from each sorted 63-bit prefix plus random low bits: keys stay sorted.
        low = rng.integers(0, 2**62, size=n, dtype=np.int64)
        ids = [
            uuid.UUID(int=(int(k) << 65) | int(lw), version=4)
            for k, lw in zip(part, low, strict=True)
        ]
        wave = rng.integers(0, len(wave_ids), size=n)
        side = sides[(rng.random(n) < 0.44).astype(int)]
        area = rng.integers(-1, len(area_ids), size=n)
        role = roles[rng.choice(4, size=n, p=[0.08, 0.27, 0.6, 0.05])]
        latent = 3.7 + rng.normal(0, 0.45, size=(n, 1)) + rng.normal(0, 0.7, size=(n, n_items))
        values = np.clip(np.rint(latent), 1, 5).astype(np.int8)
        values = np.where(reverse, 6 - values, values)
        draw = rng.random((n, n_items))
        values = np.where(dont_know & (draw < 0.06), 0, values)  # 0: don't know
        values = np.where(draw > 0.98, -1, values)  # -1: skipped (no row)
        if dialect == "sqlite":
            hexes = [u.hex for u in ids]
            cursor.executemany(
                "INSERT INTO responses (id, wave_id, instrument_version_id, side, service_area_id, role_level) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (
                        hexes[i],
                        wave_ids[wave[i]],
                        version_id,
                        side[i],
                        area_ids[area[i]] if area[i] >= 0 else None,
                        role[i] or None,
                    )
                    for i in range(n)
                ],
            )
            rows, cols = np.nonzero(values >= 0)
            vals = values[rows, cols].tolist()
            cursor.executemany(
                "INSERT INTO answers (response_id, item_no, value) VALUES (?, ?, ?)",
                [
                    (hexes[r], c, v or None)
                    for r, c, v in zip(rows.tolist(), cols.tolist(), vals, strict=True)
                ],
            )
            total += len(vals)
        else:
            texts = [str(u) for u in ids]
            with cursor.copy(
                "COPY responses (id, wave_id, instrument_version_id, side, service_area_id, role_level) FROM STDIN"
            ) as copy:
                copy.write(
                    "".join(
                        f"{texts[i]}\t{wave_ids[wave[i]]}\t{version_id}\t{side[i]}\t"
                        f"{area_ids[area[i]] if area[i] >= 0 else chr(92) + 'N'}\t{role[i] or chr(92) + 'N'}\n"
                        for i in range(n)
                    )
                )
            rows, cols = np.nonzero(values >= 0)
            vals = values[rows, cols].tolist()
            with cursor.copy("COPY answers (response_id, item_no, value) FROM STDIN") as copy:
                copy.write(
                    "".join(
                        f"{texts[r]}\t{c}\t{v if v else chr(92) + 'N'}\n"
                        for r, c, v in zip(rows.tolist(), cols.tolist(), vals, strict=True)
                    )
                )
            total += len(vals)
    cursor.close()
    return total


# ============================================================================ measurements


def measure(
    kind: str, database_url: str, instance: Path, out: Path, relationship_id: int
) -> dict[str, Any]:
    """One measurement, in this (fresh) process: returns seconds, peak MB and bytes written."""
    baseline = peak_mb()
    if kind == "floor":
        return _measure_floor(database_url, instance, out, relationship_id, baseline)
    table, fmt = kind.split(".")
    app = make_app(database_url, instance)
    with app.app_context():
        from survey_app.services import exports

        scope = exports.export_scope(relationship_id)
        imported = peak_mb()
        started = time.perf_counter()
        download = exports.prepare_download(table, fmt, scope)
        with out.open("wb") as handle:
            for chunk in download.chunks:
                handle.write(chunk)
        seconds = time.perf_counter() - started
    return {
        "kind": kind,
        "seconds": round(seconds, 2),
        "peak_mb": round(peak_mb(), 1),
        "after_imports_mb": round(imported, 1),
        "bytes": out.stat().st_size,
        "interpreter_mb": round(baseline, 1),
    }


def _measure_floor(
    database_url: str, instance: Path, out: Path, relationship_id: int, baseline: float
) -> dict[str, Any]:
    """The same SQL as the export, through the bare driver, every row to csv.writer."""
    from sqlalchemy.dialects import postgresql as pg_dialect
    from sqlalchemy.dialects import sqlite as sqlite_dialect

    app = make_app(database_url, instance)
    with app.app_context():
        from sqlalchemy import select

        from survey_app.extensions import db
        from survey_app.models import ResultTable
        from survey_app.services import exports

        dialect = db.engine.dialect.name
        scope = exports.export_scope(relationship_id)
        compiler = sqlite_dialect.dialect() if dialect == "sqlite" else pg_dialect.dialect()
        statements = []
        for wave in scope.waves:
            for query in exports.response_queries(wave.id):
                statements.append(
                    str(query.compile(dialect=compiler, compile_kwargs={"literal_binds": True}))
                )
        scores_sql = str(
            select(ResultTable.rows)
            .where(ResultTable.relationship_id == relationship_id, ResultTable.name == "scores")
            .order_by(ResultTable.wave_id)
            .compile(dialect=compiler, compile_kwargs={"literal_binds": True})
        )
        db.engine.dispose()
    imported = peak_mb()
    started = time.perf_counter()
    if dialect == "sqlite":
        path = database_url.removeprefix("sqlite:///")
        connection = sqlite3.connect(path)
        cursors = lambda: connection.cursor()  # noqa: E731
    else:
        import psycopg
        from sqlalchemy.engine import make_url

        dsn = (
            make_url(database_url)
            .set(drivername="postgresql")
            .render_as_string(hide_password=False)
        )
        connection = psycopg.connect(dsn)
        counter = iter(range(10**9))
        cursors = lambda: connection.cursor(name=f"floor{next(counter)}")  # noqa: E731
    rows = 0
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        for sql in statements:
            cursor = cursors()
            cursor.execute(sql)
            while batch := cursor.fetchmany(5000):
                writer.writerows(batch)
                rows += len(batch)
            cursor.close()
        responses_s = time.perf_counter() - started
        cursor = cursors()
        cursor.execute(scores_sql)
        for (blob,) in cursor:
            table_rows = json.loads(blob) if isinstance(blob, str) else blob
            writer.writerows(table_rows)
            rows += len(table_rows)
        cursor.close()
    connection.close()
    seconds = time.perf_counter() - started
    return {
        "kind": "floor",
        "seconds": round(seconds, 2),
        "responses_seconds": round(responses_s, 2),
        "scores_seconds": round(seconds - responses_s, 2),
        "peak_mb": round(peak_mb(), 1),
        "after_imports_mb": round(imported, 1),
        "bytes": out.stat().st_size,
        "rows": rows,
        "interpreter_mb": round(baseline, 1),
    }


def run_child(
    kind: str, database_url: str, instance: Path, workdir: Path, relationship_id: int
) -> dict[str, Any]:
    out = workdir / f"out-{kind}"
    command = [
        sys.executable, str(Path(__file__).resolve()), "--measure", kind,
        "--database-url", database_url, "--instance", str(instance), "--out", str(out),
        "--relationship-id", str(relationship_id),
    ]  # fmt: skip
    done = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    out.unlink(missing_ok=True)
    log(
        f"  {kind:16s} {result['seconds']:9.1f} s  peak {result['peak_mb']:7.1f} MB  "
        f"{result['bytes'] / 1e6:9.1f} MB written"
    )
    return result


# ============================================================================ main


def machine() -> dict[str, Any]:
    """:func:`benchmarks._server.machine`, with the CPU's model and openpyxl's XML writer."""
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import lxml  # noqa: F401

        xml = "lxml"
    except ImportError:
        xml = "et_xmlfile (pure Python; openpyxl is faster with lxml)"
    return {**server_machine(), "cpu": cpu, "openpyxl_xml": xml}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiplies the 1,000,000 responses"
    )
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--postgres-url", help="server for the scratch database (loopback only)")
    parser.add_argument("--skip-xlsx", action="store_true", help="measure CSV and the floor only")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    # internal: one measurement in a fresh process
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--instance", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--relationship-id", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not 0.0001 <= args.scale <= 5:
        parser.error("--scale must be between 0.0001 and 5")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.measure:
        result = measure(
            args.measure, args.database_url, args.instance, args.out, args.relationship_id
        )
        print(json.dumps(result))
        return 0
    responses = max(WAVES, round(FULL_RESPONSES * args.scale))
    workdir = Path(tempfile.mkdtemp(prefix="relhealth-export-bench-"))
    instance = workdir / "instance"
    instance.mkdir()
    log(f"Export benchmark: {responses:,} responses over {WAVES} waves, {args.db}, in {workdir}")
    details: dict[str, Any] = {"machine": machine(), "db": args.db, "scale": args.scale}
    try:
        with scratch_database(args.db, workdir, args.postgres_url) as url:
            history = build_history(url, instance, responses)
            details["history"] = history
            rel = history["relationship_id"]
            kinds = ["floor", "responses.csv", "scores.csv"]
            if not args.skip_xlsx:
                kinds += ["scores.xlsx", "responses.xlsx"]
            measured = {kind: run_child(kind, url, instance, workdir, rel) for kind in kinds}
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    floor = measured["floor"]
    csv_s = measured["responses.csv"]["seconds"] + measured["scores.csv"]["seconds"]
    summary: dict[str, Any] = {
        "csv_s": round(csv_s, 2),
        "floor_s": floor["seconds"],
        "floor_ratio": round(csv_s / floor["seconds"], 2) if floor["seconds"] else None,
        "csv_peak_mb": max(measured["responses.csv"]["peak_mb"], measured["scores.csv"]["peak_mb"]),
        "xlsx_s": None,
        "xlsx_peak_mb": None,
        "responses": responses,
    }
    if not args.skip_xlsx:
        summary["xlsx_s"] = round(
            measured["responses.xlsx"]["seconds"] + measured["scores.xlsx"]["seconds"], 2
        )
        summary["xlsx_peak_mb"] = max(
            measured["responses.xlsx"]["peak_mb"], measured["scores.xlsx"]["peak_mb"]
        )
    summary["targets"] = {
        "csv_within_2x_floor": summary["floor_ratio"] is not None
        and summary["floor_ratio"] <= CSV_RATIO_TARGET,
        "csv_under_200_mb": summary["csv_peak_mb"] < CSV_PEAK_TARGET_MB,
        "xlsx_under_300_mb": None
        if summary["xlsx_peak_mb"] is None
        else summary["xlsx_peak_mb"] < XLSX_PEAK_TARGET_MB,
    }
    summary["details"] = {**details, "measured": measured}
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
