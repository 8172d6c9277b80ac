"""The respondent's language from the invitation (issue 17): a staff list's language column and
``relhealth invite --language`` put it on the address list and the link, which opens the survey
in it; the response never holds it."""

from __future__ import annotations

import csv
import re

from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import InvitationAddress, Response
from tests.factories import (
    LINK,
    Respondent,
    assert_form_error,
    count,
    staff_csv,
    submit,
    upload,
)

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
