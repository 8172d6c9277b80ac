"""Benchmark of the relative-weight drivers: batched bootstrap against a loop per resample.

Usage::

    .venv/bin/python benchmarks/drivers.py [--responses N] [--resamples B]

One wave of ``N`` (25,000) responses with 9 dimension scores driving a commitment outcome is
split into the groups the service reports — 2 sides × 5 service areas, the 2 side totals and
the relationship — and :func:`analysis.drivers.relative_weights` is timed with ``B`` (1,000)
bootstrap resamples per group, one call per level of grouping (groups of 1,000 or more, here
all of them at the default size, draw ``min(B, 200)`` normal-law moment vectors for their
standard-error intervals instead). The baseline is the
straightforward bootstrap: for each group and each resample, draw the rows, take
``numpy.corrcoef`` and compute Johnson's weights with one ``numpy.linalg.eigh`` (timed on a
tenth of the resamples and scaled up). Both compute the same point estimates, compared to
1e-9. The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__":  # run as a script: its folder would shadow the `analysis` package
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from analysis.drivers import relative_weights  # noqa: E402


def wave(n, rng):
    side = rng.integers(0, 2, n)
    area = rng.integers(0, 5, n)
    shared = rng.normal(size=(n, 1))
    dims = 3.4 + 0.7 * shared + rng.normal(scale=0.6, size=(n, 9)) + 0.1 * side[:, None]
    commitment = dims[:, :3] @ np.array([0.5, 0.3, 0.15]) + rng.normal(0, 0.6, n)
    dims[rng.random(dims.shape) < 0.03] = np.nan
    return dims, commitment, side, area


def johnson(data):
    corr = np.corrcoef(data, rowvar=False)
    values, vectors = np.linalg.eigh(corr[:-1, :-1])
    lam = vectors @ np.diag(np.sqrt(values)) @ vectors.T
    beta = np.linalg.solve(lam, corr[:-1, -1])
    return (lam**2) @ beta**2


def baseline(groups, n_resamples, rng):
    """Point estimates, and the seconds of a per-resample loop over every group."""
    estimates = [johnson(g) for g in groups]
    start = time.perf_counter()
    for g in groups:
        for _ in range(n_resamples):
            johnson(g[rng.integers(0, len(g), len(g))])
    return estimates, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=25_000)
    parser.add_argument("--resamples", type=int, default=1_000)
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    dims, commitment, side, area = wave(args.responses, rng)
    levels = {"side x area": side * 5 + area, "side": side, "relationship": np.zeros_like(side)}
    start, cpu = time.perf_counter(), time.process_time()
    results = {
        name: relative_weights(dims, commitment, codes, int(codes.max()) + 1,
                               n_resamples=args.resamples, seed=2)
        for name, codes in levels.items()
    }  # fmt: skip
    batched_s, batched_cpu_s = time.perf_counter() - start, time.process_time() - cpu

    complete = ~np.isnan(dims).any(axis=1)
    data = np.column_stack([dims, commitment])
    groups, ours = [], []
    for name, codes in levels.items():
        for g in range(int(codes.max()) + 1):
            groups.append(data[complete & (codes == g)])
            ours.append(results[name].raw[g])
    tenth = max(1, args.resamples // 10)
    estimates, loop_s = baseline(groups, tenth, rng)
    loop_s *= args.resamples / tenth
    diff = max(float(np.max(np.abs(a - b))) for a, b in zip(ours, estimates, strict=True))
    figures = {
        "responses": args.responses,
        "groups": len(groups),
        "resamples": args.resamples,
        "batched_s": round(batched_s, 3),
        "batched_cpu_s": round(batched_cpu_s, 3),
        "loop_s_estimated": round(loop_s, 3),
        "speedup": round(loop_s / batched_s, 2),
        "max_abs_diff": diff,
        "load_average_1min": os.getloadavg()[0],
    }
    for key, value in figures.items():
        print(f"{key}: {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
