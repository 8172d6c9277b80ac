"""What people wrote, for managers: a closed wave's comments per question, only from groups
large enough to publish, with filters (side, service area) that only choose among them.

A comment is shown only when its response's group — side × service area × role level, the
finest group anything is kept for — is one whose comments are published
(:func:`survey_app.services.results.published_comment_groups`, the one rule, also the
``responses`` download's: at least ``MIN_COMMENT_CELL_SIZE`` responses, suppressed as a cube so
that no difference of shown groups isolates a smaller one; DESIGN §4.14). A filter picks whole
groups, never a part of one, so it cannot narrow what is shown below that size. Comments are
listed in alphabetical order, which says nothing about who wrote them or when.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Comment, Relationship, Response, Wave
from survey_app.services.dashboard.filters import Filters, area_name
from survey_app.services.dashboard.rows import instrument_of, party_names, waves_as_of
from survey_app.services.results import (
    AREA_NONE,
    ROLE_NONE,
    min_comment_cell_size,
    published_comment_groups,
)


@dataclass(frozen=True)
class QuestionComments:
    """One free-text question and the comments shown for it."""

    key: str
    wording_client: str
    wording_supplier: str
    comments: tuple[str, ...]


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
    wave = page.wave
    areas = {a.id: a.key for a in relationship.service_areas}
    groups = db.session.execute(
        select(Response.side, Response.service_area_id, Response.role_level).where(
            Response.wave_id == wave.id
        )
    )
    allowed = published_comment_groups(
        Counter(
            (side, areas.get(area_id, AREA_NONE), role or ROLE_NONE)
            for side, area_id, role in groups
        )
    )
    found: dict[str, list[str]] = defaultdict(list)
    rows = db.session.execute(
        select(
            Comment.question_key,
            Comment.text,
            Response.side,
            Response.service_area_id,
            Response.role_level,
        )
        .join(Response, Response.id == Comment.response_id)
        .where(Response.wave_id == wave.id)
    )
    for question, text, side, area_id, role in rows:
        area = areas.get(area_id, AREA_NONE)
        if (side, area, role or ROLE_NONE) not in allowed:
            continue
        if (filters.side and side != filters.side) or (filters.area and area != filters.area):
            continue
        found[question].append(text)
    names = party_names(relationship)
    page.questions = [
        QuestionComments(
            q.key,
            q.text("client", partner=names.get("supplier", "")),
            q.text("supplier", partner=names.get("client", "")),
            tuple(sorted(found.get(q.key, []), key=str.casefold)),
        )
        for q in instrument_of(wave).comments
    ]
    return page
