"""Error rates of the service's statuses and alerts, end to end (issue 12 part 2).

Usage::

    .venv/bin/python benchmarks/alerts.py [--histories N] [--seed S] [--quick]

Simulated relationships with a known truth go through the service as a council's would:
responses stored in the database (a temporary SQLite file), each of 12 waves closed,
``results.recompute`` (every wave's tables and the calibrated statuses of DESIGN §4.12 as of
it), then the published ``scores`` rows read back and the alerts of the latest wave from
``services.alerts``. One relationship, 2 sides × 5 service areas, each cell with its own size
drawn from 25–60 responses (±15% a wave), the 9 dimensions of the partnership-health
instrument; a respondent answers ``rint(level + a + b_d + e)`` clipped to 1–5 (person effect
``a ~ N(0, 0.35²)``, person × dimension ``b_d ~ N(0, 0.3²)``, item error ``e ~ N(0, 0.7²)``:
a dimension score's SD is about 0.6), reverse-keyed items stored reversed.

Scenarios (as ``benchmarks/alerts_core.py``): ``flat`` (sampling noise only), ``shocks``
(plus a shock of SD 0.05 to every cell, dimension and wave), ``decline`` (one side's
dimension falls 0.12 scale points a wave in every area from an onset at wave 5–9) and
``area decline`` (one area's dimension, both sides).

Printed: false alarms (*deteriorating* or *improving* on a series whose true mean never
moves) as a share of published series-waves and of series ever flagged; alerts of the latest
wave that are false; the share of planted series caught (*deteriorating*) within 2 and 4
waves of onset for side totals, cells of at least 60 and smaller cells. The old rules
(:func:`benchmarks.old_rules.classify`, the service's statuses before issue 12) judge the same
stored series in the same run. The last line is one JSON object.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__":  # run as a script: its folder would shadow the `analysis` package
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections import defaultdict  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import datetime  # noqa: E402

import numpy as np  # noqa: E402

# The scenarios' sizes, as the core benchmark's: a decline a wave, a shock's SD, the onsets.
from benchmarks.alerts_core import DECLINE, ONSETS, SHOCK_SD  # noqa: E402

SIDES = ("client", "supplier")
AREAS = ("Core ICT", "Adult social care", "Revenues", "Contact centre", "New projects")
N_WAVES = 12
TARGETS = {"false_alarm_series_waves": 0.05, "caught_within_4": 0.95}


@dataclass(frozen=True)
class Scenario:
    name: str
    shocks: bool = False
    planted: str = "none"  # "none", "side" or "area"


SCENARIOS = (
    Scenario("flat"),
    Scenario("shocks", shocks=True),
    Scenario("decline", planted="side"),
    Scenario("area decline", planted="area"),
)


@dataclass
class Truth:
    onset: int | None = None
    side: str | None = None
    area: str | None = None  # an area key
    dimension: str | None = None

    def touched(self, side: str, area: str, key: str) -> bool:
        """Whether the planted fall moves this series at all (the index counts it too)."""
        if self.onset is None or key not in (self.dimension, "index"):
            return False
        if self.side is not None:
            return side in (self.side, "all")
        return area in (self.area, "_all")

    def planted(self, side: str, area: str, key: str) -> bool:
        """Whether this series falls the full 0.12 a wave."""
        if self.onset is None or key != self.dimension:
            return False
        if self.side is not None:
            return side == self.side
        return area == self.area


def _app(path: str):
    from survey_app import create_app

    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
        "SECRET_KEY": "benchmark-" + "x" * 32,
        "PUBLIC_BASE_URL": "http://benchmark.test",
    }
    return create_app(config)


def build_history(name: str, scenario: Scenario, rng: np.random.Generator):
    """One simulated relationship stored through the service, its waves closed and its
    results computed; returns it with what was planted."""
    from survey_app.extensions import db
    from survey_app.models import Answer, Response
    from survey_app.services.instruments import frozen_instrument
    from survey_app.services.relationships import create_relationship
    from survey_app.services.results import recompute
    from survey_app.services.waves import create_wave

    rel = create_relationship(name, client="Council", supplier="Supplier", service_areas=AREAS)
    area_rows = list(rel.service_areas)
    truth = Truth()
    if scenario.planted != "none":
        truth.onset = int(rng.choice(ONSETS))
        truth.dimension = None  # set from the instrument below
        if scenario.planted == "side":
            truth.side = str(rng.choice(SIDES))
        else:
            truth.area = area_rows[int(rng.integers(len(area_rows)))].key
    size = rng.integers(25, 61, size=(2, len(AREAS)))
    level = None
    for t in range(N_WAVES):
        wave = create_wave(rel, f"2030-W{t + 1:02d}", actor="benchmark")
        inst = frozen_instrument(wave.instrument_version)
        keys = [d.key for d in inst.dimensions]
        if level is None:
            level = rng.uniform(3.2, 3.9, size=(2, len(AREAS), len(keys)))
            if truth.onset is not None:
                truth.dimension = keys[int(rng.integers(len(keys)))]
        dim_of = np.array([keys.index(item.dimension) for item in inst.items])
        reverse = np.array([item.reverse for item in inst.items])
        mu = level.copy()
        if scenario.shocks:
            mu += rng.normal(0.0, SHOCK_SD, size=mu.shape)
        if truth.onset is not None and t >= truth.onset:
            d = keys.index(truth.dimension)
            fall = DECLINE * (t - truth.onset + 1)
            for s, side in enumerate(SIDES):
                for a, area in enumerate(area_rows):
                    if truth.planted(side, area.key, truth.dimension):
                        mu[s, a, d] -= fall
        responses, answers = [], []
        for s, side in enumerate(SIDES):
            for a, area in enumerate(area_rows):
                n = max(2, int(round(size[s, a] * rng.uniform(0.85, 1.15))))
                latent = (
                    mu[s, a][dim_of][None, :]
                    + rng.normal(0, 0.35, size=(n, 1))
                    + rng.normal(0, 0.3, size=(n, len(keys)))[:, dim_of]
                    + rng.normal(0, 0.7, size=(n, dim_of.size))
                )
                values = np.clip(np.rint(latent), 1, 5).astype(int)
                values = np.where(reverse, 6 - values, values)
                for i in range(n):
                    rid = uuid.UUID(bytes=rng.bytes(16), version=4)
                    responses.append(
                        {"id": rid, "wave_id": wave.id, "side": side, "role_level": None,
                         "instrument_version_id": wave.instrument_version_id,
                         "service_area_id": area.id}
                    )  # fmt: skip
                    answers.extend(
                        {"response_id": rid, "item_no": j, "value": int(v)}
                        for j, v in enumerate(values[i])
                    )
        _insert(Response.__table__, responses)
        _insert(Answer.__table__, answers)
        wave.state = "closed"
        wave.opened_at = wave.closed_at = datetime(2030, 1, 1)
    db.session.flush()
    recompute(rel)
    db.session.commit()
    return rel, truth


def _insert(table, rows: list[dict]) -> None:
    """Rows into ``table`` in the session's transaction (on PostgreSQL one COPY: an executemany
    there is a statement per row for the server, and the 400,000 answers of two histories took
    minutes of its time on a loaded machine)."""
    from survey_app.database import insert_rows
    from survey_app.extensions import db

    db.session.flush()  # as session.execute would before the statement
    insert_rows(db.session.connection(), table, rows)


def _series(rel):
    """Published scores of every closed wave: {(side, area, key): [row per wave]}."""
    from survey_app.services.results import SUPPRESSED, closed_waves, published_rows

    waves = closed_waves(rel)
    out: dict[tuple[str, str, str], list] = defaultdict(lambda: [None] * len(waves))
    for t, wave in enumerate(waves):
        for r in published_rows("scores", rel, [wave]):
            if r[SUPPRESSED] is None and r["mean"] is not None:
                out[r["side"], r["area"], r["dimension"]][t] = r
    return waves, out


def old_statuses(rows: list) -> list[str | None]:
    """The old rules on one stored series, as the service applied them before issue 12."""
    from benchmarks.old_rules import classify

    means = np.array([math.nan if r is None else r["mean"] for r in rows])
    labels = [f"w{t}" for t in range(len(rows))]
    out: list[str | None] = []
    for t, r in enumerate(rows):
        if r is None:
            out.append(None)
            continue
        change = None
        if r.get("change") is not None and r.get("change_p_adjusted") is not None:
            change = {"difference": r["change"], "p_adjusted": r["change_p_adjusted"]}
        result = classify(
            means[: t + 1], labels[: t + 1], points=5, latest_change=change, band=r["band"]
        )
        out.append(result.status)
    return out


@dataclass
class Tally:
    null_waves: int = 0
    null_alarms: int = 0
    null_series: int = 0
    null_ever: int = 0
    old_waves: int = 0
    old_alarms: int = 0
    old_series: int = 0
    old_ever: int = 0
    alerts: int = 0
    false_alerts: int = 0
    caught: dict = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0]))  # n, ≤2, ≤4

    def add(self, rel, truth: Truth, *, old: bool) -> None:
        from survey_app.services.alerts import relationship_alerts

        _, series = _series(rel)
        flags = ("deteriorating", "improving")
        for (side, area, key), rows in series.items():
            status = [None if r is None else r["status"] for r in rows]
            if truth.planted(side, area, key):
                at = rows[truth.onset]
                if at is None:
                    continue
                group = (
                    "side totals" if area == "_all" else
                    "cells >= 60" if at["n"] >= 60 else "cells < 60"
                )  # fmt: skip
                hits = [s == "deteriorating" for s in status[truth.onset :]]
                c = self.caught[group]
                c[0] += 1
                c[1] += any(hits[:2])
                c[2] += any(hits[:4])
            elif not truth.touched(side, area, key):
                shown = [s for s in status if s is not None]
                alarms = sum(s in flags for s in shown)
                self.null_waves += len(shown)
                self.null_alarms += alarms
                self.null_series += 1
                self.null_ever += alarms > 0
                if old:
                    old_s = [s for s in old_statuses(rows) if s is not None]
                    o = sum(s in flags for s in old_s)
                    self.old_waves += len(old_s)
                    self.old_series += 1
                    self.old_alarms += o
                    self.old_ever += o > 0
        for a in relationship_alerts(rel):
            if a.kind != "deteriorating":
                continue
            self.alerts += 1
            self.false_alerts += not truth.touched(a.side, a.area, a.dimension)

    def figures(self, old_histories: int) -> dict:
        def share(a, b):
            return round(a / b, 5) if b else None

        out = {
            "false_alarm_series_waves": share(self.null_alarms, self.null_waves),
            "series_ever_flagged": share(self.null_ever, self.null_series),
            "latest_alerts": self.alerts,
            "latest_false_alerts": self.false_alerts,
            "caught": {
                g: {"planted": c[0], "within_2": share(c[1], c[0]), "within_4": share(c[2], c[0])}
                for g, c in sorted(self.caught.items())
            },
        }
        if old_histories:
            out["old_false_alarm_series_waves"] = share(self.old_alarms, self.old_waves)
            out["old_series_ever_flagged"] = share(self.old_ever, self.old_series)
        return out


def run(n_histories: int, n_old: int, seed: int) -> dict:
    from survey_app.extensions import db

    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        app = _app(str(Path(tmp) / "alerts.db"))
        with app.app_context():
            db.create_all()
            for s, scenario in enumerate(SCENARIOS):
                rng = np.random.default_rng([seed, s])
                tally = Tally()
                start = time.perf_counter()
                for h in range(n_histories):
                    rel, truth = build_history(f"{scenario.name} {h}", scenario, rng)
                    tally.add(rel, truth, old=scenario.planted == "none" and h < n_old)
                    db.session.expunge_all()
                old_n = min(n_old, n_histories) if scenario.planted == "none" else 0
                results[scenario.name] = tally.figures(old_n)
                results[scenario.name]["seconds"] = round(time.perf_counter() - start, 1)
                print(_report(scenario.name, results[scenario.name]), flush=True)
    return results


def _report(name: str, f: dict) -> str:
    line = (
        f"{name:<14} false alarms {_pct(f['false_alarm_series_waves'])} of series-waves, "
        f"{_pct(f['series_ever_flagged'])} of series ever; latest-wave alerts {f['latest_alerts']}"
        f" ({f['latest_false_alerts']} false)"
    )
    if "old_false_alarm_series_waves" in f:
        line += (
            f"; old rules {_pct(f['old_false_alarm_series_waves'])} / "
            f"{_pct(f['old_series_ever_flagged'])}"
        )
    for g, c in f["caught"].items():
        line += (
            f"\n{'':<14} {g}: caught within 2 waves {_pct(c['within_2'])}, within 4 "
            f"{_pct(c['within_4'])} ({c['planted']} planted)"
        )
    return line


def _pct(x) -> str:
    return "—" if x is None else f"{100 * x:.2f}%"


def _targets(results: dict) -> dict:
    fa = all(
        results[s]["false_alarm_series_waves"] <= TARGETS["false_alarm_series_waves"]
        for s in ("flat", "shocks")
        if s in results
    )
    caught = all(
        c["within_4"] is not None and c["within_4"] >= TARGETS["caught_within_4"]
        for s in ("decline", "area decline")
        if s in results
        for g, c in results[s]["caught"].items()
        if g in ("side totals", "cells >= 60")
    )
    return {"false_alarms": fa, "caught_within_4": caught}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--histories", type=int, default=40)
    parser.add_argument("--old-histories", type=int, default=10)
    parser.add_argument("--seed", type=int, default=20261203)
    parser.add_argument("--quick", action="store_true", help="5 histories per scenario")
    args = parser.parse_args(argv)
    n = 5 if args.quick else args.histories
    start = time.perf_counter()
    results = run(n, min(args.old_histories, n), args.seed)
    targets = _targets(results)
    out = {
        "benchmark": "alerts",
        "histories": n,
        "seed": args.seed,
        "scenarios": results,
        "targets_met": targets,
        "seconds": round(time.perf_counter() - start, 1),
        "machine": f"{platform.machine()} {platform.python_version()}",
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
