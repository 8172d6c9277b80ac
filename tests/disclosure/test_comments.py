"""Comments attacked: an intruder who sees the comments of every published group (a
manager's comment pages, the raw download) intersects and subtracts those sets. No set they
can make may hold the comments of fewer than ``MIN_COMMENT_CELL_SIZE`` people.

The old rule — a group's comments shown when it alone holds enough people — leaks: all areas
minus the shown areas leaves the hidden areas' comments, and an area's comments intersected
with a role level's leave that area's few people of that level. Each test shows it does on
the same data.
"""

from __future__ import annotations

import uuid
from collections import Counter
from itertools import product

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import insert

from analysis.anonymity import publishable_sets
from survey_app.extensions import db
from survey_app.models import Comment
from survey_app.services.results import (
    AREA_ALL,
    AREA_NONE,
    ROLE_ALL,
    ROLE_NONE,
    published_comment_groups,
)
from survey_app.services.results.comments import COMMENT_AXES
from tests.disclosure.datasets import small_group_wave, truth
from tests.exchange import download_bytes, read_csv

MIN = 10

#: One wave's groups: (side, area, role) -> responses. Area C has 4 people, so "all areas"
#: minus A and B gives C's comments away; area A's 3 managers are A ∩ managers.
GROUPS = {
    ("client", "a", "staff"): 20,
    ("client", "a", "manager"): 3,
    ("client", "b", "staff"): 15,
    ("client", "b", "manager"): 12,
    ("client", "c", "staff"): 4,
    ("supplier", "a", "staff"): 30,
    ("supplier", AREA_NONE, ROLE_NONE): 2,
}


def within(group, base) -> bool:
    return all(v in (b, m) for v, b, m in zip(group, base, COMMENT_AXES, strict=True))


def smallest_isolated(shown, sizes: dict) -> int | None:
    """The fewest people (more than none) in a set made of the shown groups by intersection
    and difference: the atoms of the shown groups. None when no group is shown."""
    atoms: Counter = Counter()
    for base, n in sizes.items():
        signature = frozenset(g for g in shown if within(g, base))
        if signature and n:
            atoms[signature] += n
    return min(atoms.values(), default=None)


def threshold_only(sizes: dict, k: int) -> set:
    """The old rule: every group (margins included) of at least k people."""
    axes = [sorted({b[a] for b in sizes}) + [COMMENT_AXES[a]] for a in range(3)]
    return {g for g in product(*axes) if sum(n for b, n in sizes.items() if within(g, b)) >= k}


def test_shown_comment_sets_never_isolate_fewer_than_the_threshold(app):
    shown = published_comment_groups(GROUPS, MIN)
    assert smallest_isolated(shown, GROUPS) >= MIN
    assert smallest_isolated(threshold_only(GROUPS, MIN), GROUPS) < MIN, "the old rule leaks"
    # No more hidden than needed: the big groups and the client's total stay; the supplier's
    # total (and so both sides') must go, or minus area A it leaves the 2 without an area.
    assert ("supplier", "a", "staff") in shown
    assert ("client", AREA_ALL, ROLE_ALL) in shown
    assert ("supplier", AREA_ALL, ROLE_ALL) not in shown


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.tuples(
            st.sampled_from(["client", "supplier"]), st.sampled_from("abc"), st.sampled_from("xyz")
        ),
        st.integers(0, 25),
        max_size=12,
    ),
    st.integers(3, 12),
)
def test_no_intersection_or_difference_of_shown_sets_is_small(sizes, k):
    bases = list(sizes)
    axes = [sorted({b[a] for b in bases}) + ["*"] for a in range(3)] if bases else [[], [], []]
    groups = list(product(*axes))
    membership = np.array(
        [[all(v in (b[a], "*") for a, v in enumerate(g)) for b in bases] for g in groups]
    ).reshape(len(groups), len(bases))
    shown = publishable_sets(membership, [sizes[b] for b in bases], k=k)
    atoms: Counter = Counter()
    for c, base in enumerate(bases):
        signature = frozenset(np.flatnonzero(shown & membership[:, c]).tolist())
        if signature and sizes[base]:
            atoms[signature] += sizes[base]
    assert all(n >= k for n in atoms.values())
    group_sizes = membership.astype(int) @ np.array([sizes[b] for b in bases], dtype=int)
    assert not np.any(shown & (group_sizes < k)), "a group under k is never shown"


def test_bad_input_is_refused_clearly():
    with pytest.raises(ValueError, match="one per cell"):
        publishable_sets(np.ones((2, 3), bool), [1, 2], k=5)
    with pytest.raises(ValueError, match="non-negative"):
        publishable_sets(np.ones((1, 2), bool), [1, -2], k=5)


def test_the_download_gives_comments_only_of_published_groups(app, factory):
    app.config["MIN_COMMENT_CELL_SIZE"] = MIN
    rel_id = small_group_wave(factory)
    true_rows = truth(rel_id)
    # Everyone leaves a comment, so any leak shows.
    db.session.execute(
        insert(Comment),
        [
            {"response_id": uuid.UUID(key), "question_key": "comment_improve", "text": f"c {key}"}
            for key in true_rows
        ],
    )
    db.session.commit()
    sizes = Counter(
        (t["cell"][0], t["cell"][1] or AREA_NONE, t["cell"][2] or ROLE_NONE)
        for t in true_rows.values()
    )
    shown = published_comment_groups(sizes, MIN)
    assert smallest_isolated(shown, sizes) >= MIN
    assert smallest_isolated(threshold_only(sizes, MIN), sizes) < MIN, "the old rule leaks"
    header, *rows = read_csv(download_bytes("responses", "csv", rel_id))
    improve = header.index("comment_improve")
    commented = [dict(zip(header, r, strict=True)) for r in rows if r[improve]]
    assert commented, "the 20 client core-ICT staff keep their comments"
    for record in commented:
        side, area, role = true_rows[record["response_id"]]["cell"]
        assert (side, area or AREA_NONE, role or ROLE_NONE) in shown
        assert record["service_area"] != "_other" and record["role_level"] != "_other"
