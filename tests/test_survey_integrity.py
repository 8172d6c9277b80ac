"""Failure paths of the respondent journey: each leaves the database as it was."""

from __future__ import annotations

import logging
import threading
import uuid

import pytest
from sqlalchemy import Date, DateTime, Time, func, inspect, select

from survey_app.extensions import db
from survey_app.models import Answer, Comment, Draft, Invitation, InvitationLink, Response
from tests.factories import Respondent, radio_names


def counts() -> dict[str, int]:
    return {
        model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
        for model in (Response, Answer, Comment, Draft)
    } | {"used": db.session.scalar(select(func.count()).where(Invitation.used_on.is_not(None)))}


def n_sections() -> int:
    from instruments import find_instrument

    inst = find_instrument("partnership-health", 1)
    return len(inst.dimensions) + (1 if inst.comments else 0)


def complete_all_sections(person: Respondent) -> None:
    person.open()
    person.answer_about()
    for number in range(1, n_sections() + 1):
        assert person.answer_section(number, "4").status_code == 302


def test_an_unknown_token_gets_a_404_page_and_stores_nothing(client, factory):
    factory.wave()
    before = counts()
    response = client.get("/s/this-is-not-a-real-token")
    assert response.status_code == 404
    assert "Survey link not recognised" in response.get_data(as_text=True)
    assert counts() == before


def test_a_used_token_cannot_submit_twice(client, factory, app):
    wave = factory.wave()
    (token,) = factory.tokens(wave)
    complete_all_sections(Respondent(client, token))
    assert Respondent(client, token).post("/survey/check", {}).status_code == 302
    before = counts()
    assert before["responses"] == 1

    again = app.test_client().get(f"/s/{token}")
    assert again.status_code == 409
    assert "already completed this survey" in again.get_data(as_text=True)
    assert counts() == before


def test_a_draft_wave_says_it_is_not_open(client, factory):
    wave = factory.wave(state="draft")
    (token,) = factory.tokens(wave)
    before = counts()
    response = client.get(f"/s/{token}")
    assert response.status_code == 403
    assert "This survey is not open" in response.get_data(as_text=True)
    assert counts() == before


def test_a_closed_wave_says_it_has_closed_even_mid_survey(client, factory, app):
    from survey_app.services.waves import close_wave

    wave = factory.wave()
    (token,) = factory.tokens(wave)
    person = Respondent(client, token)
    complete_all_sections(person)
    assert counts()["drafts"] == 1
    close_wave(db.session.merge(wave))
    db.session.commit()
    assert counts()["drafts"] == 0, "closing a wave deletes unfinished drafts"
    response = client.get("/survey/check")
    assert response.status_code == 410
    assert "This survey has closed" in response.get_data(as_text=True)
    assert counts()["responses"] == 0


@pytest.mark.parametrize("value", ["0", "6", "99", "-1", "abc", "4.5", "\x00", "dk"])
def test_an_out_of_range_or_tampered_answer_is_refused_naming_the_question(client, factory, value):
    person = factory.respondent(client)
    before = counts()
    html = client.get("/survey/section/1").get_data(as_text=True)
    names = radio_names(html)
    # sp1 has no "don't know" option, so "dk" is as foreign to it as 99
    response = person.post("/survey/section/1", {**{n: "4" for n in names}, "q_sp1": value})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "There is a problem" in page
    assert 'href="#q_sp1"' in page
    assert "Select one of the answers given for" in page
    assert counts() == before


def test_a_missing_answer_is_refused_with_the_question_in_the_error_summary(client, factory):
    person = factory.respondent(client)
    before = counts()
    html = client.get("/survey/section/1").get_data(as_text=True)
    names = radio_names(html)
    response = person.post("/survey/section/1", {n: "4" for n in names[1:]})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'href="#{names[0]}"' in page
    assert "Select how much you agree with" in page
    assert counts() == before


def test_a_tampered_service_area_is_refused(client, factory):
    person = factory.respondent(client, about=False)
    response = person.post("/survey/about", {"service_area": "secret-area", "role_level": "staff"})
    assert response.status_code == 400
    assert "Select one of the service areas listed" in response.get_data(as_text=True)
    assert counts()["drafts"] == 0


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(client, factory):
    factory.respondent(client)  # the person is at section 1
    before = counts()
    draft_before = db.session.scalar(select(Draft)).sealed
    response = client.post("/survey/section/1", data={"q_sp1": "4"})
    assert response.status_code == 400
    assert "nothing was saved" in response.get_data(as_text=True)
    assert counts() == before
    db.session.expire_all()
    assert db.session.scalar(select(Draft)).sealed == draft_before


def test_submitting_without_finishing_sends_the_person_to_the_first_gap(client, factory):
    person = factory.respondent(client)
    person.answer_section(1)
    response = client.get("/survey/check")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/survey/section/2")
    assert counts()["responses"] == 0


def test_pages_without_a_survey_session_ask_for_the_link(client):
    response = client.get("/survey/section/1")
    assert response.status_code == 403
    assert "Open your survey link to continue" in response.get_data(as_text=True)


def test_a_link_submitted_after_its_page_began_is_already_completed_not_restarted(app, factory):
    """The race the concurrent test can hit on PostgreSQL: a second browser's request loads the
    link (still unused), then the first browser's submit commits and deletes the draft."""
    from survey_app.services import respondents

    wave = factory.wave()
    (token,) = factory.tokens(wave)
    complete_all_sections(Respondent(app.test_client(), token))
    ctx = respondents.open_link(token)
    respondents.submit(ctx, respondents.load_draft(ctx))
    with pytest.raises(respondents.AlreadySubmitted):
        respondents.load_draft(ctx)


def test_two_concurrent_submits_of_one_token_store_exactly_one_response(app, factory):
    wave = factory.wave()
    (token,) = factory.tokens(wave)
    first, second = app.test_client(), app.test_client()
    complete_all_sections(Respondent(first, token))
    Respondent(second, token).open()  # the same link open in a second browser
    tokens = {}
    for name, browser in (("first", first), ("second", second)):
        from tests.factories import csrf_token

        tokens[name] = csrf_token(browser.get("/survey/check").get_data(as_text=True))

    barrier = threading.Barrier(2)
    statuses: dict[str, int] = {}

    def submit(name: str, browser) -> None:
        with app.app_context():
            barrier.wait()
            response = browser.post("/survey/check", data={"csrf_token": tokens[name]})
            statuses[name] = response.status_code
            db.session.remove()

    threads = [
        threading.Thread(target=submit, args=("first", first)),
        threading.Thread(target=submit, args=("second", second)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses.values()) == [302, 409], statuses
    after = counts()
    assert after["responses"] == 1
    assert after["used"] == 1
    from instruments import find_instrument

    assert after["answers"] == len(find_instrument("partnership-health", 1).items)


def test_a_failure_while_storing_answers_stores_nothing_and_leaves_the_link_usable(
    client, factory, monkeypatch
):
    from survey_app.services import respondents

    wave = factory.wave()
    (token,) = factory.tokens(wave)
    person = Respondent(client, token)
    complete_all_sections(person)
    real_rows = respondents._answer_rows

    def duplicated_rows(ctx, answers):
        rows = real_rows(ctx, answers)
        return rows + rows[:1]  # a duplicate primary key: the insert fails mid-transaction

    monkeypatch.setattr(respondents, "_answer_rows", duplicated_rows)
    response = person.post("/survey/check", {})
    assert response.status_code == 500
    db.session.expire_all()
    after = counts()
    assert after["responses"] == 0 and after["answers"] == 0 and after["used"] == 0
    assert after["drafts"] == 1, "the draft survives, so the person can try again"

    monkeypatch.setattr(respondents, "_answer_rows", real_rows)
    assert person.post("/survey/check", {}).status_code == 302
    assert counts()["responses"] == 1


# ---------------------------------------------------------------- anonymity


def test_no_column_links_a_response_to_an_invitation_or_a_time(app):
    inspector = inspect(db.engine)
    for table in ("responses", "answers", "comments"):
        for fk in inspector.get_foreign_keys(table):
            assert fk["referred_table"] not in ("invitations", "drafts", "users"), (table, fk)
        for column in inspector.get_columns(table):
            assert not isinstance(column["type"], (DateTime, Date, Time)), (table, column)
            assert "token" not in column["name"] and "invitation" not in column["name"]
    used_on = next(c for c in inspector.get_columns("invitations") if c["name"] == "used_on")
    assert isinstance(used_on["type"], Date) and not isinstance(used_on["type"], DateTime)


def test_response_keys_are_random_not_sequential(app, factory):
    wave = factory.wave()
    tokens = factory.tokens(wave, n=3)
    for token in tokens:
        person = Respondent(app.test_client(), token)
        complete_all_sections(person)
        assert person.post("/survey/check", {}).status_code == 302
    ids = [uuid.UUID(str(i)) for i in db.session.scalars(select(Response.id))]
    assert len(ids) == 3
    assert all(i.version == 4 for i in ids)
    assert len({i.int >> 64 for i in ids}) == 3


def test_tokens_are_stored_only_as_hashes(app, factory):
    wave = factory.wave()
    (token,) = factory.tokens(wave)
    import hashlib

    link = db.session.scalar(select(InvitationLink))
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    for model in (Invitation, InvitationLink):
        stored = db.session.scalar(select(model))
        assert token not in repr([getattr(stored, c.key) for c in inspect(model).columns])
    assert len(token) >= 22, "at least 128 bits of randomness, URL-safe"


def test_access_logs_never_hold_a_survey_token(app, client, factory, caplog):
    wave = factory.wave()
    (token,) = factory.tokens(wave)
    from survey_app import RedactSurveyTokens

    for name in ("werkzeug", "gunicorn.access"):
        logger = logging.getLogger(name)
        assert any(isinstance(f, RedactSurveyTokens) for f in logger.filters), name
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        logging.getLogger("werkzeug").info(
            '127.0.0.1 - - "%s" %s -', f"GET /s/{token} HTTP/1.1", 302
        )
    with caplog.at_level(logging.INFO, logger="gunicorn.access"):
        logging.getLogger("gunicorn.access").info(
            "%(r)s %(s)s", {"r": f"GET /s/{token} HTTP/1.1", "s": "302"}
        )
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert token not in logged
    assert logged.count("/s/[redacted]") == 2
