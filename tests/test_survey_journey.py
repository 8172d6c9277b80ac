"""A respondent answers a wave end to end through the web pages."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import Answer, Comment, Draft, Invitation, Response
from survey_app.services import respondents
from tests.factories import Respondent, radio_names


def n_sections(app) -> int:
    from instruments import find_instrument

    inst = find_instrument("partnership-health", 1)
    return len(inst.dimensions) + (1 if inst.comments else 0)


def test_the_start_page_explains_purpose_anonymity_and_time(client, factory):
    wave = factory.wave()
    (token,) = factory.tokens(wave)
    page = client.get(f"/s/{token}", follow_redirects=True)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Your answers are anonymous" in html
    assert "Who sees the results" in html
    assert re.search(r"It takes about \d+ minutes", html)
    assert "Start now" in html


def test_the_link_is_exchanged_for_a_session_so_later_urls_hold_no_token(client, factory):
    wave = factory.wave()
    (token,) = factory.tokens(wave)
    response = client.get(f"/s/{token}")
    assert response.status_code == 302
    assert token not in response.headers["Location"]
    assert token not in client.get("/survey/").get_data(as_text=True)


def test_a_respondent_completes_the_whole_survey(client, factory, app):
    wave = factory.wave()
    (token,) = factory.tokens(wave, side="supplier")
    person = Respondent(client, token)
    person.open()
    about = person.answer_about(area="contact-centre", role="manager")
    assert about.headers["Location"].endswith("/survey/section/1")
    total = n_sections(app)
    for number in range(1, total + 1):
        page = client.get(f"/survey/section/{number}").get_data(as_text=True)
        assert f"Section {number} of {total}" in page
        response = person.answer_section(number, "2")
        assert response.status_code == 302
    check = client.get("/survey/check")
    assert check.status_code == 200
    assert "Check your answers before submitting" in check.get_data(as_text=True)
    done = person.post("/survey/check", {}, follow_redirects=True)
    assert done.status_code == 200
    assert "Survey submitted" in done.get_data(as_text=True)

    response = db.session.scalar(select(Response))
    assert response.side == "supplier"
    assert response.role_level == "manager"
    assert response.service_area_id is not None
    inst = response_instrument(response)
    answers = db.session.scalars(select(Answer).where(Answer.response_id == response.id)).all()
    assert len(answers) == len(inst.items)
    assert {a.value for a in answers} == {2}
    assert db.session.scalar(select(func.count()).select_from(Draft)) == 0
    invitation = db.session.scalar(select(Invitation))
    assert invitation.used_on is not None


def response_instrument(response):
    from survey_app.models import InstrumentVersion
    from survey_app.services.instruments import frozen_instrument

    return frozen_instrument(db.session.get(InstrumentVersion, response.instrument_version_id))


def test_each_side_sees_its_own_mirrored_wording(app, factory):
    wave = factory.wave()
    (client_token,) = factory.tokens(wave, side="client")
    (supplier_token,) = factory.tokens(wave, side="supplier")
    pages = {}
    for side, token in (("client", client_token), ("supplier", supplier_token)):
        browser = app.test_client()
        person = Respondent(browser, token)
        person.open()
        person.answer_about()
        pages[side] = browser.get("/survey/section/1").get_data(as_text=True)
    from instruments import find_instrument

    first = find_instrument("partnership-health", 1).items[0]
    client_text = first.text("client", partner="Test Supplier", partner_side="supplier")
    supplier_text = first.text("supplier", partner="Test Council", partner_side="client")
    assert client_text != supplier_text

    def shown(html: str, text: str) -> bool:
        return text.replace("'", "&#39;") in html or text in html

    assert shown(pages["client"], client_text) and not shown(pages["client"], supplier_text)
    assert shown(pages["supplier"], supplier_text) and not shown(pages["supplier"], client_text)


def test_answers_are_saved_on_every_page_and_the_link_resumes_where_the_person_left(app, factory):
    wave = factory.wave()
    (token,) = factory.tokens(wave)
    first_visit = app.test_client()
    person = Respondent(first_visit, token)
    person.open()
    person.answer_about()
    person.answer_section(1, "5")
    person.answer_section(2, "3")
    assert db.session.scalar(select(func.count()).select_from(Draft)) == 1

    later = app.test_client()  # a new browser session, the same link
    resumed = later.get(f"/s/{token}")
    assert resumed.headers["Location"].endswith("/survey/resume")
    target = later.get("/survey/resume")
    assert target.headers["Location"].endswith("/survey/section/3")
    page1 = later.get("/survey/section/1").get_data(as_text=True)
    # the saved answer comes back checked
    assert re.search(r'value="5"\s+checked', page1)


def test_save_and_come_back_later_keeps_partial_answers(client, factory):
    person = factory.respondent(client)
    html = client.get("/survey/section/1").get_data(as_text=True)
    first = radio_names(html)[0]
    saved = person.post("/survey/section/1", {first: "4", "save_later": "Save and come back later"})
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/survey/saved")
    draft = db.session.scalar(select(Draft))
    assert draft.data is None and b"answers" not in draft.sealed  # sealed, not in clear
    ctx = respondents.open_link(person.token)  # the link's token unwraps the draft's key
    assert list(respondents.load_draft(ctx)["answers"].values()) == [4]
    assert client.get("/survey/saved").status_code == 200


def test_check_answers_has_a_change_link_that_returns_to_check(client, factory, app):
    person = factory.respondent(client)
    for number in range(1, n_sections(app) + 1):
        person.answer_section(number, "4")
    html = client.get("/survey/check").get_data(as_text=True)
    links = re.findall(r'href="(/survey/section/2\?return=check#q_[a-z0-9_]+)"', html)
    assert links, "check answers has change links to each question"
    path = links[0].split("#")[0]
    page = client.get(path).get_data(as_text=True)
    names = radio_names(page)
    response = person.post(path, {**{n: "4" for n in names}, names[0]: "1"})
    assert response.headers["Location"].endswith("/survey/check")
    assert "Strongly disagree" in client.get("/survey/check").get_data(as_text=True)


def test_the_about_page_is_skipped_when_the_invitation_fixes_area_and_role(client, factory):
    rel = factory.relationship()
    wave = factory.wave(rel)
    (token,) = factory.tokens(wave, area=rel.service_areas[1], role="executive")
    client.get(f"/s/{token}")
    start = client.get("/survey/").get_data(as_text=True)
    assert "/survey/section/1" in start
    assert client.get("/survey/about").headers["Location"].endswith("/survey/section/1")


def test_about_page_requires_an_answer_with_a_govuk_error_summary(client, factory):
    person = factory.respondent(client, about=False)
    response = person.post("/survey/about", {})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "There is a problem" in html
    assert "Select the service area you work in" in html
    assert "<title>Error: " in html
    assert db.session.scalar(select(func.count()).select_from(Draft)) == 0


def test_comments_are_optional_and_stored_with_the_response(client, factory, app):
    person = factory.respondent(client)
    total = n_sections(app)
    for number in range(1, total):
        person.answer_section(number, "3")
    html = client.get(f"/survey/section/{total}").get_data(as_text=True)
    keys = re.findall(r'<textarea[^>]*name="(q_[a-z0-9_]+)"', html)
    assert keys
    person.post(f"/survey/section/{total}", {keys[0]: "More joint planning, please."})
    person.post("/survey/check", {})
    comment = db.session.scalar(select(Comment))
    assert comment.text == "More joint planning, please."
