"""The staff pages in Welsh: signing in, the second factor, passwords, the account and API token
pages, people and organisations, the administration (relationships, waves, staff lists,
invitations, schedules, response rates, instrument previews), imports and job pages.

Each page is rendered signed in with a pseudo-translation as its Welsh (tests/pseudo_locale.py:
every catalogue text wrapped in ‹…›): a word left outside the marks that is not the page's own
data (names, labels, addresses) is a text a translator never saw, and fails the test — as do a
form's errors, which are rendered by sending each form empty.
"""

from __future__ import annotations

import numpy as np
import pytest

from survey_app.extensions import db
from survey_app.models import Organisation, Relationship
from survey_app.services.accounts.sign_in import ensure_user
from tests.factories import PASSWORD, closed_wave, csrf_token, sign_in, staff_csv, submit, upload
from tests.pseudo_locale import unmarked

#: The pages' own data: names of things, people and places, never a text to translate.
DATA = {
    "Test Council — Test Supplier",
    "Test Council",
    "Test Supplier",
    "Core ICT",
    "Contact centre",
    "core-ict",
    "contact-centre",
    "2023-Q4",
    "2024-Q1",
    "2024-Q2",
    "Pages admin",
    "admin.pages@council.example",
    "Pages manager",
    "manager.pages@council.example",
    "Pages reviewer",
    "reviewer.pages@council.example",
    "Council IdP",
    "ann@council.example",
    "bob@council.example",
    "Partnership health survey",
    "partnership-health",
    "English",
    "Cymraeg",
    "Iechyd y Berthynas",
    "Relationship Health",
    "OpenAPI",
    "API",
    "Authorization: Bearer",
    "CSV",
    "XLSX",
    "Excel",
    "Power BI",
    "SPSS",
    "Python",
    "TOTP",
    "SMTP_HOST",
    "MAIL_FROM",
    "http://localhost/sign-in/callback",  # the address to register with a provider
    # the staff list's column names, which files must use as they are
    "email",
    "party",
    "service area",
    "language",
}


@pytest.fixture
def site(pseudo_welsh, factory):  # type: ignore[no-untyped-def]
    """A relationship with a closed wave (scored), an open one with a staff list, a draft one,
    and an organisation; the ids the pages need."""
    pseudo_welsh.config["SERVICE_NAME_CY"] = "Iechyd y Berthynas"
    relationship = factory.relationship()
    rng = np.random.default_rng(17)
    closed_wave(
        relationship, "2023-Q4", [("client", None, 4.0, 6), ("supplier", None, 3.5, 6)], rng
    )
    opened = factory.wave(relationship, "2024-Q1", "open")
    draft = factory.wave(relationship, "2024-Q2", "draft")
    organisation = Organisation(name="Council IdP")
    db.session.add(organisation)
    db.session.commit()
    return {
        "relationship": relationship.id,
        "area": relationship.service_areas[0].id,
        "open": opened.id,
        "draft": draft.id,
        "organisation": organisation.id,
    }


def welsh_client(app, role: str):  # type: ignore[no-untyped-def]
    client = sign_in(app, role)
    switched = submit(
        client, "/account/language", {"language": "cy", "next": "/"}, page="/account/"
    )
    assert switched.status_code == 303  # the switch (a POST): remembered on the account
    return client


def assert_all_marked(client, paths: list[str], data: set[str] = DATA) -> None:  # type: ignore[no-untyped-def]
    problems = {}
    for path in paths:
        answer = client.get(path)
        html = answer.get_data(as_text=True)
        assert answer.status_code < 500, (path, answer.status_code)
        assert '<html lang="cy"' in html, path
        left = unmarked(html, data)
        if left:
            problems[path] = left
    assert not problems, problems


def assert_errors_marked(client, forms: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Each form sent empty: the error summary and messages are marked too."""
    problems = {}
    for path in forms:
        token = csrf_token(client.get(path).get_data(as_text=True))
        answer = client.post(path, data={"csrf_token": token})
        html = answer.get_data(as_text=True)
        assert answer.status_code in (400, 200, 303), (path, answer.status_code)
        left = unmarked(html, DATA)
        if left:
            problems[path] = left
    assert not problems, problems


def test_no_administration_page_shows_text_that_is_not_marked(app, site):
    admin = welsh_client(app, "admin")
    rel, wave, draft = site["relationship"], site["open"], site["draft"]
    assert upload(
        admin, wave, staff_csv([("ann@council.example", "client", "Core ICT")])
    ).status_code in (200, 303)
    paths = [
        "/admin/",
        "/admin/relationships/new",
        f"/admin/relationships/{rel}/",
        f"/admin/relationships/{rel}/edit",
        f"/admin/relationships/{rel}/areas/new",
        f"/admin/relationships/{rel}/areas/{site['area']}/edit",
        f"/admin/relationships/{rel}/areas/{site['area']}/delete",
        f"/admin/relationships/{rel}/waves/new",
        f"/admin/waves/{wave}/",
        f"/admin/waves/{draft}/",
        f"/admin/waves/{wave}/closing-date",
        f"/admin/waves/{wave}/close",
        f"/admin/waves/{wave}/staff-list",
        f"/admin/waves/{wave}/invitations",
        f"/admin/waves/{wave}/responses",
        "/admin/instruments/",
        "/admin/import/",
        f"/jobs/recompute/{rel}",
    ]
    assert_all_marked(admin, paths)
    assert_errors_marked(
        admin,
        [
            "/admin/relationships/new",
            f"/admin/relationships/{rel}/areas/new",
            f"/admin/relationships/{rel}/waves/new",
            f"/admin/waves/{wave}/staff-list",
            "/admin/import/",
        ],
    )


def test_no_people_account_or_sign_in_page_shows_text_that_is_not_marked(app, site):
    admin = welsh_client(app, "admin")
    relationship = db.session.get(Relationship, site["relationship"])
    manager_id = ensure_user(
        "manager.pages@council.example",
        name="Pages manager",
        role="manager",
        password=PASSWORD,
        relationships=[relationship],
    ).id
    db.session.commit()
    paths = [
        "/account/",
        "/account/password",
        "/account/api-tokens/",
        "/admin/people/",
        "/admin/people/invite",
        f"/admin/people/{manager_id}",
        "/admin/organisations/",
        f"/admin/organisations/{site['organisation']}/sign-in",
    ]
    assert_all_marked(admin, paths)
    assert_errors_marked(
        admin,
        ["/account/password", "/account/api-tokens/", "/admin/people/invite"],
    )
    visitor = app.test_client()
    visitor.get("/sign-in?lang=cy")
    assert_all_marked(visitor, ["/sign-in", "/sign-in/forgotten"])
    assert_errors_marked(visitor, ["/sign-in", "/sign-in/forgotten"])


def instrument_texts() -> set[str]:
    """The instrument's own wording, in Welsh and English (its file's, not the catalogue's)."""
    from instruments import find_instrument

    instrument = find_instrument("partnership-health", 1)
    texts = set()
    for code in ("cy", "en"):
        texts |= {instrument.title_in(code), instrument.description_in(code)}
        texts |= {*instrument.scale.labels_in(code), instrument.scale.dont_know_label_in(code)}
        for dimension in instrument.dimensions:
            texts |= {dimension.title_in(code), dimension.description_in(code)}
        for side, partner, partner_side in (
            ("client", "Test Supplier", "supplier"),
            ("supplier", "Test Council", "client"),
        ):
            for item in (*instrument.items, *instrument.comments):
                texts.add(item.text_in(side, code, partner=partner, partner_side=partner_side))
    return texts


def test_the_instrument_preview_and_a_job_page_are_marked(app, site):
    admin = welsh_client(app, "admin")
    data = DATA | instrument_texts()
    preview = "/admin/instruments/partnership-health/v1/client"
    started = submit(admin, f"/jobs/recompute/{site['relationship']}")
    assert started.status_code in (302, 303), started.status_code
    job = started.headers["Location"]
    assert_all_marked(admin, [f"{preview}/", f"{preview}/start", f"{preview}/about"], data)
    # The job's title, progress message, summary and outcome link were stored by the worker
    # as wordings (survey_app/texts.py): the page says them in its reader's language too.
    assert_all_marked(admin, [job], DATA)
