"""The admin pages through the test client: each page renders, each form's bad input gives its
GOV.UK error and changes nothing, and each change is audited (never with a token or an address).

The end-to-end flow with a real SMTP server is in tests/test_mailing.py.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from survey_app.dates import gov_uk_date
from survey_app.extensions import db
from survey_app.models import (
    AuditEvent,
    Draft,
    Invitation,
    InvitationAddress,
    Relationship,
    Response,
    ResultTable,
    ServiceArea,
    Wave,
)
from tests.factories import (
    LINK,
    Rel,
    Respondent,
    assert_form_error,
    audit_actions,
    count,
    date_fields,
    get_wave,
    new_wave,
    new_wave_by_page,
    no_secrets_in_the_audit_log,
    sections_of,
    sign_in,
    snapshot,
    staff_csv,
    submit,
    summary_links,
    text,
    upload,
)


@pytest.fixture
def rel(factory) -> Rel:  # type: ignore[no-untyped-def]
    return snapshot(factory.relationship())


# ------------------------------------------------------------------------- every page renders


def test_every_admin_page_renders_for_an_admin(admin, factory, rel):
    draft = new_wave(factory, rel, "2024-Q1", "draft")
    open_ = new_wave(factory, rel, "2024-Q2", "open")
    closed = new_wave(factory, rel, "2023-Q4", "closed")
    area = rel.area_ids[0]
    pages = {
        "/admin/": "Administration",
        "/admin/relationships/new": "Create a relationship",
        f"/admin/relationships/{rel.id}/": rel.name,
        f"/admin/relationships/{rel.id}/edit": "Change the relationship",
        f"/admin/relationships/{rel.id}/areas/new": "Add a service area",
        f"/admin/relationships/{rel.id}/areas/{area}/edit": f"Rename {rel.area_names[0]}",
        f"/admin/relationships/{rel.id}/areas/{area}/delete": "Delete the service area",
        f"/admin/relationships/{rel.id}/waves/new": "Create a wave",
        f"/admin/waves/{draft}/": '(<a class="govuk-link" href="/admin/instruments/',
        f"/admin/waves/{open_}/": "Close wave 2024-Q2",
        f"/admin/waves/{closed}/": "This wave is closed",
        f"/admin/waves/{open_}/closing-date": "Change the schedule",
        f"/admin/waves/{open_}/close": "Are you sure you want to close wave 2024-Q2?",
        f"/admin/waves/{closed}/close": "only an open wave can be closed",
        f"/admin/waves/{draft}/staff-list": "Upload a staff list",
        f"/admin/waves/{open_}/invitations": "Invitations and reminders",
        f"/admin/waves/{open_}/responses": "Response rates",
        "/admin/instruments/": "partnership-health",
        "/admin/instruments/partnership-health/v1/client/": "Start the preview",
        "/admin/instruments/partnership-health/v1/supplier/1": "This is a preview of what supplier staff see",
    }
    for path, expected in pages.items():
        response = admin.get(path)
        assert response.status_code == 200, path
        html = text(response)
        assert expected in html, path
        assert "<title>Error" not in html, path


def test_unknown_things_are_404(admin, factory, rel):
    other = snapshot(factory.relationship("Other Council — Other Supplier", areas=["Elsewhere"]))
    for path in (
        "/admin/relationships/999999/",
        "/admin/waves/999999/",
        f"/admin/relationships/{rel.id}/areas/{other.area_ids[0]}/edit",
        "/admin/instruments/partnership-health/v99/client/",
        "/admin/instruments/partnership-health/v1/council/",
        "/admin/instruments/partnership-health/v1/client/99",
    ):
        assert admin.get(path).status_code == 404, path


def test_the_admin_pages_are_for_admins_only(app, factory, rel):
    wave = new_wave(factory, rel)
    manager = sign_in(app, "manager")
    assert manager.get("/admin/").status_code == 403
    assert manager.get(f"/admin/relationships/{rel.id}/").status_code == 403
    # the response-rate monitor is for managers too
    assert manager.get(f"/admin/waves/{wave}/responses").status_code == 200
    reviewer = sign_in(app, "reviewer")
    assert reviewer.get(f"/admin/waves/{wave}/responses").status_code == 403


# ------------------------------------------------------------------------------ relationships


def test_an_admin_creates_a_relationship_with_its_areas(admin):
    response = submit(
        admin,
        "/admin/relationships/new",
        {
            "name": "Sheffield City Council — Capita",
            "client": "Sheffield City Council",
            "supplier": "Capita",
            "service_areas": "Revenues\nContact centre\n\n",
        },
    )
    assert response.status_code == 302
    created = db.session.scalar(select(Relationship))
    assert created.name == "Sheffield City Council — Capita"
    assert [a.key for a in created.service_areas] == ["revenues", "contact-centre"]
    assert response.headers["Location"] == f"/admin/relationships/{created.id}/"
    page = text(admin.get(response.headers["Location"]))
    heading = '<p class="govuk-notification-banner__heading">'
    assert f"{heading}Relationship Sheffield City Council — Capita created</p>" in page
    assert "relationship.create" in audit_actions()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "client": "A", "supplier": "B"}, "Enter the name of the relationship"),
        ({"name": "A — B", "client": "", "supplier": "B"}, "Enter the name of the client"),
        (
            {"name": "A — B", "client": "A", "supplier": "A"},
            "The supplier must be a different party",
        ),
        (
            {"name": "A — B", "client": "A", "supplier": "B", "service_areas": "X\nx"},
            "Service area ‘x’ is listed twice",
        ),
        ({"name": "A" * 201, "client": "A", "supplier": "B"}, "must be 200 characters or fewer"),
        (
            {"name": "Test Council — Test Supplier", "client": "A", "supplier": "B"},
            "already exists",
        ),
    ],
)
def test_a_bad_relationship_gives_its_error_and_changes_nothing(admin, rel, data, message):
    response = submit(admin, "/admin/relationships/new", data)
    assert_form_error(response, message)
    assert count(Relationship) == 1


def test_an_admin_renames_the_relationship_and_its_parties(admin, rel):
    path = f"/admin/relationships/{rel.id}/edit"
    response = submit(
        admin, path, {"name": "New name", "client": "New Council", "supplier": "New Supplier"}
    )
    assert response.status_code == 302
    changed = rel.model()
    assert (changed.name, changed.party("client").name, changed.party("supplier").name) == (
        "New name",
        "New Council",
        "New Supplier",
    )
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "relationship.update"))
    assert event.detail == {"relationship": rel.id, "changed": ["name", "client", "supplier"]}


def test_renaming_to_another_relationships_name_is_refused(admin, factory, rel):
    factory.relationship("Taken — Name", areas=[])
    path = f"/admin/relationships/{rel.id}/edit"
    response = submit(admin, path, {"name": "Taken — Name", "client": "C", "supplier": "S"})
    assert_form_error(response, "A relationship called")
    assert rel.model().name == "Test Council — Test Supplier"


# ----------------------------------------------------------------------------- service areas


def test_areas_are_added_and_renamed_and_keep_their_key(admin, rel):
    new = submit(admin, f"/admin/relationships/{rel.id}/areas/new", {"name": "Adult social care"})
    assert new.status_code == 302
    area_id = db.session.scalar(
        select(ServiceArea.id).where(ServiceArea.name == "Adult social care")
    )
    path = f"/admin/relationships/{rel.id}/areas/{area_id}/edit"
    assert submit(admin, path, {"name": "Adults"}).status_code == 302
    db.session.expire_all()
    area = db.session.get(ServiceArea, area_id)
    assert (area.name, area.key) == ("Adults", "adult-social-care")
    assert {"service_area.add", "service_area.rename"} <= set(audit_actions())


def test_a_duplicate_or_blank_area_name_is_refused(admin, rel):
    assert_form_error(
        submit(admin, f"/admin/relationships/{rel.id}/areas/new", {"name": "core ict"}),
        "already has a service area called Core ICT",
    )
    assert_form_error(
        submit(admin, f"/admin/relationships/{rel.id}/areas/new", {"name": " "}),
        "Enter the name of the service area",
    )
    path = f"/admin/relationships/{rel.id}/areas/{rel.area_ids[1]}/edit"
    assert_form_error(
        submit(admin, path, {"name": "Core ICT"}), "already has a service area called Core ICT"
    )
    assert count(ServiceArea) == 2
    assert rel.model().service_areas[1].name == "Contact centre"


def test_an_unused_area_can_be_deleted(admin, rel):
    path = f"/admin/relationships/{rel.id}/areas/{rel.area_ids[1]}/delete"
    assert "Delete service area" in text(admin.get(path))
    assert submit(admin, path).status_code == 302
    assert db.session.get(ServiceArea, rel.area_ids[1]) is None
    assert "service_area.delete" in audit_actions()


def test_an_area_with_responses_is_never_deleted(app, admin, factory, rel):
    wave = new_wave(factory, rel)
    token = factory.tokens(get_wave(wave), "client", 1)[0]
    done = Respondent(app.test_client(), token).complete(sections_of(get_wave(wave)))
    assert done.status_code == 302
    assert count(Response) == 1  # in Core ICT, the first area
    path = f"/admin/relationships/{rel.id}/areas/{rel.area_ids[0]}/delete"
    page = text(admin.get(path))
    assert "cannot be deleted because responses are recorded against it" in page
    token_page = f"/admin/relationships/{rel.id}/areas/new"
    response = submit(admin, path, page=token_page)
    assert_form_error(response, "cannot be deleted because responses are recorded against it")
    assert db.session.get(ServiceArea, rel.area_ids[0]) is not None


# ====================================================================================== waves


def test_an_admin_creates_opens_extends_and_closes_a_wave(admin, rel):
    closes = date.today() + timedelta(days=21)
    response = new_wave_by_page(admin, rel.id, "2025-Q1", closes)
    assert response.status_code == 302
    wave = db.session.scalar(select(Wave))
    wave_id = wave.id
    assert (wave.label, wave.state, wave.closes_on) == ("2025-Q1", "draft", closes)
    assert response.headers["Location"] == f"/admin/waves/{wave_id}/"

    opened = submit(admin, f"/admin/waves/{wave_id}/open", page=f"/admin/waves/{wave_id}/")
    assert opened.status_code == 302
    assert get_wave(wave_id).state == "open"

    later = closes + timedelta(days=7)
    path = f"/admin/waves/{wave_id}/closing-date"
    assert submit(admin, path, date_fields("closes_on", later)).status_code == 302
    assert get_wave(wave_id).closes_on == later

    closing = submit(admin, f"/admin/waves/{wave_id}/close")
    assert closing.status_code == 303  # to the closing job's progress page
    finished = text(admin.get(closing.location))
    assert "Wave 2025-Q1 is closed: its results are computed" in finished
    assert get_wave(wave_id).state == "closed"
    stored = select(func.count()).where(ResultTable.wave_id == wave_id)
    assert db.session.scalar(stored) > 0  # closing computed the results
    assert [a for a in audit_actions() if a.startswith("wave.")] == [
        "wave.create",
        "wave.open",
        "wave.schedule",
        "wave.close",
    ]
    actors = db.session.scalars(select(AuditEvent.actor).where(AuditEvent.action.like("wave.%")))
    assert set(actors) == {"admin.pages@council.example"}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"label": "", "instrument": "partnership-health:1"}, "Enter a label for the wave"),
        (
            {"label": "Q1/2025", "instrument": "partnership-health:1"},
            "Wave label must start with a letter or digit",
        ),
        ({"label": "2025-Q1", "instrument": ""}, "Select the questionnaire version for the wave"),
        (
            {"label": "2025-Q1", "instrument": "made-up:7"},
            "Select one of the questionnaire versions listed",
        ),
        ({"label": "2024-Q1", "instrument": "partnership-health:1"}, "already has a wave"),
    ],
)
def test_a_bad_wave_gives_its_error_and_changes_nothing(admin, factory, rel, fields, message):
    new_wave(factory, rel, "2024-Q1", "draft")
    data = {**fields, **date_fields("closes_on", date.today() + timedelta(days=10))}
    response = submit(admin, f"/admin/relationships/{rel.id}/waves/new", data)
    assert_form_error(response, message)
    assert count(Wave) == 1


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        (["", "", ""], "Enter the closing date"),
        (["12", "", "2031"], "Closing date must include a month"),
        (["31", "2", "2031"], "Closing date must be a real date"),
        (["1", "1", "31"], "Year must include 4 numbers"),
        (["1", "1", "2001"], "Closing date must be today or in the future"),
    ],
)
def test_a_bad_closing_date_gives_its_gov_uk_error(admin, rel, parts, message):
    data = {"label": "2025-Q1", "instrument": "partnership-health:1", "closes_on": parts}
    response = submit(admin, f"/admin/relationships/{rel.id}/waves/new", data)
    assert_form_error(response, message)
    assert summary_links(response) == ["#closes_on"]  # the summary links to the day box
    assert 'id="closes_on"' in text(response)
    assert count(Wave) == 0


def test_dates_are_written_the_gov_uk_way():
    assert gov_uk_date(date(2013, 3, 5)) == "5 March 2013"
    assert gov_uk_date(datetime(2012, 12, 31, 23, 59)) == "31 December 2012"
    assert gov_uk_date(None) == ""


def test_the_only_questionnaire_is_chosen_already_on_a_new_wave(admin, rel):
    page = text(admin.get(f"/admin/relationships/{rel.id}/waves/new"))
    assert re.search(r'<option\s+selected\s+value="partnership-health:1"', page) or re.search(
        r'<option\s+value="partnership-health:1"\s+selected', page
    )


def test_a_new_closing_date_is_required_and_the_old_one_kept(admin, factory, rel):
    wave = new_wave(factory, rel, state="open")
    before = get_wave(wave).closes_on
    response = submit(admin, f"/admin/waves/{wave}/closing-date", {"closes_on": ["", "", ""]})
    assert_form_error(response, "Enter the closing date")
    assert get_wave(wave).closes_on == before
    assert "wave.schedule" not in audit_actions()


def test_state_machine_errors_are_shown_as_messages(admin, factory, rel):
    wave = new_wave(factory, rel, state="open")
    response = submit(admin, f"/admin/waves/{wave}/open", page=f"/admin/waves/{wave}/")
    assert_form_error(response, "only a draft wave can be opened")
    closed = new_wave(factory, rel, "2023-Q1", "closed")
    response = submit(admin, f"/admin/waves/{closed}/close", page=f"/admin/waves/{wave}/close")
    assert_form_error(response, "only an open wave can be closed")
    response = submit(
        admin,
        f"/admin/waves/{closed}/closing-date",
        date_fields("closes_on", date.today() + timedelta(days=3)),
        page=f"/admin/waves/{wave}/closing-date",
    )
    assert_form_error(response, "is closed: its schedule cannot change")
    assert "wave.schedule" not in audit_actions()


def test_a_post_without_its_csrf_token_changes_nothing(admin, factory, rel):
    wave = new_wave(factory, rel, state="draft")
    assert admin.post(f"/admin/waves/{wave}/open").status_code == 400
    assert get_wave(wave).state == "draft"


# ================================================================================ staff lists


def test_a_staff_list_is_added_to_the_address_list(admin, factory, rel):
    wave = new_wave(factory, rel, state="draft")
    data = staff_csv(
        [
            ("ann@council.example", "Test Council", "Core ICT"),
            ("bob@supplier.example", "supplier", "contact-centre"),
            ("cat@supplier.example", " SUPPLIER ", ""),
        ],
        header=("Email address", "Party", "Service area", "Job title"),
    )
    response = upload(admin, wave, data)
    assert response.status_code == 200
    html = text(response)
    assert "3 people added to wave 2024-Q1" in html
    assert "These columns were ignored and not stored: Job title" in html
    rows = db.session.execute(
        select(
            InvitationAddress.email, InvitationAddress.party_id, InvitationAddress.service_area_id
        ).order_by(InvitationAddress.id)
    ).all()
    # one person of a party in an area: the area is not fixed on their invitation
    assert rows == [
        ("ann@council.example", rel.client_id, None),
        ("bob@supplier.example", rel.supplier_id, None),
        ("cat@supplier.example", rel.supplier_id, None),
    ]
    assert "Added without their service area" in html
    assert "Fewer than 5 people of one organisation" in html
    assert "Core ICT (Test Council)" in html and "Contact centre (Test Supplier)" in html
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "staff_list.upload"))
    assert event.detail == {"wave": wave, "added": 3, "client": 1, "supplier": 2, "skipped": 0}
    no_secrets_in_the_audit_log()


def test_an_area_with_enough_people_stays_on_their_invitations(admin, factory, rel):
    """Areas are counted per party with the people already on the list in that area: five
    council people in Core ICT keep it, one supplier person does not, and two more later
    join the five; three in Contact centre stay open even when two more come later (the
    first three were added without the area, so they count for none)."""
    wave = new_wave(factory, rel, state="draft")
    core = [(f"p{n}@council.example", "client", "Core ICT") for n in range(7)]
    contact = [(f"c{n}@council.example", "client", "Contact centre") for n in range(5)]
    html = text(
        upload(
            admin,
            wave,
            staff_csv([*core[:5], ("s@supplier.example", "supplier", "Core ICT"), *contact[:3]]),
        )
    )
    assert "Core ICT (Test Supplier)" in html and "Contact centre (Test Council)" in html
    assert "Core ICT (Test Council)" not in html
    upload(admin, wave, staff_csv([*core[5:], *contact[3:]]))
    core_id, _ = rel.area_ids
    areas = db.session.scalars(
        select(InvitationAddress.service_area_id).order_by(InvitationAddress.id)
    ).all()
    assert areas == [core_id] * 5 + [None] * 4 + [core_id] * 2 + [None] * 2


def test_an_xlsx_staff_list_works_too(admin, factory, rel):
    wave = new_wave(factory, rel)
    book = Workbook()
    sheet = book.active
    sheet.append(["email", "party"])
    sheet.append(["dee@council.example", "client"])
    sheet.append([None, None])
    sheet.append(["eve@council.example", "Test Council"])
    data = io.BytesIO()
    book.save(data)
    data.seek(0)
    assert upload(admin, wave, data, "staff.xlsx").status_code == 200
    assert count(InvitationAddress) == 2


def test_a_bad_staff_list_is_reported_row_by_row_and_adds_nobody(admin, factory, rel):
    wave = new_wave(factory, rel)
    assert (
        upload(admin, wave, staff_csv([("old@council.example", "client", "")])).status_code == 200
    )
    data = staff_csv(
        [
            ("ann@council.example", "client", ""),
            ("not-an-address", "client", ""),
            ("ANN@council.example", "client", ""),
            ("old@council.example", "supplier", ""),
            ("ben@council.example", "Acme Ltd", ""),
            ("cal@council.example", "client", "Parks"),
            ("", "client", ""),
            ("dan@council.example", "", ""),
            ("bad address@x.example", "client", ""),
        ]
    )
    response = upload(admin, wave, data)
    assert_form_error(response, "The selected file has 7 problems: nobody was added")
    html = text(response)
    for problem in (
        "Row 3, column A (email): ‘not-an-address’ is not an email address in the correct format",
        "Row 4, column A (email): ANN@council.example is also on row 2",
        "Row 6, column B (party): ‘Acme Ltd’ is not a party of this relationship",
        "Row 7, column C (service area): ‘Parks’ is not a service area of this relationship",
        "Row 8, column A (email): enter an email address",
        "Row 9, column B (party): enter the party",
        "Row 10, column A (email): ‘bad address@x.example’ is not an email address",
    ):
        assert problem in html, problem
    assert count(InvitationAddress) == 1  # only the earlier list


def test_a_bad_staff_list_is_reported_in_the_readers_language(admin, factory, rel):
    wave = new_wave(factory, rel)
    data = staff_csv([("not-an-address", "client", ""), ("ben@council.example", "Acme Ltd", "")])
    path = f"/admin/waves/{wave}/staff-list?lang=cy"
    response = submit(
        admin, path, {"file": (data, "staff.csv")}, content_type="multipart/form-data"
    )
    html = text(response)
    assert "Mae gan y ffeil a ddewiswyd 2 problem: ni chafodd neb ei ychwanegu" in html
    assert "Rhes 2, colofn A (e-bost): Nid yw ‘not-an-address’ yn gyfeiriad e-bost" in html
    assert "Rhes 3, colofn B (parti): Nid yw ‘Acme Ltd’ yn barti yn y berthynas hon" in html
    assert "is not a party" not in html and count(InvitationAddress) == 0


def test_late_joiners_are_added_and_known_addresses_reported_and_skipped(admin, factory, rel):
    wave = new_wave(factory, rel)
    first = [("old@council.example", "client", ""), ("sam@supplier.example", "supplier", "")]
    assert upload(admin, wave, staff_csv(first)).status_code == 200
    again = [
        ("OLD@council.example", "client", ""),
        ("new@council.example", "client", ""),
        ("sam@supplier.example", "supplier", ""),
    ]
    response = upload(admin, wave, staff_csv(again))
    assert response.status_code == 200
    html = text(response)
    assert "1 people added to wave" in html or "1 person added to wave" in html
    assert "2 addresses were already on the list and were skipped" in html
    assert "OLD@council.example" in html and "sam@supplier.example" in html
    emails = sorted(db.session.scalars(select(InvitationAddress.email)))
    assert emails == ["new@council.example", "old@council.example", "sam@supplier.example"]
    assert "staff_list.upload" in audit_actions()


def test_a_staff_list_of_only_known_addresses_adds_nobody_and_says_so(admin, factory, rel):
    wave = new_wave(factory, rel)
    people = [("old@council.example", "client", "")]
    upload(admin, wave, staff_csv(people))
    response = upload(admin, wave, staff_csv(people))
    assert response.status_code == 200
    assert "1 address was already on the list and was skipped" in text(response)
    assert count(InvitationAddress) == 1


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        (b"", "staff.csv", "The file is empty"),
        (b"name,party\nAnn,client\n", "staff.csv", "there is no email column"),
        (b"email,party\n", "staff.csv", "The file has a header row but nobody in it"),
        (b"email,party\n\xff\xfe,client\n", "staff.csv", "not UTF-8"),
        (b"not a workbook", "staff.xlsx", "is not an Excel workbook"),
    ],
)
def test_an_unreadable_staff_list_is_refused(admin, factory, rel, content, filename, message):
    wave = new_wave(factory, rel)
    assert_form_error(upload(admin, wave, io.BytesIO(content), filename), message)
    assert count(InvitationAddress) == 0


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        (b"", "staff.csv", "Mae’r ffeil yn wag"),
        (
            b"email,party\n\xff\xfe,client\n",
            "staff.csv",
            "Nid testun UTF-8 yw’r ffeil: cadwch hi fel CSV UTF-8",
        ),
        (b"\xd0\xcf\x11\xe0old", "staff.xls", "Mae’r ffeil yn hen lyfr gwaith Excel 97–2003"),
    ],
)
def test_an_unreadable_staff_list_is_refused_in_the_readers_language(
    admin, factory, rel, content, filename, message
):
    wave = new_wave(factory, rel)
    response = submit(
        admin,
        f"/admin/waves/{wave}/staff-list?lang=cy",
        {"file": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
    )
    html = text(response)
    assert message in html
    assert "The file" not in html and count(InvitationAddress) == 0


def test_a_staff_list_needs_a_file(admin, factory, rel):
    wave = new_wave(factory, rel)
    path = f"/admin/waves/{wave}/staff-list"
    response = submit(admin, path, {}, content_type="multipart/form-data")
    assert_form_error(response, "Select a CSV or Excel file")


def test_a_closed_wave_takes_no_staff_list(admin, factory, rel):
    wave = new_wave(factory, rel, state="closed")
    response = upload(admin, wave, staff_csv([("ann@council.example", "client", "")]))
    assert_form_error(response, "is closed: nobody can be invited to it")
    assert count(InvitationAddress) == 0


# ============================================================================= mail merge


def read_links(response) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    body = response.get_data().decode("utf-8")
    assert body.startswith("\ufeffemail,link,party,service_area,language,subject,message\r\n")
    return list(csv.DictReader(io.StringIO(body.lstrip("\ufeff"))))


def token_of(link: str) -> str:
    match = LINK.fullmatch(link)
    assert match, link
    return match.group(1)


def test_the_mail_merge_file_holds_working_links_and_is_issued_once(app, admin, factory, rel):
    app.config["MIN_CELL_SIZE"] = 1  # so that a one-person area is fixed on the invitation
    wave = new_wave(factory, rel)
    upload(
        admin,
        wave,
        staff_csv(
            [
                ("ann@council.example", "client", "Core ICT"),
                ("=cmd@supplier.example", "supplier", ""),
            ]
        ),
    )
    path = f"/admin/waves/{wave}/invitations/mail-merge"
    response = submit(admin, path, page=f"/admin/waves/{wave}/invitations")
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition == 'attachment; filename="invitation-links-2024-Q1.csv"'
    rows = read_links(response)
    assert [r["email"] for r in rows] == ["ann@council.example", "'=cmd@supplier.example"]
    assert [r["party"] for r in rows] == ["Test Council", "Test Supplier"]
    assert [r["service_area"] for r in rows] == ["Core ICT", ""]
    tokens = [token_of(r["link"]) for r in rows]
    areas = db.session.scalars(select(Invitation.service_area_id).order_by(Invitation.id)).all()
    assert areas == [rel.area_ids[0], None]
    assert app.test_client().get(f"/s/{tokens[0]}").status_code == 302  # the link works
    # the links were handed over once: a second file has nobody left to invite
    again = submit(admin, path, page=f"/admin/waves/{wave}/invitations")
    assert_form_error(again, "Everybody on the address list has been invited already")
    assert count(Invitation) == 2
    no_secrets_in_the_audit_log(["ann@council.example"], tokens)


def test_a_draft_wave_sends_no_invitations(admin, factory, rel):
    wave = new_wave(factory, rel, state="draft")
    upload(admin, wave, staff_csv([("ann@council.example", "client", "")]))
    path = f"/admin/waves/{wave}/invitations/mail-merge"
    response = submit(admin, path, page=f"/admin/waves/{wave}/invitations")
    assert_form_error(response, "can be sent only while it is open")
    assert summary_links(response) == []  # a refused button: no field to link to
    assert count(Invitation) == 0


def test_a_reminder_file_adds_new_links_and_keeps_saved_answers(app, admin, factory, rel):
    wave = new_wave(factory, rel)
    people = [("ann@council.example", "client", "Core ICT"), ("bob@council.example", "client", "")]
    upload(admin, wave, staff_csv(people))
    invitations_page = f"/admin/waves/{wave}/invitations"
    invited = submit(admin, f"/admin/waves/{wave}/invitations/mail-merge", page=invitations_page)
    first = {r["email"]: token_of(r["link"]) for r in read_links(invited)}
    # Ann answers one section and saves; Bob submits
    ann = Respondent(app.test_client(), first["ann@council.example"])
    ann.open()
    assert ann.answer_about().status_code == 302
    assert ann.answer_section(1).status_code == 302
    assert count(Draft) == 1
    bob = Respondent(app.test_client(), first["bob@council.example"])
    assert bob.complete(sections_of(get_wave(wave))).status_code == 302
    assert count(Response) == 1

    reminded = submit(admin, f"/admin/waves/{wave}/reminders/mail-merge", page=invitations_page)
    rows = read_links(reminded)
    assert [r["email"] for r in rows] == ["ann@council.example"]  # only who has not submitted
    new = token_of(rows[0]["link"])
    resumed = ann.client.get(f"/s/{new}")  # in the browser where she saved her answers
    assert resumed.headers["Location"] == "/survey/resume"  # they carry on under the new link
    assert count(Draft) == 1
    # her first link still works until she submits through either
    assert app.test_client().get(f"/s/{first['ann@council.example']}").status_code == 302
    assert (
        Respondent(app.test_client(), new).complete(sections_of(get_wave(wave))).status_code == 302
    )
    assert app.test_client().get(f"/s/{first['ann@council.example']}").status_code == 409
    assert count(Draft) == 0
    reminders = db.session.scalar(
        select(InvitationAddress.reminders_sent).where(
            InvitationAddress.email == "ann@council.example"
        )
    )
    assert reminders == 1
    no_secrets_in_the_audit_log(list(first), [*first.values(), new])


# ================================================================================== preview


def test_the_preview_shows_each_sides_wording_with_the_party_names(admin, rel):
    base = "/admin/instruments/partnership-health/v1"
    client_page = text(admin.get(f"{base}/client/1?relationship={rel.id}"))
    supplier_page = text(admin.get(f"{base}/supplier/1?relationship={rel.id}"))
    assert "The council and Test Supplier are working towards goals both organisations" in (
        client_page
    )
    assert "We and Test Council are working towards goals we both believe in." in supplier_page
    assert "Section 1 of" in client_page and "Preview" in client_page
    generic = text(admin.get(f"{base}/client/1"))
    assert "The council and the supplier are working towards goals" in generic


def test_the_preview_checks_answers_as_the_survey_does_and_stores_nothing(admin, rel):
    path = "/admin/instruments/partnership-health/v1/client/1"
    events = count(AuditEvent)
    assert_form_error(submit(admin, path, {}), "Select how much you agree with")
    html = text(admin.get(path))
    answers = dict.fromkeys(re.findall(r'name="(q_[a-z0-9_]+)" type="radio"', html), "4")
    response = submit(admin, path, answers)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/client/2")
    assert (count(Draft), count(Response), count(Invitation)) == (0, 0, 0)
    assert count(AuditEvent) == events


def test_a_used_instrument_version_is_previewed_from_its_frozen_copy(
    app, admin, factory, rel, tmp_path
):
    new_wave(factory, rel, state="draft")  # freezes v1
    app.config["INSTRUMENTS_DIR"] = str(tmp_path)  # and now there are no files at all
    assert "no file: kept in the database" in text(admin.get("/admin/instruments/"))
    assert admin.get("/admin/instruments/partnership-health/v1/client/1").status_code == 200
