"""What people wrote, for managers: a closed wave's comments per question, only from groups
large enough to publish, with filters (side, service area) that only choose among them.

A comment is shown only when its response's group — side × service area × role level, the
finest group anything is kept for — is one whose comments are published
(:func:`survey_app.services.results.published_comment_groups`, the one rule, also the
``responses`` download's: at least ``MIN_COMMENT_CELL_SIZE`` responses, suppressed as a cube so
that no difference of shown groups isolates a smaller one; DESIGN §4.14). A filter picks whole
groups, never a part of one, so it cannot narrow what is shown below that size. Comments are
listed in alphabetical order, which says nothing about who wrote them or when. Beside them,
the themes of the same comments, computed once when the wave closed
(:mod:`survey_app.services.results.themes`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from survey_app.models import Relationship, Wave
from survey_app.services.dashboard.filters import Filters, area_name
from survey_app.services.dashboard.rows import instrument_of, party_names, waves_as_of
from survey_app.services.instruments import reader_language
from survey_app.services.results import (
    AREA_ALL,
    StoredTheme,
    min_comment_cell_size,
    published_comments,
    shown_themes,
    stored_themes,
)


@dataclass(frozen=True)
class QuestionComments:
    """One free-text question and the comments shown for it."""

    key: str
    wording_client: str
    wording_supplier: str
    comments: tuple[str, ...]
    #: The comments' themes, computed when the wave closed; empty when the group had fewer
    #: than ``k`` comments (or the shown comments are no longer those that were grouped).
    themes: tuple[StoredTheme, ...] = ()


@dataclass
class CommentsPage:
    relationship: Relationship
    wave: Wave | None
    filters: Filters
    k: int
    area_name: str = "all service areas"
    questions: list[QuestionComments] = field(default_factory=list)

    @property
    def n_shown(self) -> int:
        return sum(len(q.comments) for q in self.questions)


def comments_page(
    relationship: Relationship, filters: Filters, *, as_of: Wave | None = None
) -> CommentsPage:
    """The comments of the latest closed wave (or of ``as_of``), per question, of the groups
    that may be published and that the filters (side, service area) choose."""
    waves = waves_as_of(relationship, as_of)
    page = CommentsPage(
        relationship,
        waves[-1] if waves else None,
        filters,
        min_comment_cell_size(),
        area_name(relationship, filters.area_key),
    )
    if page.wave is None:
        return page
    found: dict[str, list[str]] = defaultdict(list)
    for comment in published_comments(page.wave):
        if (filters.side and comment.side != filters.side) or (
            filters.area and comment.area != filters.area
        ):
            continue
        found[comment.question].append(comment.text)
    themes = stored_themes(page.wave, filters.side or "all", filters.area or AREA_ALL)
    names = party_names(relationship)
    instrument = instrument_of(page.wave)
    # The questions in the reader's language where the instrument carries it (else English).
    language = reader_language(instrument)
    page.questions = [
        QuestionComments(
            q.key,
            q.text_in("client", language, partner=names.get("supplier", "")),
            q.text_in("supplier", language, partner=names.get("client", "")),
            tuple(found.get(q.key, [])),
            shown_themes(themes.get(q.key, ()), found.get(q.key, [])),
        )
        for q in instrument.comments
    ]
    return page
