"""The questionnaire preview (/admin/instruments/...): the whole respondent journey — start page,
about you, every section, check your answers, confirmation — with each side's wording and the
party names, on the survey's own templates, under a "Preview" banner, storing nothing.

(The contents page and the section pages are also covered in tests/test_admin.py.)
"""

from __future__ import annotations

import html as html_lib
import re

import pytest

from survey_app.models import (
    Answer,
    AuditEvent,
    Comment,
    Draft,
    Invitation,
    InvitationAddress,
    Response,
    Wave,
)
from tests.factories import (
    assert_form_error,
    count,
    radio_names,
    snapshot,
    submit,
    summary_links,
    text,
)

BASE = "/admin/instruments/partnership-health/v1"
STORED = (Draft, Response, Answer, Comment, Invitation, InvitationAddress, Wave, AuditEvent)


@pytest.fixture
def rel(factory):  # type: ignore[no-untyped-def]
    return snapshot(factory.relationship())


def rows_stored() -> dict[str, int]:
    return {model.__name__: count(model) for model in STORED}


def links(html: str) -> list[str]:
    return [html_lib.unescape(h) for h in re.findall(r'href="([^"]+)"', html)]


def banner(html: str) -> bool:
    return "govuk-notification-banner" in html and "This is a preview of what" in html


def test_each_side_previews_the_whole_journey_and_nothing_is_stored(admin, rel):
    before = rows_stored()
    for side, own, partner, statement in (
        (
            "client",
            "Test Council",
            "Test Supplier",
            "The council and Test Supplier are working towards goals both organisations",
        ),
        (
            "supplier",
            "Test Supplier",
            "Test Council",
            "We and Test Council are working towards goals we both believe in.",
        ),
    ):
        query = f"?relationship={rel.id}"
        contents = text(admin.get(f"{BASE}/{side}/{query}"))
        start_path = f"{BASE}/{side}/start{query}"
        assert start_path in links(contents)  # "Start the preview" and the list of pages
        for page in ("about", "check"):
            assert f"{BASE}/{side}/{page}{query}" in links(contents)

        # the start page: the survey's own, with the side's party names
        start = admin.get(start_path)
        assert start.status_code == 200
        page = text(start)
        assert banner(page) and f"{side} staff" in page
        assert "<title>Preview: Partnership health" in page
        assert f"You have been invited as a member of staff of <strong>{own}</strong>" in page
        assert f"partnership with <strong>{partner}</strong>" in page
        assert "Your answers are anonymous" in page
        assert f"{rel.name} · (wave label)" in html_lib.unescape(page)
        about_path = f"{BASE}/{side}/about{query}"
        assert about_path in links(page)  # "Start now"
        assert "/survey/" not in " ".join(links(page))  # no way into the real survey

        # about you: both questions, the relationship's areas; empty → GOV.UK errors
        page = text(admin.get(about_path))
        assert banner(page)
        assert f"Which service area of the {rel.name} partnership do you work in?" in (
            html_lib.unescape(page)
        )
        assert all(name in page for name in rel.area_names)
        assert "What is your role level?" in page
        assert f"{BASE}/{side}/start{query}" in links(page)  # Back
        empty = submit(admin, about_path)
        assert_form_error(
            empty,
            "Select the service area you work in",
            "Select your role level, or ‘Prefer not to say’",
        )
        assert "<title>Error: Preview: About you" in text(empty)
        assert summary_links(empty) == ["#service_area", "#role_level"]
        bad = submit(admin, about_path, {"service_area": "mars", "role_level": "staff"})
        assert_form_error(bad, "Select one of the service areas listed")
        answered = submit(admin, about_path, {"service_area": "none", "role_level": "staff"})
        assert answered.status_code == 302
        assert answered.headers["Location"] == f"{BASE}/{side}/1{query}"

        # every section in turn, then check your answers
        number = 1
        while True:
            path = f"{BASE}/{side}/{number}{query}"
            page = text(admin.get(path))
            if number == 1:
                assert statement in page
                assert f"{BASE}/{side}/about{query}" in links(page)  # Back
            response = submit(admin, path, dict.fromkeys(radio_names(page), "4"))
            assert response.status_code == 302, (side, number)
            if not response.headers["Location"].startswith(f"{BASE}/{side}/{number + 1}?"):
                break
            number += 1
        assert response.headers["Location"] == f"{BASE}/{side}/check{query}"
        assert number > 5

        check = admin.get(f"{BASE}/{side}/check{query}")
        assert check.status_code == 200
        page = text(check)
        assert banner(page) and "Check your answers before submitting" in page
        assert statement in page and "(their answer)" in page
        assert re.search(rf"Organisation\s*</dt>\s*<dd[^>]*>\s*{own}\s*</dd>", page)
        change = links(page)
        assert f"{BASE}/{side}/about{query}&return=check" in change
        first = radio_names(text(admin.get(f"{BASE}/{side}/1{query}")))[0]
        assert f"{BASE}/{side}/1{query}&return=check#{first}" in change
        assert "/survey/" not in " ".join(change)

        sent = submit(admin, f"{BASE}/{side}/check{query}")
        assert sent.status_code == 302
        assert sent.headers["Location"] == f"{BASE}/{side}/done{query}"
        done = text(admin.get(sent.headers["Location"]))
        assert banner(done) and "Survey submitted" in done
        assert f"other staff at {rel.name}" in html_lib.unescape(done)

    assert rows_stored() == before


def test_a_change_link_leads_back_to_check_your_answers(admin, rel):
    for path in (f"{BASE}/client/3?return=check", f"{BASE}/client/about?return=check"):
        page = text(admin.get(path))
        data = dict.fromkeys(radio_names(page), "2") | {
            "service_area": "none",
            "role_level": "not-said",
        }
        response = submit(admin, path, data)
        assert response.status_code == 302, path
        assert response.headers["Location"] == f"{BASE}/client/check"


def test_without_a_relationship_the_preview_uses_generic_names(admin):
    start = text(admin.get(f"{BASE}/client/start"))
    assert "member of staff of <strong>the council</strong>" in start
    assert "(relationship name) · (wave label)" in html_lib.unescape(start)
    about = html_lib.unescape(text(admin.get(f"{BASE}/supplier/about")))
    assert "Which service area of the (relationship name) partnership" in about
    assert "First service area" in about and "Second service area" in about
    check = text(admin.get(f"{BASE}/supplier/check"))
    assert "the supplier" in check
    assert "Several areas, or none" not in check  # no answer is made up


def test_unknown_versions_and_sides_are_404(admin):
    for page in ("start", "about", "check", "done"):
        assert (
            admin.get(f"/admin/instruments/partnership-health/v99/client/{page}").status_code == 404
        )
        assert admin.get(f"{BASE}/both/{page}").status_code == 404
        assert admin.get(f"/admin/instruments/nothing/v1/client/{page}").status_code == 404


def test_the_submit_button_needs_the_csrf_token(admin):
    response = admin.post(f"{BASE}/client/check", data={})
    assert response.status_code == 400


def test_the_real_start_page_still_leads_into_the_survey(app, factory):
    from tests.factories import Respondent

    wave = factory.wave()
    respondent = Respondent(app.test_client(), factory.tokens(wave)[0])
    respondent.open()
    page = text(respondent.client.get("/survey/"))
    assert 'href="/survey/about"' in page and "Preview" not in page
