"""Which groups' free-text comments may be published (DESIGN §4.14).

A group's comments are shown only when it holds at least ``MIN_COMMENT_CELL_SIZE`` responses,
and never where shown sets of comments, intersected or subtracted, isolate a smaller group:
the comments of all areas minus those of the shown areas are the hidden areas' comments, and a
comment shown for an area and again for a role level comes from that area's role level. The
groups — side × service area × role level of one wave, with every margin (both sides, all
areas, all roles) — are decided together by :func:`analysis.anonymity.publishable_sets`.

:func:`published_comment_groups` is the one rule; the raw ``responses`` download uses it, and
so must any page that lists comments. :func:`published_comments` reads a wave's comments
under it (the comments page and the comment themes).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import product

import numpy as np
from flask import current_app
from sqlalchemy import select

from analysis.anonymity import publishable_sets
from survey_app.extensions import db
from survey_app.models import Comment, Response, Wave
from survey_app.services import ServiceError
from survey_app.services.results.vocabulary import AREA_ALL, AREA_NONE, ROLE_ALL, ROLE_NONE

#: The margin value of each axis of a comment group (side, service area, role level).
COMMENT_AXES = ("all", AREA_ALL, ROLE_ALL)

Group = tuple[str, str, str]


def min_comment_cell_size() -> int:
    """The comment threshold: the app's ``MIN_COMMENT_CELL_SIZE`` (default 10)."""
    value = current_app.config.get("MIN_COMMENT_CELL_SIZE", 10)
    if isinstance(value, bool) or not isinstance(value, int) or value < 3:
        raise ServiceError(
            f"MIN_COMMENT_CELL_SIZE must be a whole number of at least 3, not {value!r}"
        )
    return value


def published_comment_groups(
    group_sizes: Mapping[Group, int], k: int | None = None
) -> frozenset[Group]:
    """The groups of one wave whose comments may be shown.

    Parameters
    ----------
    group_sizes : mapping
        Responses per base group ``(side, area, role)`` of one wave — the area key or
        ``AREA_NONE``, the role level or ``ROLE_NONE``; no margins (they are summed here).
    k : int, optional
        The comment threshold (default :func:`min_comment_cell_size`).

    Returns
    -------
    frozenset of tuple
        Base groups and margins (``"all"``, ``AREA_ALL``, ``ROLE_ALL`` on an axis) whose
        comments are published: at least ``k`` responses, and not hidden as a partner.
    """
    k = min_comment_cell_size() if k is None else k
    bases = [g for g, n in group_sizes.items() if n]
    if not bases:
        return frozenset()
    axes = [[*sorted({g[a] for g in bases}), COMMENT_AXES[a]] for a in range(3)]
    groups: list[Group] = list(product(*axes))
    # A group holds a base group when, on every axis, it names the same value or the margin
    # (the margin is each axis's last position).
    at = np.array([[axis.index(v) for axis, v in zip(axes, g, strict=True)] for g in groups])
    of = np.array([[axis.index(v) for axis, v in zip(axes, b, strict=True)] for b in bases])
    margin = np.array([len(axis) - 1 for axis in axes])
    membership = np.all((at[:, None, :] == of[None, :, :]) | (at[:, None, :] == margin), axis=2)
    shown = publishable_sets(membership, [group_sizes[b] for b in bases], k=k)
    return frozenset(g for g, ok in zip(groups, shown, strict=True) if ok)


@dataclass(frozen=True, slots=True)
class PublishedComment:
    """One comment whose group may be published: its question, text, side and area key
    (``AREA_NONE`` when the respondent gave none). Nothing else about who wrote it."""

    question: str
    text: str
    side: str
    area: str


def published_comments(wave: Wave, k: int | None = None) -> list[PublishedComment]:
    """The comments of ``wave`` whose response's group — side × service area × role level,
    the finest group anything is kept for — is published (:func:`published_comment_groups`),
    in alphabetical order of text (which says nothing about who wrote them or when)."""
    areas = {a.id: a.key for a in wave.relationship.service_areas}
    groups = db.session.execute(
        select(Response.side, Response.service_area_id, Response.role_level).where(
            Response.wave_id == wave.id
        )
    )
    allowed = published_comment_groups(
        Counter(
            (side, areas.get(area_id, AREA_NONE), role or ROLE_NONE)
            for side, area_id, role in groups
        ),
        k,
    )
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
    found = [
        PublishedComment(question, text, side, areas.get(area_id, AREA_NONE))
        for question, text, side, area_id, role in rows
        if (side, areas.get(area_id, AREA_NONE), role or ROLE_NONE) in allowed
    ]
    return sorted(found, key=lambda c: (c.text.casefold(), c.text))
