"""A wave's invitation and reminder texts (issue 13, item 5): edited on an admin page (each
save a new version, audited; a form error saves nothing), used by the rounds and the batches in
each person's language and side, previewed by the code that sends; the survey team named on
the respondent's error pages; an earlier email's link asks for the latest email's.

Emails are received by a real SMTP server (tests/smtp_mailbox.py)."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from sqlalchemy import select

from survey_app.dates import end_of_day
from survey_app.extensions import db
from survey_app.models import AuditEvent, WaveEmailTexts
from survey_app.services import jobs, mailing
from survey_app.services.mailing import rounds
from survey_app.services.mailing.texts import (
    PLACEHOLDERS,
    body_problems,
    email_texts,
    fill_body,
    subject_problems,
)
from tests.factories import (
    LINK,
    Respondent,
    assert_form_error,
    count,
    csrf_token,
    get_wave,
    sections_of,
    staff_csv,
    text,
    upload,
)
from tests.job_support import Killed, expire_lease, fresh, open_wave_with_staff, sweep
from tests.job_support import submit as submit_job

HEADER = ("email", "party", "service area", "language")
TEAM = "Partnership Survey Team"


def page_of(wave_id: int) -> str:
    return f"/admin/waves/{wave_id}/emails"


def form_values(admin, wave_id: int, **changes: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The edit page's fields as it fills them in (the current texts), with ``changes``."""
    html = text(admin.get(page_of(wave_id)))
    values = {"csrf_token": csrf_token(html)}
    wave = get_wave(wave_id)
    texts = email_texts(wave)
    values.update(
        sender_name=texts.sender_name or "Relationship Health",
        team_email=texts.team_email or "",
        team_phone=texts.team_phone or "",
    )
    for code in ("en", "cy"):
        wording = texts.wording(code, closes=wave.closes_at is not None)
        values[f"team_{code}"] = wording.team or ""
        for kind in ("invitation", "reminder"):
            values[f"{kind}_subject_{code}"] = wording.subject(kind)
            values[f"{kind}_body_{code}"] = wording.body(kind)
    values.update(changes)
    return values


def save(admin, wave_id: int, **changes: str):  # type: ignore[no-untyped-def]
    return admin.post(page_of(wave_id), data=form_values(admin, wave_id, **changes))


WITH_TEAM = {
    "team_en": TEAM,
    "team_cy": "Tîm yr Arolwg Partneriaeth",
    "team_email": "survey@council.example",
    "team_phone": "01632 960 001",
}


def run_round(wave_id: int, kind: str) -> None:
    """A round of ``kind`` sent by its job (the test queue runs it as it is submitted)."""
    parameters = {"wave_id": wave_id, "kind": kind}
    job_id = submit_job(
        "mail.round", parameters, key=jobs.idempotency_key("mail.round", parameters)
    )
    assert fresh(job_id).state == "succeeded", fresh(job_id).error


# ================================================================== placeholders, the rules


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("Dear colleague,\n\nPlease answer.", "Add {link} to the text"),
        ("Hello\n\n{link}\n\n{link}", "Use {link} once only"),
        ("Your link: {link}", "Put {link} on a line of its own"),
        ("Hello {name},\n\n{link}", "‘{name}’ is not a placeholder you can use"),
        ("Hello {Survey}\n\n{link}", "‘{Survey}’ is not a placeholder you can use"),
        ("   ", "Enter the text of the email"),
        ("Hi\x00link\x00\n\n{link}", "Remove the control characters"),
    ],
)
def test_a_body_without_the_link_or_with_an_unknown_placeholder_is_refused(app, body, problem):
    with app.test_request_context():
        assert body_problems(body)[0].startswith(problem)


def test_subjects_are_one_line_without_the_link(app):
    with app.test_request_context():
        assert subject_problems("Survey {link}")[0].startswith("The subject cannot hold")
        assert subject_problems("One\ntwo")[0] == "The subject must be one line"
        assert subject_problems("About {closing_date} and {wave}") == []
        assert subject_problems("x" * 151)[0].startswith("The subject must be 150")


def test_a_paragraph_naming_a_value_the_wave_lacks_is_left_out():
    body = "Hello,\n\nIt closes on {closing_date}.\n\n{link}\n\nAsk {team}."
    values = {"link": "L", "closing_date": None, "team": "Us"}
    assert fill_body(body, values) == ["Hello,", "L", "Ask Us."]
    # ...but the link's paragraph always stays, the missing value left blank
    assert fill_body("Until {closing_date}:\n{link}", values) == ["Until :\nL"]


def test_every_default_text_uses_only_known_placeholders_and_passes_its_own_checks(app, factory):
    wave = factory.wave(factory.relationship())
    with app.test_request_context():
        for closes in (False, True):
            wave.closes_at = end_of_day(date(2036, 12, 3)) if closes else None
            for code, wording in mailing.texts.default_texts(wave).wordings.items():
                for kind in ("invitation", "reminder"):
                    assert subject_problems(wording.subject(kind)) == [], (code, kind)
                    assert body_problems(wording.body(kind)) == [], (code, kind)
    assert set(PLACEHOLDERS) >= {"link", "closing_date", "team", "team_contact", "party"}


# ===================================================================== the edit page


def test_nothing_edited_sends_todays_texts_with_no_team(admin, factory, mailbox):
    wave_id = open_wave_with_staff(admin, factory)
    run_round(wave_id, "invitations")
    ann = mailbox.to("ann@council.example")[0]
    assert "as a member of staff of Test Council" in ann.body
    assert "If you have any questions" not in ann.body  # no team given: the paragraph goes
    assert email_texts(get_wave(wave_id)).version == 0


def test_an_edited_text_is_sent_per_side_with_the_team_and_sender(admin, factory, mailbox):
    wave_id = open_wave_with_staff(admin, factory)
    body = (
        "Hello from {team} to {party} ({relationship}),\n\nTell us about {partner}.\n\n"
        "Your link:\n{link}\n\nQuestions? {team_contact}\n\n{sender}"
    )
    saved = save(
        admin,
        wave_id,
        sender_name="Council survey team",
        invitation_subject_en="Have your say on {partner}",
        invitation_body_en=body,
        **WITH_TEAM,
    )
    assert saved.status_code == 302, text(saved)
    assert saved.location == f"/admin/waves/{wave_id}/emails/preview"
    run_round(wave_id, "invitations")
    ann, eve = mailbox.to("ann@council.example")[0], mailbox.to("eve@supplier.example")[0]
    # no language on the staff list: both languages, the Welsh left as it was
    assert ann.message["Subject"].startswith("Have your say on Test Supplier / Cymerwch ran: ")
    assert eve.message["Subject"].startswith("Have your say on Test Council / ")
    assert ann.message["From"] == "Council survey team <relationship-health@council.example>"
    assert ann.body.replace("\r\n", "\n").startswith(
        f"Hello from {TEAM} to Test Council (Test Council — Test Supplier),"
    )
    assert "Questions? survey@council.example, 01632 960 001" in ann.body
    assert "Tell us about Test Council." in eve.body
    assert LINK.search(ann.body) and len(LINK.findall(ann.body)) == 1
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "wave.email_texts"))
    assert event.detail == {"wave": wave_id, "version": 1}
    round_event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "invitations.round")
    )
    assert round_event.detail["texts_version"] == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"invitation_body_en": "Hello, no link here"}, "Add {link} to the text"),
        ({"reminder_body_cy": "Helo {enw}\n\n{link}"}, "‘{enw}’ is not a placeholder"),
        ({"invitation_subject_en": "Your link {link}"}, "The subject cannot hold the link"),
        ({"team_en": ""}, "Enter the survey team’s name"),
        ({"team_email": "", "team_phone": ""}, "Enter the survey team’s email address or phone"),
        ({"team_email": "not an address"}, "Enter the email address in the right format"),
        ({"sender_name": ""}, "Enter the sender’s name"),
    ],
)
def test_a_form_error_is_shown_and_saves_nothing(admin, factory, changes, message):
    wave_id = open_wave_with_staff(admin, factory)
    response = save(admin, wave_id, **{**WITH_TEAM, **changes})
    assert_form_error(response, message)
    assert count(WaveEmailTexts) == 0
    assert (
        db.session.scalar(select(AuditEvent).where(AuditEvent.action == "wave.email_texts")) is None
    )


def test_each_save_is_a_new_version_and_a_round_keeps_the_one_it_started_with(
    app, admin, factory, mailbox, woken, monkeypatch
):
    wave_id = open_wave_with_staff(admin, factory)
    first = save(admin, wave_id, invitation_subject_en="First words", **WITH_TEAM)
    assert first.status_code == 302
    real, calls = rounds.deliver, []

    def deliver_then_die(smtp, message):  # type: ignore[no-untyped-def]
        calls.append(real(smtp, message))
        if len(calls) == 2:
            raise Killed  # the worker dies mid-round...
        return calls[-1]

    monkeypatch.setattr(rounds, "deliver", deliver_then_die)
    parameters = {"wave_id": wave_id, "kind": "invitations"}
    key = jobs.idempotency_key("mail.round", parameters)
    job_id = submit_job("mail.round", parameters, key=key)
    with pytest.raises(Killed):
        jobs.run_job(job_id, owner="dead")
    db.session.rollback()
    # ...an admin saves new words meanwhile: a new version, the first kept as it was...
    second = save(admin, wave_id, invitation_subject_en="Second words", **WITH_TEAM)
    assert second.status_code == 302
    assert [r.version for r in db.session.scalars(select(WaveEmailTexts))] == [1, 2]
    # ...and the resumed round still says what it started with, to everybody
    expire_lease(job_id)
    assert sweep(app).requeued == (job_id,)
    assert jobs.run_job(job_id) == "succeeded"
    subjects = {r.message["Subject"].split(" / ")[0] for r in mailbox.received}
    assert subjects == {"First words"} and len(mailbox.received) == 6  # 5, one twice
    assert email_texts(get_wave(wave_id)).version == 2
    audit = db.session.scalars(
        select(AuditEvent.detail).where(AuditEvent.action == "wave.email_texts")
    ).all()
    assert [d["version"] for d in audit] == [1, 2]


def test_a_closed_wave_s_emails_cannot_be_changed(admin, factory):
    wave = factory.wave(factory.relationship(), state="closed")
    response = save(admin, wave.id, **WITH_TEAM)
    assert_form_error(response, "This wave is closed")
    assert count(WaveEmailTexts) == 0


# ================================================================== languages, reminders


def welsh_wave(admin, factory) -> int:  # type: ignore[no-untyped-def]
    wave = factory.wave(factory.relationship())
    wave.closes_at = end_of_day(date(2036, 12, 3))
    db.session.commit()
    rows = [
        ("ann@council.example", "client", "", "cy"),
        ("bob@council.example", "client", "", "en"),
        ("dan@supplier.example", "supplier", "", ""),
    ]
    assert upload(admin, wave.id, staff_csv(rows, header=HEADER)).status_code == 200
    return wave.id


def test_each_language_gets_its_own_edited_text_and_the_unknown_get_both(
    app, admin, factory, mailbox
):
    wave_id = welsh_wave(admin, factory)
    saved = save(
        admin,
        wave_id,
        reminder_subject_en="Last call: {survey} closes {closing_date}",
        reminder_subject_cy="Cyfle olaf: mae {survey} yn cau {closing_date}",
        reminder_body_en="Please answer, {party}.\n\nNew link:\n\n{link}\n\nAsk {team}.",
        reminder_body_cy="Atebwch os gwelwch yn dda, {party}.\n\nDolen newydd:\n\n{link}\n\nGofynnwch i {team}.",
        **WITH_TEAM,
    )
    assert saved.status_code == 302, text(saved)
    run_round(wave_id, "invitations")
    mailbox.clear()
    run_round(wave_id, "reminders")  # reminders use the edited text too
    ann = mailbox.to("ann@council.example")[0]
    bob = mailbox.to("bob@council.example")[0]
    dan = mailbox.to("dan@supplier.example")[0]
    assert (
        ann.message["Subject"] == "Cyfle olaf: mae Arolwg iechyd partneriaeth yn cau 3 Rhagfyr 2036"
    )
    assert "Gofynnwch i Tîm yr Arolwg Partneriaeth." in ann.body and "Ask" not in ann.body
    assert bob.message["Subject"] == "Last call: Partnership health survey closes 3 December 2036"
    assert f"Ask {TEAM}." in bob.body and "Gofynnwch" not in bob.body
    both = dan.body.replace("\r\n", "\n")
    assert (
        dan.message["Subject"].startswith("Last call: ")
        and " / Cyfle olaf: " in dan.message["Subject"]
    )
    assert "New link:\nDolen newydd:\n\nhttp://survey.test/s/" in both  # the link once
    assert len(LINK.findall(both)) == 1
    assert both.index("Please answer, Test Supplier.") < both.index("Atebwch os gwelwch")


def test_a_subject_needing_a_closing_date_the_wave_lacks_falls_back_to_the_default(
    admin, factory, mailbox
):
    wave_id = open_wave_with_staff(admin, factory)  # no closing time
    saved = save(admin, wave_id, invitation_subject_en="Closes {closing_date}", **WITH_TEAM)
    assert saved.status_code == 302
    run_round(wave_id, "invitations")
    assert (
        mailbox.to("ann@council.example")[0]
        .message["Subject"]
        .startswith("Please take part: Partnership health survey (2024-Q1) / ")
    )


# ========================================================================== the preview


def test_the_preview_shows_each_side_and_language_as_sent_with_a_sample_link(
    app, admin, factory, mailbox
):
    wave_id = welsh_wave(admin, factory)
    assert save(admin, wave_id, sender_name="Tîm yr arolwg", **WITH_TEAM).status_code == 302
    preview = f"/admin/waves/{wave_id}/emails/preview"
    client_en = text(admin.get(preview))
    assert "as a member of staff of Test Council" in client_en
    assert "Tîm yr arolwg &lt;relationship-health@council.example&gt;" in client_en
    supplier_cy = text(admin.get(f"{preview}?kind=reminder&side=supplier&language=cy"))
    assert "fel aelod o staff Test Supplier" in supplier_cy and "Dear colleague" not in supplier_cy
    both = text(admin.get(f"{preview}?language=both"))
    assert "Dear colleague" in both and "Annwyl gydweithiwr" in both
    # the very text a person of that side receives, but for the link
    run_round(wave_id, "invitations")
    dan = mailbox.to("dan@supplier.example")[0].body.replace("\r\n", "\n")
    shown = mailing.preview_email(get_wave(wave_id), "invitation", "supplier", None)
    assert LINK.sub("LINK", shown.body) == LINK.sub("LINK", dan)
    sample = LINK.search(shown.body).group(1)
    assert app.test_client().get(f"/s/{sample}").status_code == 404  # opens no survey
    assert admin.get(f"{preview}?side=nobody").status_code == 404


# =============================================================== the respondent's pages


def test_the_error_pages_name_the_waves_survey_team_and_nothing_about_the_person(
    app, admin, factory
):
    wave = factory.wave(factory.relationship())
    wave_id = wave.id
    (token,) = factory.tokens(wave)
    assert save(admin, wave_id, **WITH_TEAM).status_code == 302
    person = Respondent(app.test_client(), token)
    assert person.complete(sections_of(get_wave(wave_id))).status_code == 302
    again = app.test_client().get(f"/s/{token}")
    assert again.status_code == 409
    page = text(again)
    assert f"contact {TEAM}: survey@council.example, 01632 960 001." in page
    unknown = text(app.test_client().get("/s/no-such-link-at-all"))
    assert TEAM not in unknown  # an unknown link names no wave
    assert "contact the survey team named in your invitation" in unknown
    welsh = text(app.test_client().get(f"/s/{token}?lang=cy"))
    assert "Tîm yr Arolwg Partneriaeth" in welsh


def test_an_earlier_emails_link_asks_for_the_latest_and_still_works(app, admin, factory, mailbox):
    wave_id = open_wave_with_staff(admin, factory)
    assert save(admin, wave_id, **WITH_TEAM).status_code == 302
    run_round(wave_id, "invitations")
    first = mailbox.to("bob@council.example")[0].token
    mailbox.clear()
    run_round(wave_id, "reminders")
    latest = mailbox.to("bob@council.example")[0].token

    browser = app.test_client()
    opened = browser.get(f"/s/{first}")
    assert opened.headers["Location"] == "/survey/replaced"
    page = text(browser.get("/survey/replaced"))
    assert "Use the link in your latest email" in page
    assert f"contact {TEAM}" in page
    assert 'href="/survey/"' in page  # it still works: carry on with it
    assert browser.get("/survey/").status_code == 200
    # the latest link goes straight in, and a used invitation is "completed" through either
    assert app.test_client().get(f"/s/{latest}").headers["Location"] == "/survey/"
    welsh = app.test_client()
    welsh.get(f"/s/{first}?lang=cy")
    assert "Defnyddiwch y ddolen yn eich e-bost diweddaraf" in text(welsh.get("/survey/replaced"))


def test_the_mail_merge_file_carries_each_persons_email_with_their_own_link(admin, factory):
    wave_id = welsh_wave(admin, factory)
    assert (
        save(admin, wave_id, invitation_subject_cy="Dewch: {survey}", **WITH_TEAM).status_code
        == 302
    )
    invitations = f"/admin/waves/{wave_id}/invitations"
    response = admin.post(
        f"{invitations}/mail-merge", data={"csrf_token": csrf_token(text(admin.get(invitations)))}
    )
    rows = {r["email"]: r for r in csv.DictReader(io.StringIO(text(response).lstrip("\ufeff")))}
    ann = rows["ann@council.example"]
    assert ann["subject"] == "Dewch: Arolwg iechyd partneriaeth"
    assert ann["link"] in ann["message"] and ann["message"].count("http://survey.test/s/") == 1
    assert "cysylltwch â Tîm yr Arolwg Partneriaeth" in ann["message"]
    dan = rows["dan@supplier.example"]
    assert "Dear colleague" in dan["message"] and "Annwyl gydweithiwr" in dan["message"]
    assert dan["link"] in dan["message"]


def test_answers_saved_with_the_latest_link_are_pointed_to_from_an_earlier_one(
    app, admin, factory, mailbox
):
    wave_id = open_wave_with_staff(admin, factory)
    run_round(wave_id, "invitations")
    first = mailbox.to("bob@council.example")[0].token
    mailbox.clear()
    run_round(wave_id, "reminders")
    latest = Respondent(app.test_client(), mailbox.to("bob@council.example")[0].token)
    latest.open()
    assert latest.answer_about().status_code == 302  # saved under the latest link

    elsewhere = app.test_client()
    assert elsewhere.get(f"/s/{first}").headers["Location"] == "/survey/replaced"
    page = text(elsewhere.get("/survey/replaced"))
    assert "You have saved some answers with another of your links" in page
    start = text(elsewhere.get("/survey/"))
    assert "open the link in your latest email in the browser where you saved them" in start
    assert "using the link in an earlier email" not in start
