"""Benchmark of the scoring service: a full recompute of a million-response history.

Usage::

    .venv/bin/python benchmarks/analysis.py [--scale F] [--path FILE] [--keep]
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python benchmarks/analysis.py --scale 0.05

It writes a synthetic history — ``1,000,000 × F`` responses to a 40-item benchmark instrument
over 40 closed quarterly waves of one relationship (5 service areas), about 4% "don't know"
and 2% skipped answers — into a database (SQLite: a file in a temporary folder, or
``--path``; PostgreSQL with ``DATABASE_URL``: a scratch database created and dropped), then
measures, each in a fresh subprocess so that peak memory (``VmHWM``) is the measurement's
own:

``floor``      the same answers read with the database driver alone into NumPy: the same
               SQL, fetched with ``cursor.fetchmany`` and turned into arrays, nothing else;
               measured before and after the recompute (after one unmeasured read that
               warms the caches) and averaged.
``recompute``  :func:`survey_app.services.results.recompute` — read every wave in bulk,
               compute every table and the status over time, persist; timed end to end.
``compute``    the computation alone (answers already in memory), the service's way — its
               tables (:func:`~survey_app.services.results.compute_tables`) and its statuses
               (:func:`~survey_app.services.results.add_statuses`) timed apart — and the
               straightforward way (``benchmarks/reference.py``: pandas ``groupby`` and one
               SciPy / pingouin / pymannkendall call per group and series; tables and
               statuses timed apart too), on the same in-memory data, each timed block
               with the cyclic collector paused and the heap kept, as the service's
               rebuild runs its computation (both sides alike). The service's
               computation runs before and after the baseline and its two times are
               averaged, so a load that drifts during the long baseline moves both sides.
               The deeper tables (relative weights, heat-map tests, margins: issue 16), which
               the baseline does not compute, are left out of ``compute_tables_s`` and timed
               apart (``compute_deeper_s``); the recompute includes them.

and compares the two computations (``max_abs_diff`` over every statistic both produce,
``status_differs`` over every status). The last line printed is one JSON object with the
figures, the load average at the start and at the end beside them.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__":  # run as a script: its folder would shadow the `analysis` package
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from benchmarks.reference import (  # noqa: E402
    Spec,
    compare_history,
    reference_frame,
    reference_statuses,
    reference_tables_history,
)

# ============================================================================ the history

N_WAVES = 40
N_AREAS = 5
N_DIMENSIONS = 10
ITEMS_PER_DIMENSION = 4
RELATIONSHIP = "Benchmark Council — Benchmark Supplier"


def benchmark_instrument_yaml() -> str:
    """A 40-item instrument: 10 dimensions of 4 items (the 4th reverse-keyed), the last one
    the outcome; "don't know" allowed on every item."""
    lines = [
        "key: benchmark",
        "version: 1",
        "title: Benchmark survey",
        "minutes: 10",
        "placeholders: [partner]",
        "scale:",
        "  points: 5",
        "  labels: [Strongly disagree, Disagree, Neither, Agree, Strongly agree]",
        "  favourable: [4, 5]",
        "  unfavourable: [1, 2]",
        "dimensions:",
    ]
    for d in range(N_DIMENSIONS):
        lines += [f"  - key: d{d}", f"    title: Dimension {d}"]
        if d == N_DIMENSIONS - 1:
            lines.append("    outcome: true")
    lines.append("items:")
    for d in range(N_DIMENSIONS):
        for j in range(ITEMS_PER_DIMENSION):
            lines += [
                f"  - key: d{d}i{j}",
                f"    dimension: d{d}",
                f"    reverse: {'true' if j == ITEMS_PER_DIMENSION - 1 else 'false'}",
                "    dont_know: true",
                "    wording:",
                f"      client: 'Statement {d}.{j} about {{partner}}.'",
                f"      supplier: 'Statement {d}.{j} about {{partner}}.'",
            ]
    return "\n".join(lines) + "\n"


def _wave_answers(rng: np.random.Generator, n: int, t: int) -> dict[str, np.ndarray]:
    """Synthetic answers of one wave: sides, areas, and values with a story (some dimensions
    drift down over the waves, areas and sides differ), 4% don't know, 2% skipped."""
    n_items = N_DIMENSIONS * ITEMS_PER_DIMENSION
    side = (rng.random(n) < 0.45).astype(np.int64)  # 1 = supplier
    area = rng.integers(-1, N_AREAS, n)  # -1: no area
    dim_mean = 3.7 - 0.02 * t * (np.arange(N_DIMENSIONS) % 3 == 0)
    latent = (
        dim_mean[np.arange(n_items) // ITEMS_PER_DIMENSION][None, :]
        + 0.25 * side[:, None]
        - 0.15 * np.where(area >= 3, 1, 0)[:, None]
        + rng.normal(0, 0.5, (n, 1))
        + rng.normal(0, 0.8, (n, n_items))
    )
    value = np.clip(np.rint(latent), 1, 5).astype(np.int64)
    reverse = (np.arange(n_items) % ITEMS_PER_DIMENSION) == ITEMS_PER_DIMENSION - 1
    value[:, reverse] = 6 - value[:, reverse]
    u = rng.random((n, n_items))
    return {"side": side, "area": area, "value": value, "dont_know": u < 0.04, "skipped": u > 0.98}


def _history_size(app: Any) -> tuple[int, int]:
    """Responses and answers of a history written before (``--reuse``)."""
    from sqlalchemy import func, select

    from survey_app.extensions import db
    from survey_app.models import Answer, Response

    with app.app_context():
        responses = db.session.scalar(select(func.count()).select_from(Response))
        answers = db.session.scalar(select(func.count()).select_from(Answer))
        db.engine.dispose()
    return int(responses or 0), int(answers or 0)


def history_scale(responses: int) -> float:
    """The size of a history of ``responses`` responses in ``--scale`` units (1.0 = a million):
    what a ``--reuse`` run reports, since its history was written at a scale it is not told.
    :func:`generate_history` writes ``round(1,000,000 × scale / N_WAVES)`` responses a wave
    (at least 10), so this gives back the scale it was written at whenever a wave had
    more than 10."""
    return round(responses / 1_000_000, 4)


def _uuid_bytes(rng: np.random.Generator, n: int) -> np.ndarray:
    raw = np.frombuffer(rng.bytes(16 * n), dtype=np.uint8).reshape(n, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    return raw


def generate_history(app: Any, scale: float, seed: int = 2024) -> tuple[int, int]:
    """Write the synthetic history into the app's (migrated, empty) database.

    Returns (responses, answers). Waves are created through the service layer (so their
    instrument is frozen as usual) and marked closed without computing results; responses
    and answers go in with the driver's bulk paths (executemany on SQLite, COPY on
    PostgreSQL).
    """
    import datetime as dt

    from survey_app.extensions import db
    from survey_app.services.relationships import create_relationship
    from survey_app.services.waves import create_wave

    rng = np.random.default_rng(seed)
    per_wave = max(int(round(1_000_000 * scale / N_WAVES)), 10)
    with app.app_context():
        rel = create_relationship(
            RELATIONSHIP,
            client="Benchmark Council",
            supplier="Benchmark Supplier",
            service_areas=[f"Area {i + 1}" for i in range(N_AREAS)],
        )
        area_ids = [a.id for a in rel.service_areas]
        waves = []
        for t in range(N_WAVES):
            year, quarter = 2003 + t // 4, t % 4 + 1
            wave = create_wave(
                rel, f"{year}-Q{quarter}", instrument_key="benchmark", actor="benchmark"
            )
            wave.state = "closed"
            wave.opened_at = dt.datetime(year, 3 * quarter - 2, 2, 9)
            wave.closed_at = wave.opened_at + dt.timedelta(days=40)
            waves.append((wave.id, wave.instrument_version_id))
        db.session.commit()
        engine = db.engine
        dialect = engine.dialect.name
        raw = engine.raw_connection()
        total_answers = 0
        if dialect == "sqlite":
            raw.cursor().execute("PRAGMA cache_size=-1000000")  # 1 GB while loading
        try:
            for t, (wave_id, version_id) in enumerate(waves):
                data = _wave_answers(rng, per_wave, t)
                ids = _uuid_bytes(rng, per_wave)
                if dialect == "sqlite":
                    total_answers += _insert_sqlite(raw, wave_id, version_id, area_ids, ids, data)
                else:
                    total_answers += _copy_postgres(raw, wave_id, version_id, area_ids, ids, data)
            raw.commit()
            cursor = raw.cursor()
            cursor.execute("ANALYZE")
            raw.commit()
        finally:
            raw.close()
        return per_wave * N_WAVES, total_answers


def _insert_sqlite(raw, wave_id, version_id, area_ids, ids, data) -> int:  # type: ignore[no-untyped-def]
    # Insert in key order: random keys into a B-tree otherwise cost a page split each.
    order = np.lexsort(ids.T[::-1])
    ids = ids[order]
    data = {k: v[order] for k, v in data.items()}
    hexes = [bytes(row).hex() for row in ids]
    sides = np.where(data["side"] == 1, "supplier", "client").tolist()
    areas = [area_ids[a] if a >= 0 else None for a in data["area"].tolist()]
    cursor = raw.cursor()
    # The app's connections leave transactions to SQLAlchemy (pysqlite autocommit): without
    # an explicit transaction every row would be committed on its own.
    cursor.execute("BEGIN")
    cursor.executemany(
        "INSERT INTO responses (id, wave_id, instrument_version_id, side, service_area_id,"
        " role_level) VALUES (?, ?, ?, ?, ?, ?)",
        zip(hexes, [wave_id] * len(hexes), [version_id] * len(hexes), sides, areas,
            ["staff"] * len(hexes), strict=True),
    )  # fmt: skip
    keep = ~data["skipped"]
    rows, items = np.nonzero(keep)
    values = np.where(data["dont_know"], -1, data["value"])[rows, items]
    value_list = [None if v < 0 else v for v in values.tolist()]
    cursor.executemany(
        "INSERT INTO answers (response_id, item_no, value) VALUES (?, ?, ?)",
        zip([hexes[r] for r in rows.tolist()], items.tolist(), value_list, strict=True),
    )
    cursor.execute("COMMIT")
    return int(rows.size)


def _copy_postgres(raw, wave_id, version_id, area_ids, ids, data) -> int:  # type: ignore[no-untyped-def]
    """Binary COPY built with NumPy: fixed-width records, so no Python loop per row."""
    header = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
    trailer = (-1).to_bytes(2, "big", signed=True)
    area = data["area"]
    with_area = area >= 0
    driver = raw.driver_connection
    with driver.cursor() as cursor:
        for side_code, side_name in ((0, b"client"), (1, b"supplier")):
            for has_area in (True, False):  # fixed-width records: one COPY per shape
                pick = np.flatnonzero((with_area == has_area) & (data["side"] == side_code))
                fields = [("nf", ">i2"), ("l_id", ">i4"), ("id", "V16"), ("l_w", ">i4"),
                          ("w", ">i4"), ("l_v", ">i4"), ("v", ">i4"), ("l_s", ">i4"),
                          ("s", f"S{len(side_name)}")]  # fmt: skip
                if has_area:
                    fields += [("l_a", ">i4"), ("a", ">i4")]
                rec = np.zeros(pick.size, dtype=fields)
                rec["nf"] = 4 + has_area
                rec["l_id"], rec["id"] = 16, ids[pick].view("V16")[:, 0]
                rec["l_w"], rec["w"] = 4, wave_id
                rec["l_v"], rec["v"] = 4, version_id
                rec["l_s"], rec["s"] = len(side_name), side_name
                if has_area:
                    rec["l_a"], rec["a"] = 4, np.asarray(area_ids)[area[pick]]
                columns = "id, wave_id, instrument_version_id, side" + (
                    ", service_area_id" if has_area else ""
                )
                with cursor.copy(
                    f"COPY responses ({columns}) FROM STDIN WITH (FORMAT binary)"
                ) as copy:
                    copy.write(header + rec.tobytes() + trailer)
        keep = ~data["skipped"]
        total = 0
        for dont_know in (False, True):
            rows, items = np.nonzero(keep & (data["dont_know"] == dont_know))
            fields = [("nf", ">i2"), ("l_id", ">i4"), ("id", "V16"), ("l_i", ">i4"), ("i", ">i2"),
                      ("l_v", ">i4")]  # fmt: skip
            if not dont_know:
                fields.append(("v", ">i2"))
            rec = np.zeros(rows.size, dtype=fields)
            rec["nf"] = 3
            rec["l_id"], rec["id"] = 16, ids[rows].view("V16")[:, 0]
            rec["l_i"], rec["i"] = 2, items
            if dont_know:
                rec["l_v"] = -1
            else:
                rec["l_v"], rec["v"] = 2, data["value"][rows, items]
            with cursor.copy(
                "COPY answers (response_id, item_no, value) FROM STDIN WITH (FORMAT binary)"
            ) as copy:
                copy.write(header + rec.tobytes() + trailer)
            total += rows.size
    return int(total)


# ============================================================================ measurements


def _peak_mb() -> float:
    """Peak resident memory of this process in MB.

    Linux's ``VmHWM`` is the high-water mark of this process's own address space, so it
    starts afresh in each measurement subprocess (``ru_maxrss`` would carry over the
    parent's size across ``exec``); elsewhere ``ru_maxrss``.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    scale = 1024.0 if sys.platform != "darwin" else 1024.0 * 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def _make_app(url: str, instruments: str, instance: str) -> Any:
    os.environ["RELHEALTH_INSTANCE_PATH"] = instance
    from survey_app import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "benchmark-only",
            "INSTRUMENTS_DIR": instruments,
            "SQLITE_BUSY_TIMEOUT_MS": 600_000,
        }
    )


def measure_recompute(app: Any) -> dict[str, Any]:
    """Full recompute (read, compute, persist), as ``relhealth recompute`` does it."""
    from survey_app.extensions import db
    from survey_app.services.relationships import get_relationship
    from survey_app.services.results import recompute

    with app.app_context():
        rel = get_relationship(RELATIONSHIP)
        began, cpu = time.perf_counter(), time.process_time()
        summary = recompute(rel)
        db.session.commit()
        seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    return {
        "recompute_s": seconds,
        "recompute_cpu_s": cpu,
        "waves": len(summary.waves),
        "peak_mb": _peak_mb(),
    }


def measure_floor(app: Any) -> dict[str, Any]:
    """The same answers, read with the bare driver into NumPy: the loader's two statements
    for every wave, executed on a DBAPI connection of its own and fetched in batches into
    integer arrays (no unpacking, no grid). It reads as the loader reads — batches of
    ``loading.fetch_batch_rows`` rows, the cyclic collector paused (``loading.collector_paused``),
    the heap kept as a rebuild keeps it (``loading.steady_heap``) — so that the floor stays
    the cheapest plain read, never a slower one than the service's."""
    from itertools import chain

    from survey_app.extensions import db
    from survey_app.services.relationships import get_relationship
    from survey_app.services.results import answer_statements, closed_waves
    from survey_app.services.results.loading import (
        collector_paused,
        fetch_batch_rows,
        steady_heap,
    )

    with app.app_context():
        rel = get_relationship(RELATIONSHIP)
        wave_ids = [w.id for w in closed_waves(rel)]
        dialect = db.engine.dialect
        batch = fetch_batch_rows(dialect.name)
        url = db.engine.url
        compiled = []
        for width, statement in zip((5, 1), answer_statements(wave_ids), strict=True):
            c = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
            params = c.params
            if c.positional:
                params = tuple(params[name] for name in c.positiontup or ())
            compiled.append((str(c), params, width))
        db.engine.dispose()
    if url.get_backend_name() == "sqlite":
        import sqlite3

        connection = sqlite3.connect(url.database)
    else:
        import psycopg

        connection = psycopg.connect(url.set(drivername="postgresql").render_as_string(False))
    steady_heap()  # as a rebuild reads
    began, cpu = time.perf_counter(), time.process_time()
    n_answers = 0
    with collector_paused():  # as the loader reads
        for i, (sql, params, width) in enumerate(compiled):
            cursor = (
                connection.cursor(name=f"floor{i}")
                if hasattr(connection, "pgconn")
                else connection.cursor()
            )
            cursor.execute(sql, params)
            parts = []
            while rows := cursor.fetchmany(batch):
                parts.append(np.fromiter(chain.from_iterable(rows), np.int64, len(rows) * width))
            cursor.close()
            arr = np.concatenate(parts) if parts else np.zeros(0, np.int64)
            if width == 1:
                n_answers += arr.size
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    connection.close()
    return {
        "floor_s": seconds,
        "floor_cpu_s": cpu,
        "floor_answers": n_answers,
        "floor_peak_mb": _peak_mb(),
    }


def _answers(app: Any):
    """Every wave's answers in memory, as the service's arrays."""
    from survey_app.services.relationships import get_relationship
    from survey_app.services.results import closed_waves, load_answer_grid

    rel = get_relationship(RELATIONSHIP)
    waves = closed_waves(rel)
    grid = load_answer_grid(waves)
    return rel, waves, {wave.id: grid.wave(wave) for wave in waves}


class _Clock:
    """Wall-clock and CPU seconds (this process, every thread) of the blocks it times.

    Each block runs as the service's rebuild runs its computation (``store.py``): the cyclic
    collector paused (``loading.collector_paused``) — the baseline's blocks as well as the
    service's, so that neither side gains from it.
    """

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    def time(self, name: str, run: Any) -> Any:
        from survey_app.services.results.loading import collector_paused

        wall, cpu = time.perf_counter(), time.process_time()
        with collector_paused():
            out = run()
        self.wall[name] = time.perf_counter() - wall
        self.cpu[name] = time.process_time() - cpu
        return out


def _ours(rel: Any, waves: Sequence[Any], answers: dict[int, Any], k: int):
    """The service's computation: the tables its baseline also computes, then statuses, each
    timed (wall and CPU); the deeper tables (issue 16: relative weights, heat-map tests,
    margins), which the baseline does not compute, are timed apart (:func:`_deeper`)."""
    from survey_app.services.results import add_statuses, compute_tables

    clock = _Clock()
    results = clock.time(
        "tables",
        lambda: compute_tables(
            rel, waves, min_cell_size=k, answers_of=lambda w: answers[w.id], deeper=False
        ),
    )
    clock.time("status", lambda: add_statuses(results))
    _deeper(clock, rel, waves, answers)
    return results, clock


def _deeper(clock: _Clock, rel: Any, waves: Sequence[Any], answers: dict[int, Any]) -> None:
    """Time the deeper tables of every wave as the recompute makes them (scoring each wave
    first, untimed), summed into ``clock``'s ``deeper`` entry."""
    from survey_app.services.results.deeper import deeper_tables
    from survey_app.services.results.layout import Layout, score_wave
    from survey_app.services.results.loading import invited_per_cell

    layout = Layout.of(rel)
    clock.wall["deeper"] = clock.cpu["deeper"] = 0.0
    for wave in waves:
        scored = score_wave(answers[wave.id], layout, wave.label)
        invited = invited_per_cell(wave, layout.n_areas, scored.answers.area_ids)
        step = _Clock()
        step.time("deeper", lambda: deeper_tables(scored, invited))  # noqa: B023 - run at once
        clock.wall["deeper"] += step.wall["deeper"]
        clock.cpu["deeper"] += step.cpu["deeper"]


def _frames(rel: Any, waves: Sequence[Any], answers: dict[int, Any], spec: Spec):
    area_keys = [a.key for a in rel.service_areas]
    frames = []
    for wave in waves:
        a = answers[wave.id]
        side = np.where(a.side == 1, "supplier", "client")
        area = [area_keys[i] if i >= 0 else None for i in a.area.tolist()]
        frames.append(reference_frame(a.x, a.dont_know, side, area, spec))
    return frames


def measure_compute(app: Any, *, baseline: bool = True) -> dict[str, Any]:
    """The computation alone, the service's way (before and after the baseline) and the
    straightforward way, each with its tables and statuses timed apart (wall-clock and CPU
    seconds); their differences."""
    from survey_app.services.results.loading import steady_heap

    out: dict[str, Any] = {}
    steady_heap()  # the heap kept as a rebuild keeps it, for both computations
    with app.app_context():
        rel, waves, answers = _answers(app)
        k = app.config["MIN_CELL_SIZE"]
        ours, clock = _ours(rel, waves, answers, k)
        out["compute_peak_mb"] = _peak_mb()
        runs = [clock]
        if baseline:
            spec = Spec.of(answers[waves[0].id].instrument)
            frames = _frames(rel, waves, answers, spec)
            answers.clear()
            base = _Clock()
            areas = [a.key for a in rel.service_areas]
            history = base.time(
                "tables", lambda: reference_tables_history(frames, spec, k, areas=areas)
            )
            frames.clear()
            labels = [w.label for w in waves]
            statuses = base.time("status", lambda: reference_statuses(history, spec, labels, k))
            for part in ("tables", "status"):
                out[f"baseline_{part}_s"] = base.wall[part]
                out[f"baseline_{part}_cpu_s"] = base.cpu[part]
            out["baseline_peak_mb"] = _peak_mb()
            out.update(compare_history(ours, history["tables"], statuses))
            del history
            rel, waves, answers = _answers(app)
            runs.append(_ours(rel, waves, answers, k)[1])
        out["compute_runs"] = [
            [round(c.wall["tables"], 3), round(c.wall["status"], 3)] for c in runs
        ]
        for part in ("tables", "status", "deeper"):
            out[f"compute_{part}_s"] = float(np.mean([c.wall[part] for c in runs]))
            out[f"compute_{part}_cpu_s"] = float(np.mean([c.cpu[part] for c in runs]))
    return out


def _subprocess(
    measure: str, url: str, instruments: str, instance: str, extra: Sequence[str] = ()
) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--measure", measure, "--url", url,
           "--instruments", instruments, "--instance", instance, *extra]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"measurement {measure} failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _machine() -> dict[str, Any]:
    import scipy

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "pandas": pd.__version__,
        "cpus": os.cpu_count(),
        "load_avg_1m_end": round(os.getloadavg()[0], 2),
        "date": time.strftime("%Y-%m-%d"),
    }


def _measure_all(ctx: tuple[str, str, str], *, no_baseline: bool) -> dict[str, Any]:
    """Floor, recompute, floor again (their ratio from one run, the floor averaged around
    the recompute), then the computation and its baseline; figures rounded for the JSON.

    An unmeasured read comes first, so that every measured read finds the database's and
    the system's caches as warm as the others do (a cold first floor would flatter the
    recompute's ratio).
    """
    load_start = round(os.getloadavg()[0], 2)
    warm = _subprocess("floor", *ctx)
    print(f"warm-up read: {warm['floor_s']:.1f} s (not counted)", flush=True)
    floors = [_subprocess("floor", *ctx)]
    print(f"floor: {floors[0]['floor_s']:.1f} s", flush=True)
    recompute = _subprocess("recompute", *ctx)
    print(
        f"recompute: {recompute['recompute_s']:.1f} s ({recompute['recompute_cpu_s']:.1f} s CPU), "
        f"peak {recompute['peak_mb']:.0f} MB",
        flush=True,
    )
    floors.append(_subprocess("floor", *ctx))
    print(f"floor again: {floors[1]['floor_s']:.1f} s", flush=True)
    floor_s = float(np.mean([f["floor_s"] for f in floors]))
    compute = _subprocess("compute", *ctx, ["--no-baseline"] if no_baseline else [])
    ours = compute["compute_tables_s"] + compute["compute_status_s"]
    base_tables = compute.get("baseline_tables_s", math.nan)
    base_status = compute.get("baseline_status_s", math.nan)
    print(
        f"compute: {ours:.1f} s (tables {compute['compute_tables_s']:.1f} s, statuses "
        f"{compute['compute_status_s']:.1f} s); baseline: {base_tables + base_status:.1f} s "
        f"(tables {base_tables:.1f} s, statuses {base_status:.1f} s); deeper tables apart: "
        f"{compute['compute_deeper_s']:.1f} s",
        flush=True,
    )
    return {
        "recompute_s": round(recompute["recompute_s"], 3),
        "floor_s": round(floor_s, 3),
        "floor_runs_s": [round(f["floor_s"], 3) for f in floors],
        "floor_ratio": round(recompute["recompute_s"] / floor_s, 3),
        **_cpu_ratio(recompute, floors),
        "compute_s": round(ours, 3),
        "compute_tables_s": round(compute["compute_tables_s"], 3),
        "compute_status_s": round(compute["compute_status_s"], 3),
        "compute_deeper_s": round(compute["compute_deeper_s"], 3),
        "compute_runs_s": compute["compute_runs"],
        "baseline_compute_s": round(base_tables + base_status, 3),
        "baseline_tables_s": round(base_tables, 3),
        "baseline_status_s": round(base_status, 3),
        "speedup_vs_baseline": round((base_tables + base_status) / ours, 2),
        "speedup_without_status": round(base_tables / compute["compute_tables_s"], 2),
        **_cpu_figures(compute),
        "peak_mb": round(recompute["peak_mb"], 1),
        "floor_peak_mb": round(max(f["floor_peak_mb"] for f in floors), 1),
        "compute_peak_mb": round(compute["compute_peak_mb"], 1),
        "baseline_peak_mb": round(compute.get("baseline_peak_mb", math.nan), 1),
        "max_abs_diff": compute.get("max_abs_diff"),
        "blank_mismatches": compute.get("blank_mismatches"),
        "values_compared": compute.get("values_compared"),
        "status_differs": compute.get("status_differs"),
        "load_avg_1m_start": load_start,
        **_machine(),
    }


def _cpu_ratio(recompute: dict[str, Any], floors: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The recompute against the floor in CPU seconds of their own processes. On SQLite the
    database engine runs in the process, so both count all their work; on a loaded machine
    these move far less than wall-clock times (on PostgreSQL the server's work is missing)."""
    floor_cpu = float(np.mean([f["floor_cpu_s"] for f in floors]))
    return {
        "recompute_cpu_s": round(recompute["recompute_cpu_s"], 3),
        "floor_cpu_s": round(floor_cpu, 3),
        "floor_ratio_cpu": round(recompute["recompute_cpu_s"] / floor_cpu, 3),
    }


def _cpu_figures(compute: dict[str, Any]) -> dict[str, Any]:
    """The same comparison in CPU seconds: both computations are single-process and
    CPU-bound, so on a shared machine their CPU times move less with other work than their
    wall-clock times do."""
    ours = compute["compute_tables_cpu_s"] + compute["compute_status_cpu_s"]
    base_tables = compute.get("baseline_tables_cpu_s", math.nan)
    base = base_tables + compute.get("baseline_status_cpu_s", math.nan)
    return {
        "compute_cpu_s": round(ours, 3),
        "compute_tables_cpu_s": round(compute["compute_tables_cpu_s"], 3),
        "compute_deeper_cpu_s": round(compute["compute_deeper_cpu_s"], 3),
        "baseline_cpu_s": round(base, 3),
        "baseline_tables_cpu_s": round(base_tables, 3),
        "speedup_cpu": round(base / ours, 2),
        "speedup_cpu_without_status": round(base_tables / compute["compute_tables_cpu_s"], 2),
    }


def _json_number(value: Any) -> Any:
    """NaN (a measurement not made) as null: the last line must be valid JSON."""
    return None if isinstance(value, float) and math.isnan(value) else value


def _arguments(argv: Sequence[str] | None) -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scale",
        type=float,
        help="history size (1.0 = 1,000,000 responses, the default); a --reuse run reports "
        "its kept history's own size",
    )
    parser.add_argument("--path", help="SQLite file to write (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--no-baseline", action="store_true", help="skip the straightforward baseline"
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure a history written before (--keep): the SQLite file at --path, or the "
        "database DATABASE_URL names; nothing is generated or dropped",
    )
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--instruments", help=argparse.SUPPRESS)
    parser.add_argument("--instance", help=argparse.SUPPRESS)
    return parser, parser.parse_args(argv)


def _database(parser: argparse.ArgumentParser, args: argparse.Namespace, work: Path):
    """The database to measure: ``(url, scratch database or None, admin DSN or None)``."""
    server = os.environ.get("DATABASE_URL", "").strip()
    postgres = server.startswith(("postgres://", "postgresql"))
    if args.reuse and postgres:
        from survey_app.config import normalise_database_url

        return normalise_database_url(server), None, None
    if args.reuse:
        if not args.path or not Path(args.path).exists():
            parser.error("--reuse needs --path of an existing SQLite file (or DATABASE_URL)")
        return f"sqlite:///{Path(args.path).resolve()}", None, None
    if postgres:
        import psycopg
        from sqlalchemy.engine import make_url

        from survey_app.config import normalise_database_url

        admin = make_url(normalise_database_url(server))
        scratch = f"relhealth_bench_{os.urandom(4).hex()}"
        admin_dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{scratch}"')
        return admin.set(database=scratch).render_as_string(hide_password=False), scratch, admin_dsn
    db_path = Path(args.path) if args.path else work / "benchmark.sqlite3"
    if db_path.exists():
        parser.error(f"{db_path} exists; give a new --path")
    return f"sqlite:///{db_path}", None, None


def _history(app: Any, args: argparse.Namespace) -> tuple[int, int, float]:
    """Write the history (or count a reused one): responses, answers and seconds taken."""
    from survey_app.extensions import db

    began = time.perf_counter()
    if args.reuse:
        responses, answers = _history_size(app)
    else:
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            db.engine.dispose()
        responses, answers = generate_history(app, args.scale)
    with app.app_context():
        db.engine.dispose()
    return responses, answers, time.perf_counter() - began


def main(argv: Sequence[str] | None = None) -> None:
    import logging

    parser, args = _arguments(argv)
    logging.disable(logging.WARNING)
    if args.measure:  # a child process: one measurement, JSON on the last line
        app = _make_app(args.url, args.instruments, args.instance)
        result = {
            "recompute": lambda: measure_recompute(app),
            "floor": lambda: measure_floor(app),
            "compute": lambda: measure_compute(app, baseline=not args.no_baseline),
        }[args.measure]()
        print(json.dumps(result))
        return

    if args.reuse and args.scale is not None:
        parser.error("--reuse measures the kept history as it is: its size is not chosen")
    if args.scale is None and not args.reuse:
        args.scale = 1.0
    if args.scale is not None and not 0 < args.scale <= 1.0:
        parser.error("--scale must be in (0, 1]")
    work = Path(tempfile.mkdtemp(prefix="relhealth-bench-"))
    instruments = work / "instruments"
    (instruments / "benchmark").mkdir(parents=True)
    (instruments / "benchmark" / "v1.yaml").write_text(benchmark_instrument_yaml())
    url, scratch, admin_dsn = _database(parser, args, work)
    try:
        app = _make_app(url, str(instruments), str(work / "instance"))
        responses, answers, generate_s = _history(app, args)
        print(
            f"history: {responses:,} responses, {answers:,} answers in {generate_s:.1f} s",
            flush=True,
        )
        ctx = (url, str(instruments), str(work / "instance"))
        figures = {
            "database": "postgresql" if url.startswith("postgresql") else "sqlite",
            "scale": args.scale if args.scale is not None else history_scale(responses),
            "responses": responses,
            "answers": answers,
            "waves": N_WAVES,
            "items": N_DIMENSIONS * ITEMS_PER_DIMENSION,
            "generate_s": round(generate_s, 2),
            **_measure_all(ctx, no_baseline=args.no_baseline),
        }
        print(json.dumps({k: _json_number(v) for k, v in figures.items()}, allow_nan=False))
    finally:
        if scratch is not None and not args.keep:
            import psycopg

            with psycopg.connect(admin_dsn, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
