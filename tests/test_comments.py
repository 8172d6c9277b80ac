"""Comments for managers: shown per question only from groups of at least
MIN_COMMENT_CELL_SIZE, with filters that choose whole groups and never narrow below it."""

from __future__ import annotations

import sys
from urllib.parse import quote

import numpy as np
import pytest
from sqlalchemy import insert

from survey_app.extensions import db
from survey_app.models import Comment, Wave
from survey_app.services.accounts.users import create_user
from survey_app.services.demo import DEMO_USERS
from survey_app.services.instruments import frozen_instrument
from survey_app.services.waves import close_wave
from tests.conftest import running_app
from tests.demo_site import Site
from tests.factories import insert_responses, open_wave_of_new_relationship
from tests.readers import conforms

#: (side, role level) -> (people, the comment each writes on the first question)
GROUPS = {
    ("client", "staff"): (12, "client staff say: meet more often"),
    ("supplier", "staff"): (11, "supplier staff say: share the plans earlier"),
    ("client", "manager"): (4, "a client manager says: the contract is unfair"),
}


@pytest.fixture(scope="module")
def site(migrated, tmp_path_factory):
    with running_app(migrated, tmp_path_factory.mktemp("comments-instance")) as app:
        rel, wave = open_wave_of_new_relationship("Comment Council", "Comment Supplier")
        instrument = frozen_instrument(wave.instrument_version)
        question = instrument.comments[0].key
        rng = np.random.default_rng(3)
        for (side, role), (n, text) in GROUPS.items():
            ids = insert_responses(
                wave,
                [(side, rel.service_areas[0].key, role, n)],
                lambda inst, _side: enumerate(int(v) for v in rng.integers(1, 6, len(inst.items))),
            )
            db.session.execute(
                insert(Comment),
                [
                    {"response_id": rid, "question_key": question, "text": f"{text} ({i})"}
                    for i, rid in enumerate(ids[:3])
                ],
            )
        close_wave(wave)
        for role, email, name, password in DEMO_USERS:
            create_user(email, name=name, role=role, password=password)
        db.session.commit()
        yield Site(app, rel.id, 0, wave.id)


@pytest.fixture(scope="module")
def manager(site):
    return site.client("manager")


def comments_on(manager, site, query: str = "", status: int = 200) -> str:  # type: ignore[no-untyped-def]
    answer = manager.get(f"/dashboard/{site.relationship_id}/comments{query}")
    assert answer.status_code == status
    return answer.get_data(as_text=True)


def test_comments_of_publishable_groups_are_shown_per_question_in_alphabetical_order(site, manager):
    """The client's staff (12) are hidden with its 4 managers: shown beside the client's total,
    they would leave the managers' comments as the difference (published_comment_groups)."""
    html = comments_on(manager, site)
    shown = [f"supplier staff say: share the plans earlier ({i})" for i in range(3)]
    positions = [html.index(text) for text in sorted(shown, key=str.casefold)]
    assert positions == sorted(positions)
    assert "meet more often" not in html
    assert "3 comments." in html
    assert "What one thing would most improve" in html
    assert "groups of at least 10 people" in html


def test_a_group_below_the_threshold_is_never_shown_whatever_the_filters(site, manager):
    for query in ("", "?side=client", "?area=estates", "?side=client&area=estates"):
        html = comments_on(manager, site, query)
        assert "the contract is unfair" not in html, query
        assert "meet more often" not in html, query  # its complement: hidden with it
    html = comments_on(manager, site, "?side=supplier&area=estates")
    assert "share the plans earlier" in html


def test_filters_choose_whole_groups_and_a_bad_filter_is_a_clear_error(site, manager):
    html = comments_on(manager, site, "?side=supplier")
    assert "share the plans earlier (0)" in html and "meet more often" not in html
    bad = comments_on(manager, site, "?side=nobody", 400)
    assert "Select whose answers to show" in bad and "govuk-error-summary" in bad
    comments_on(manager, site, "?wave=1999-Q1", 404)


def test_which_groups_may_be_published_is_decided_in_one_place(site, manager, monkeypatch):
    room = sys.modules["survey_app.services.results.comments"]  # published_comments reads by it
    monkeypatch.setattr(room, "published_comment_groups", lambda group_sizes, k=None: frozenset())
    html = comments_on(manager, site)
    assert "meet more often" not in html and "share the plans earlier" not in html
    assert "No comments to show" in html


def test_the_dashboard_links_to_the_comments(site, manager):
    html = manager.get(f"/dashboard/{site.relationship_id}/").get_data(as_text=True)
    assert f'href="/dashboard/{site.relationship_id}/comments"' in html


def test_the_api_counts_the_comments_that_may_be_read(site, manager):
    path = f"/api/v1/waves/{site.small_wave_id}/comment-counts"
    body = conforms(manager.get(path), "/waves/{wave_id}/comment-counts")
    counts = {c["question"]: c["comments"] for c in body["items"]}
    assert counts["comment_improve"] == 3 and body["min_group_size"] == 10
    client = conforms(manager.get(f"{path}?side=client"), "/waves/{wave_id}/comment-counts")
    assert {c["question"]: c["comments"] for c in client["items"]}["comment_improve"] == 0
    conforms(manager.get(f"{path}?area=no-such"), "/waves/{wave_id}/comment-counts", 404)


def test_the_comments_filter_offers_side_and_area_and_keeps_the_chosen_wave(site, manager):
    """The dashboard's filter form, without the role level: a role level would narrow the
    groups below the comment threshold."""
    with site.app.app_context():  # type: ignore[attr-defined]
        label = db.session.get(Wave, site.small_wave_id).label
    action = f"/dashboard/{site.relationship_id}/comments"
    html = comments_on(manager, site)
    form = html[html.index('class="app-filter"') : html.index("</form>", html.index("app-filter"))]
    assert "Filter the comments" in form
    assert 'name="side"' in form and 'name="area"' in form and 'name="role_level"' not in form
    assert form.count("govuk-grid-column-one-half") == 2
    assert f'<a class="govuk-link" href="{action}">' in form and 'name="wave"' not in form
    html = comments_on(manager, site, f"?wave={quote(label)}")
    form = html[html.index('class="app-filter"') : html.index("</form>", html.index("app-filter"))]
    assert f'<input type="hidden" name="wave" value="{label}">' in form
    assert f'href="{action}?wave={quote(label)}"' in form


def test_the_questions_are_asked_in_the_reader_s_language(site, manager):
    """A Welsh reader sees each question in the instrument's Welsh, not its English."""
    html = comments_on(manager, site, "?lang=cy")
    assert "Pa un peth fyddai" in html
    assert "What one thing would most improve" not in html
