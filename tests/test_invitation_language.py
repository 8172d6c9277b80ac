"""The respondent's language from the invitation, and emails in it (issue 17): a staff list's
language column and ``relhealth invite --language`` put it on the address list and the link,
which opens the survey in it; the response never holds it. Emails (invitation, reminder, the
account links) go in the recipient's language, or in both, Welsh first where ``WELSH_FIRST``."""

from __future__ import annotations

import csv
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from survey_app.dates import end_of_day
from survey_app.extensions import db
from survey_app.models import Answer, InvitationAddress, Response
from survey_app.services.accounts.sign_in import ensure_user
from tests.factories import (
    LINK,
    PASSWORD,
    Respondent,
    assert_form_error,
    count,
    csrf_token,
    get_wave,
    sections_of,
    staff_csv,
    submit,
    upload,
)
from tests.job_support import send_round_now
from tests.smtp_mailbox import serving

HEADER = ("email", "party", "service area", "language")


def path_of(link: str) -> str:
    """The link as the test client opens it (on its own host, where its cookie is)."""
    return link.removeprefix("http://survey.test")


def test_a_staff_list_keeps_each_persons_language_and_blank_is_not_known(admin, factory):
    wave = factory.wave(factory.relationship())
    rows = [
        ("ann@council.example", "client", "", "cy"),
        ("bob@council.example", "client", "", "Cymraeg"),
        ("cat@council.example", "client", "", " English "),
        ("dan@supplier.example", "supplier", "", ""),
    ]
    assert upload(admin, wave.id, staff_csv(rows, header=HEADER)).status_code == 200
    stored = db.session.execute(
        select(InvitationAddress.email, InvitationAddress.language).order_by(InvitationAddress.id)
    ).all()
    assert stored == [
        ("ann@council.example", "cy"),
        ("bob@council.example", "cy"),
        ("cat@council.example", "en"),
        ("dan@supplier.example", None),
    ]


def test_a_language_the_survey_does_not_offer_is_refused_naming_the_row(admin, factory):
    wave = factory.wave(factory.relationship())
    rows = [
        ("ann@council.example", "client", "", "cy"),
        ("bob@council.example", "client", "", "fr"),
    ]
    response = upload(admin, wave.id, staff_csv(rows, header=HEADER))
    assert response.status_code == 400
    assert_form_error(
        response,
        "Row 3, column D (language): ‘fr’ is not a language the survey offers: use en (English) "
        "or cy (Welsh), or leave it blank",
    )
    assert count(InvitationAddress) == 0  # all or nothing


def test_the_mail_merge_link_of_a_welsh_row_opens_the_survey_in_welsh(app, admin, factory):
    wave = factory.wave(factory.relationship())
    rows = [("ann@council.example", "client", "", "cy"), ("bob@council.example", "client", "", "")]
    upload(admin, wave.id, staff_csv(rows, header=HEADER))
    path = f"/admin/waves/{wave.id}/invitations/mail-merge"
    response = submit(admin, path, page=f"/admin/waves/{wave.id}/invitations")
    body = response.get_data(as_text=True).lstrip("\ufeff")
    links = {r["email"]: r["link"] for r in csv.DictReader(body.splitlines())}
    languages = {r["email"]: r["language"] for r in csv.DictReader(body.splitlines())}
    assert languages == {"ann@council.example": "cy", "bob@council.example": ""}
    assert links["ann@council.example"].endswith("?lang=cy")
    assert LINK.fullmatch(links["bob@council.example"])  # not known: the reader's choice

    welsh = app.test_client()
    start = welsh.get(path_of(links["ann@council.example"]), follow_redirects=True)
    assert '<html lang="cy"' in start.get_data(as_text=True)
    english = app.test_client()
    start = english.get(path_of(links["bob@council.example"]), follow_redirects=True)
    assert '<html lang="en"' in start.get_data(as_text=True)


def test_invite_with_language_writes_links_that_open_in_welsh(app, factory, runner, tmp_path):
    wave = factory.wave(factory.relationship())
    rel = wave.relationship
    out = tmp_path / "links.csv"
    result = runner.invoke(
        args=["invite", rel.name, wave.label, "--side", "client", "-n", "2", "--language", "cy",
              "-o", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8-sig") as handle:
        links = [row["link"] for row in csv.DictReader(handle)]
    assert len(links) == 2 and all(link.endswith("?lang=cy") for link in links)
    refused = runner.invoke(
        args=["invite", rel.name, wave.label, "--side", "client", "-n", "1", "--language", "fr",
              "-o", str(tmp_path / "fr.csv")],
    )  # fmt: skip
    assert refused.exit_code == 2 and "'fr' is not one of 'en', 'cy'" in refused.output

    client = app.test_client()
    token = LINK.search(links[0]).group(1)
    person = Respondent(client, token)
    page = client.get(path_of(links[0]), follow_redirects=True).get_data(as_text=True)
    assert '<html lang="cy"' in page
    person.answer_about()
    # the respondent can still switch
    page = client.get("/survey/section/1?lang=en").get_data(as_text=True)
    assert '<html lang="en"' in page


def test_a_response_has_nowhere_to_keep_a_language() -> None:
    columns = {c.name for c in Response.__table__.columns}
    assert not any(re.search("lang", name) for name in columns), columns


# ------------------------------------------------------------------ emails in their language


@pytest.fixture
def mailbox(app):  # type: ignore[no-untyped-def]
    with serving(app) as box:
        yield box


def body_of(received) -> str:  # type: ignore[no-untyped-def]
    """The message's text, with the line ends as written (mail carries CRLF)."""
    return received.body.replace("\r\n", "\n")


def wave_with_list(admin, factory, rows):  # type: ignore[no-untyped-def]
    wave = factory.wave(factory.relationship())
    wave.closes_at = end_of_day(date(2036, 12, 3))  # the last day answers are taken
    db.session.commit()
    wave_id = wave.id
    assert upload(admin, wave_id, staff_csv(rows, header=HEADER)).status_code == 200
    return get_wave(wave_id)


def test_a_welsh_invitation_opens_the_survey_in_welsh_which_completes_storing_no_language(
    app, admin, factory, mailbox
):
    wave = wave_with_list(admin, factory, [("ann@council.example", "client", "", "cy")])
    assert send_round_now(wave.id, "invitations")["sent"] == 1
    (received,) = mailbox.to("ann@council.example")
    subject, body = received.message["Subject"], body_of(received)
    assert subject == "Cymerwch ran: Arolwg iechyd partneriaeth (2024-Q1)"
    assert body.startswith("Annwyl gydweithiwr,\n\nFe’ch gwahoddir i ateb “Arolwg iechyd ")
    assert "fel aelod o staff Test Council" in body and "â Test Supplier" in body
    assert "Mae’r arolwg yn cau ar 3 Rhagfyr 2036." in body
    assert "Dear colleague" not in body and "Your personal link" not in body
    (link,) = LINK.findall(body)
    assert f"/s/{link}?lang=cy" in body

    client = app.test_client()
    person = Respondent(client, received.token)
    start = client.get(path_of(f"http://survey.test/s/{link}?lang=cy"), follow_redirects=True)
    assert '<html lang="cy"' in start.get_data(as_text=True)
    person.answer_about()
    for number in range(1, sections_of(wave) + 1):
        page = client.get(f"/survey/section/{number}").get_data(as_text=True)
        assert '<html lang="cy"' in page and f"Adran {number} o " in page
        assert person.answer_section(number, "4").status_code == 302
    check = client.get("/survey/check").get_data(as_text=True)
    assert "Gwiriwch eich atebion cyn eu cyflwyno" in check
    done = client.post("/survey/check", data={"csrf_token": csrf_token(check)})
    finished = client.get(done.location).get_data(as_text=True)
    assert "Arolwg wedi’i gyflwyno" in finished

    assert db.session.scalar(select(func.count()).select_from(Response)) == 1
    stored = [
        *db.session.execute(select(Response)).scalars(),
        *db.session.execute(select(Answer)).scalars(),
    ]
    for row in stored:  # nothing kept with the response says which language it was given in
        values = [getattr(row, c.name) for c in type(row).__table__.columns]
        assert "cy" not in values and "Cymraeg" not in values


def test_a_welsh_reminder_is_in_welsh_and_its_new_link_opens_in_welsh(admin, factory, mailbox):
    wave = wave_with_list(admin, factory, [("ann@council.example", "client", "", "Welsh")])
    send_round_now(wave.id, "invitations")
    mailbox.clear()
    assert send_round_now(wave.id, "reminders")["sent"] == 1
    (received,) = mailbox.received
    subject = received.message["Subject"]
    assert (
        subject
        == "Nodyn atgoffa: mae “Arolwg iechyd partneriaeth” (2024-Q1) yn cau ar 3 Rhagfyr 2036"
    )
    assert "Eich dolen bersonol newydd:" in body_of(received) and "Dear colleague" not in body_of(
        received
    )
    assert body_of(received).count("?lang=cy") == 1


def bilingual(app, admin, factory, mailbox, welsh_first: bool) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    app.config["WELSH_FIRST"] = welsh_first
    wave = wave_with_list(admin, factory, [("dan@supplier.example", "supplier", "", "")])
    send_round_now(wave.id, "invitations")
    (received,) = mailbox.received
    assert len(LINK.findall(body_of(received))) == 1  # one link, under both languages' words
    assert "?lang=" not in body_of(received)  # not known: the reader chooses
    return received.message["Subject"], body_of(received)


def test_an_invitation_in_no_known_language_is_bilingual_english_first(
    app, admin, factory, mailbox
):
    subject, body = bilingual(app, admin, factory, mailbox, welsh_first=False)
    assert subject == (
        "Please take part: Partnership health survey (2024-Q1) / "
        "Cymerwch ran: Arolwg iechyd partneriaeth (2024-Q1)"
    )
    english, welsh = body.index("Dear colleague,"), body.index("Annwyl gydweithiwr,")
    assert english == 0 < welsh
    assert "Your personal link:\nEich dolen bersonol:\n\nhttp://survey.test/s/" in body
    assert "The survey closes on 3 December 2036." in body
    assert "Mae’r arolwg yn cau ar 3 Rhagfyr 2036." in body


def test_welsh_first_puts_the_welsh_of_a_bilingual_email_first(app, admin, factory, mailbox):
    subject, body = bilingual(app, admin, factory, mailbox, welsh_first=True)
    assert subject.startswith("Cymerwch ran: Arolwg iechyd partneriaeth (2024-Q1) / Please")
    assert body.startswith("Annwyl gydweithiwr,") and body.index("Dear colleague,") > 0
    assert "Eich dolen bersonol:\nYour personal link:\n\n" in body


def test_account_emails_are_bilingual_or_in_the_language_the_reset_was_asked_in(
    app, factory, mailbox
):
    app.config["SERVICE_NAME_CY"] = "Iechyd Perthynas"
    ensure_user("p@council.example", name="Pat", role="manager", password=PASSWORD)
    db.session.commit()
    browser = app.test_client()
    page = browser.get("/sign-in/forgotten?lang=cy").get_data(as_text=True)
    browser.post(
        "/sign-in/forgotten", data={"csrf_token": csrf_token(page), "email": "p@council.example"}
    )
    (welsh,) = mailbox.to("p@council.example")
    assert welsh.message["Subject"] == "Ailosod eich cyfrinair Iechyd Perthynas"
    assert body_of(welsh).startswith("Annwyl Pat,\n\nMae rhywun wedi gofyn am ailosod cyfrinair")
    assert "Hello" not in body_of(welsh)

    mailbox.clear()
    english = app.test_client()  # never chose a language: both
    page = english.get("/sign-in/forgotten").get_data(as_text=True)
    english.post(
        "/sign-in/forgotten", data={"csrf_token": csrf_token(page), "email": "p@council.example"}
    )
    (both,) = mailbox.received
    assert both.message["Subject"] == (
        "Reset your Relationship Health password / Ailosod eich cyfrinair Iechyd Perthynas"
    )
    assert body_of(both).index("Hello Pat,") == 0 < body_of(both).index("Annwyl Pat,")
    assert body_of(both).count("/account/link/") == 1
