"""Every page type of the service, and how a browser gets to one.

``PAGE_TYPES`` is what the accessibility audit and the CSP checks walk: adding a page
type is one line there. A page type is a name, the steps that bring a fresh browser to
it, the HTTP status it answers with and the text of its ``<h1>`` (so a test knows it
reached the page it meant to, not a redirect elsewhere) and, where variants of a page
share their heading, a text that tells this one apart (``shows``). Steps are small functions of
``(page, site)``; the ones below cover plain URLs (with the ids of the test data filled
in), a respondent at any point of the survey, filling in a field, choosing a file, pressing
a button, and a signed-in manager, reviewer or admin.

The survey states are prepared in-process (``tests.conftest.Respondent`` through the
test client writes the draft to the shared database); the browser then opens the same
personal link and resumes where the draft says, as a returning respondent would. So are
the waves, staff lists and actions the administration pages show (``site.factory`` and the
services), while what a page is *for* (a form sent with errors, an upload, a send) happens
in the browser.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from tests.browser.site import PASSWORD, Site, end_transaction
from tests.factories import csrf_token

Step = Callable[[Any, "Site"], Any]  # (playwright Page, Site) -> Response | None


# ----------------------------------------------------------------- steps


def visit(path: str) -> Step:
    """Open ``path``; ``{wave}``, ``{relationship}``, ``{area}``, ``{action}`` and ``{alert}``
    in it name the test data (``Site.ids``: an open wave unless a step made another)."""

    def step(page, site: Site):  # type: ignore[no-untyped-def]
        return page.goto(path.format(**site.ids) if "{" in path else path)

    return step


def wave_in(state: str, invited: int = 0) -> Step:
    """Make the test relationship's wave in ``state`` (see Site.make_wave)."""

    def step(page, site: Site) -> None:  # type: ignore[no-untyped-def]
        site.make_wave(state, invited)

    return step


def staff_listed(*emails: str) -> Step:
    """Put ``emails`` on the wave's address list (in-process, as an upload would)."""

    def step(page, site: Site) -> None:  # type: ignore[no-untyped-def]
        site.staff_list(list(emails))

    return step


def actions_agreed(alert: bool = True) -> Step:
    """An action agreed on trust after 2024-Q1 and, with ``alert``, trust falling in 2024-Q2
    (see Site.actions_history)."""

    def step(page, site: Site) -> None:  # type: ignore[no-untyped-def]
        site.actions_history(alert=alert)

    return step


def on_the_server_without_email(path: str) -> Step:
    """Open ``path`` on ``live_server_without_email`` (the sign-in carries over: cookies are
    the host's, whatever the port)."""

    def step(page, site: Site):  # type: ignore[no-untyped-def]
        server = site.request.getfixturevalue("live_server_without_email")
        server.new_log()
        response = page.goto(server.url + path.format(**site.ids))
        log = server.new_log()
        assert "Traceback" not in log, f"the server without email logged an error:\n{log}"
        return response

    return step


def fill(label: str, value: str) -> Step:
    """Type ``value`` into the field labelled ``label`` (replacing what it held)."""

    def step(page, site: Site) -> None:  # type: ignore[no-untyped-def]
        page.get_by_label(label, exact=True).fill(value)

    return step


def fill_date(legend: str, day: str, month: str, year: str) -> Step:
    """Fill in the GOV.UK date input whose fieldset's legend is ``legend``."""

    def step(page, site: Site) -> None:  # type: ignore[no-untyped-def]
        group = page.get_by_role("group", name=legend, exact=True)
        for part, value in (("Day", day), ("Month", month), ("Year", year)):
            group.get_by_label(part, exact=True).fill(value)

    return step


def choose_file(label: str, name: str, content: bytes, mime: str = "text/csv") -> Step:
    """Choose a file for the file input labelled ``label``, as the file picker would."""

    def step(page, site: Site) -> None:  # type: ignore[no-untyped-def]
        page.get_by_label(label, exact=True).set_input_files(
            files=[{"name": name, "mimeType": mime, "buffer": content}]
        )

    return step


def respondent(progress: str = "new") -> Step:
    """Open a personal link whose respondent got as far as ``progress`` (see Site.token)."""

    def step(page, site: Site):  # type: ignore[no-untyped-def]
        return page.goto(f"/s/{site.token(progress)}")

    return step


def link_of_wave(state: str) -> Step:
    def step(page, site: Site):  # type: ignore[no-untyped-def]
        site.other_wave(state)
        return page.goto(f"/s/{site.other_token}")

    return step


def downloads_of_a_closed_wave(query: str = "") -> Step:
    def step(page, site: Site):  # type: ignore[no-untyped-def]
        wave = site.other_wave("closed")
        return page.goto(f"/downloads/{wave.relationship_id}/{query}")

    return step


def dashboard_of_a_closed_wave(query: str = "") -> Step:
    def step(page, site: Site):  # type: ignore[no-untyped-def]
        wave = site.other_wave("closed")
        return page.goto(f"/dashboard/{wave.relationship_id}/{query}")

    return step


def dashboard_of_the_demo(path: str = "") -> Step:
    def step(page, site: Site):  # type: ignore[no-untyped-def]
        return page.goto(f"/dashboard/{site.demo_relationship_id()}/{path}")

    step.needs_demo = True  # type: ignore[attr-defined] (PageType.reach loads it first)
    return step


def survey_team_named(page, site: Site) -> None:  # type: ignore[no-untyped-def]
    """The wave's emails name its survey team (a saved version of its texts)."""
    from survey_app.services.mailing.texts import save_email_texts

    wave = site.wave
    texts = save_email_texts(
        wave,
        sender_name="Partnership survey team",
        team_email="survey@council.example",
        team_phone="01632 960 001",
        wordings={
            code: {"team": "Partnership Survey Team", **_default_templates(wave, code)}
            for code in ("en", "cy")
        },
        actor="test",
    )
    assert texts.version
    from survey_app.extensions import db

    db.session.commit()
    end_transaction()


def _default_templates(wave, language: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    from survey_app.services.mailing.texts import TEMPLATE_FIELDS, default_wording

    wording = default_wording(language, closes=wave.closes_at is not None)
    return {name: getattr(wording, name) for name in TEMPLATE_FIELDS}


def replaced_link(page, site: Site):  # type: ignore[no-untyped-def]
    """Open a personal link after a reminder gave its invitation a newer one."""
    from survey_app.extensions import db
    from survey_app.services.invitations import invitation_for_token, issue_link

    token = site.token()
    issue_link(invitation_for_token(token))
    db.session.commit()
    end_transaction()
    return page.goto(f"/s/{token}")


def press(button: str, *, exact: bool = True) -> Step:
    """Press a button (focus and Enter) and wait for the page it leads to (``exact=False``:
    a button whose name starts with ``button``, e.g. with a visually hidden ending)."""

    def step(page, site: Site):  # type: ignore[no-untyped-def]
        with page.expect_navigation() as navigation:
            page.get_by_role("button", name=button, exact=exact).press("Enter")
        return navigation.value

    return step


def expire_form(page, site: Site) -> None:  # type: ignore[no-untyped-def]
    """As if the form had been left open past its session: its CSRF token no longer checks."""
    page.locator("input[name=csrf_token]").first.evaluate("input => { input.value = 'expired'; }")


def signed_in(role: str, at: str | None = None) -> Step:
    """Sign in with the sign-in page's form as a new ``role`` account; with ``at``, arrive there
    (``/sign-in?next=...``, as when a signed-out user follows a link; ids filled in as for
    ``visit``) instead of on the role's first page.

    The form is read and sent by the page's own request context (its cookies are the
    browser's), and the browser opens where the sign-in redirects: the page audited is the
    same, without drawing the sign-in page first in every test (the "sign in" page types audit
    that page; ``tests/browser/test_people_keyboard.py`` signs in by typing into it)."""

    def step(page, site: Site):  # type: ignore[no-untyped-def]
        email = site.user(role)
        target = (at.format(**site.ids) if "{" in at else at) if at else None
        path = f"/sign-in?next={quote(target, safe='/')}" if target else "/sign-in"
        form = page.request.get(path)
        assert form.status == 200, (path, form.status)
        sent = page.request.post(
            path,
            form={"csrf_token": csrf_token(form.text()), "email": email, "password": PASSWORD},
            max_redirects=0,
        )
        assert sent.status in (302, 303), (path, sent.status, sent.text()[:2000])
        return page.goto(sent.headers["location"])

    return step


#: A refused import's error, as the ``responses.import`` job records it: one problem a line.
REFUSED_IMPORT = (
    "Nothing was imported: 2 problems in 52 rows:\n"
    "  row 3, column side: 'council' is not a side (use client or supplier)\n"
    "  row 14, column tr3: 7 is not on the 1–5 scale (use a whole number 1–5 or leave it blank)"
)


def job_in(state: str, error: str = "The relationship no longer exists") -> Step:
    """A job of the admin's in ``state`` (queued, running, succeeded or failed, with
    ``error``): ``{job}``."""

    def step(page, site: Site) -> None:  # type: ignore[no-untyped-def]
        from survey_app.database import write_transaction
        from survey_app.services import jobs
        from survey_app.services.jobs.kinds import results_link
        from survey_app.texts import N_, stored_text, wording

        admin = site.account("admin")
        relationship = site.factory.relationship()
        with write_transaction():  # stored as the worker stores them: wordings
            job = jobs.submit_job(
                "results.recompute", {"relationship_id": relationship.id}, requested_by=admin,
                relationship=relationship, title=jobs.recompute_title(relationship.name),
            )  # fmt: skip
            job.state = state
            job.progress_done, job.progress_total = (2, 5) if state == "running" else (0, None)
            job.message = (
                stored_text(wording(N_("Rebuilding the results of wave %(wave)s"), wave="2024-Q1"))
                if state == "running"
                else None
            )
            job.error = error if state == "failed" else None
            if state == "succeeded":
                job.result = {
                    "summary": wording(
                        N_("Rebuilt the results of %(count)s closed waves of %(relationship)s"),
                        relationship=relationship.name,
                        count=5,
                    ),
                    "link": results_link(relationship.id, relationship.name),
                }
        site._ids.update(job=job.id, relationship=relationship.id)
        end_transaction()

    return step


def prepared_download(state: str) -> Step:
    """The reviewer's download of the other relationship's responses, prepared by a job in
    ``state``: running (not ready), succeeded, or expired (succeeded two days ago): ``{job}``.
    (The job is never run: its state is set before the commit that would wake it.)"""

    def step(page, site: Site) -> None:  # type: ignore[no-untyped-def]
        from datetime import UTC, datetime

        from survey_app.database import write_transaction
        from survey_app.extensions import db
        from survey_app.models import Relationship
        from survey_app.services import exports, jobs

        relationship_id = site.other_wave("closed").relationship_id
        reviewer = site.account("reviewer")
        name = "relhealth-responses-all-waves.csv"
        with write_transaction():
            job = jobs.submit_job(
                exports.PREPARE_KIND,
                {"relationship_id": relationship_id, "table": "responses", "fmt": "csv", "wave": None},
                requested_by=reviewer, relationship=db.session.get(Relationship, relationship_id),
                title=f"Prepare {name}",
            )  # fmt: skip
            now = datetime.now(UTC).replace(tzinfo=None)
            if state == "running":  # in another worker's hands
                job.state, job.lease_owner = "running", "elsewhere"
                job.lease_expires_at = now + timedelta(hours=1)
            else:
                age = timedelta(days=2 if state == "expired" else 0)
                job.state = "succeeded"
                job.finished_at = now - age
                job.result = {"summary": f"{name} is ready (1 KB)", "link": {
                    "endpoint": "downloads.prepared", "values": {"job_id": job.id},
                    "text": f"Download {name}", "requester_only": True},
                    "file": {"stored": f"job-{job.id}-gone.csv"}}  # fmt: skip
        site._ids.update(job=job.id)
        end_transaction()

    return step


def a_person(page, site: Site) -> None:  # type: ignore[no-untyped-def]
    """A manager's account, for the people pages: ``{person}``."""
    site._ids["person"] = site.account("manager").id
    end_transaction()


def an_organisation(page, site: Site) -> None:  # type: ignore[no-untyped-def]
    """An organisation, for its sign-in settings: ``{organisation}``."""
    from survey_app.extensions import db
    from survey_app.models import Organisation

    organisation = Organisation(name="Test Organisation")
    db.session.add(organisation)
    db.session.commit()
    site._ids["organisation"] = organisation.id
    end_transaction()


def reset_link_opened(page, site: Site):  # type: ignore[no-untyped-def]
    """Open a password reset link of the reviewer's, as from the email."""
    from survey_app.extensions import db
    from survey_app.services.accounts import links

    token = links.issue_link(site.account("reviewer"), "reset")
    db.session.commit()
    return page.goto(f"/account/link/{token}")


def second_factor_asked(page, site: Site):  # type: ignore[no-untyped-def]
    """The manager, who has set up a second factor, passes the password step."""
    import pyotp

    from survey_app.extensions import db
    from survey_app.services.accounts import totp
    from survey_app.services.accounts.secrets_box import unseal

    user = site.account("manager")
    if user.totp_secret is None:
        sealed = totp.new_secret()
        code = pyotp.TOTP(unseal(totp.PURPOSE, sealed)).now()
        assert totp.confirm_setup(user, sealed, code)
        db.session.commit()
    return signed_in("manager")(page, site)


def admin_where_a_code_is_required(page, site: Site):  # type: ignore[no-untyped-def]
    """The admin, without a second factor yet, passes the password step on
    ``live_server_with_second_factor`` (where admins must have one): the set-up page."""
    server = site.request.getfixturevalue("live_server_with_second_factor")
    server.new_log()
    site.servers_to_check.append(server)
    email = site.user("admin")
    page.goto(f"{server.url}/sign-in")
    page.get_by_label("Email address", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    return press("Sign in")(page, site)


def code_of_the_setup_key(page, site: Site) -> None:  # type: ignore[no-untyped-def]
    """Type the code an authenticator app shows for the key on the set-up page."""
    import pyotp

    key = page.locator("#setup-key").inner_text().replace(" ", "")
    page.get_by_label("Code", exact=True).fill(pyotp.TOTP(key).now())


def no_errors_on_the_other_servers(page, site: Site) -> None:  # type: ignore[no-untyped-def]
    """What the autouse check does for ``live_server``, for the other servers a step used."""
    for server in site.servers_to_check:
        log = server.new_log()
        assert "Traceback" not in log, f"{server.url} logged an error:\n{log}"


def too_many_failed_sign_ins(page, site: Site):  # type: ignore[no-untyped-def]
    """Sign in with the wrong password until the service makes the user wait."""
    email = site.user("reviewer")
    page.goto("/sign-in")
    for _ in range(10):
        page.get_by_label("Email address", exact=True).fill(email)
        page.get_by_label("Password", exact=True).fill("not the password")
        response = press("Sign in")(page, site)
        if response.status == 429:
            return response
    raise AssertionError("ten failed sign-ins in a row were all let through")


@dataclass(frozen=True)
class PageType:
    name: str
    steps: tuple[Step, ...]
    status: int
    heading: str
    shows: str  # text the page's <main> has (to tell variants apart), if any
    accepts: tuple[str, ...] = ()  # axe rules this page is known to break, the reason in its row

    @property
    def needs_demo(self) -> bool:
        return any(getattr(step, "needs_demo", False) for step in self.steps)

    def reach(self, page, site: Site):  # type: ignore[no-untyped-def]
        """Run the steps; return the response of the last navigation. The demo, where a step
        needs it, comes first, into empty tables (copied: ``tests/snapshots.py``)."""
        if self.needs_demo:
            site.demo_relationship_id()
        response = None
        for step in self.steps:
            response = step(page, site) or response
        return response


def page_type(
    name: str,
    *steps: Step,
    status: int = 200,
    heading: str,
    shows: str = "",
    accepts: tuple[str, ...] = (),
) -> PageType:
    return PageType(name, steps, status, heading, shows, accepts)


REFUSED_ADDRESS = "nobody@refused.example"  # the run's mail server answers 550 (conftest.py)
GOOD_STAFF_LIST = b"email,party,service area\nann@council.example,client,Core ICT\nbob@council.example,Test Supplier,\n"
# Four rows, each with its own problem: the page lists them row by row.
BAD_STAFF_LIST = (
    b"email,party,service area\n"
    b"not an address,client,Core ICT\n"
    b"ann@council.example,Nobody Ltd,Core ICT\n"
    b"bob@council.example,client,Astrology\n"
    b"ann@council.example,client,\n"
)

# One row per page type (a table: the formatter would fold the long rows).
# fmt: off
PAGE_TYPES: list[PageType] = [
    # service pages
    page_type("home", visit("/"), heading="Relationship Health"),
    page_type("accessibility statement", visit("/accessibility"), heading="Accessibility statement"),
    page_type("cookies", visit("/cookies"), heading="Cookies"),
    page_type("privacy notice", visit("/privacy"), heading="Privacy notice"),
    page_type("page not found", visit("/no-such-page"), status=404, heading="Page not found"),
    # the respondent's journey
    page_type("survey start", respondent(), heading="Partnership health survey"),
    page_type("about you", respondent(), visit("/survey/about"), heading="About you"),
    page_type("about you with errors", respondent(), visit("/survey/about"), press("Continue"), status=400, heading="About you"),
    page_type("section", respondent("about"), heading="Shared purpose"),
    page_type("section with errors", respondent("about"), press("Save and continue"), status=400, heading="Shared purpose"),
    page_type("comments section", respondent("comments"), heading="Your comments"),
    page_type("check answers", respondent("check"), heading="Check your answers before submitting"),
    page_type("survey submitted", respondent("check"), press("Submit your answers"), heading="Survey submitted"),
    page_type("answers saved", respondent("about"), press("Save and come back later"), heading="Your answers have been saved"),
    page_type("form expired", respondent("about"), expire_form, press("Save and continue"), status=400, heading="There is a problem with your request"),
    # a link that cannot be used
    page_type("link not recognised", visit("/s/not-a-real-token"), status=404, heading="Survey link not recognised"),
    page_type("survey already completed", respondent("submitted"), status=409, heading="You have already completed this survey"),
    page_type("survey not open yet", link_of_wave("draft"), status=403, heading="This survey is not open"),
    page_type("survey closed", link_of_wave("closed"), status=410, heading="This survey has closed"),
    page_type("survey session ended", visit("/survey/"), status=403, heading="Open your survey link to continue"),
    page_type("survey already completed, naming the survey team", survey_team_named, respondent("submitted"), status=409, heading="You have already completed this survey", shows="Partnership Survey Team"),
    page_type("link replaced by a newer email's", replaced_link, heading="Use the link in your latest email"),
    # staff
    page_type("sign in", visit("/sign-in"), heading="Sign in to Relationship Health"),
    page_type("sign in with errors", visit("/sign-in"), press("Sign in"), status=400, heading="Sign in to Relationship Health"),
    page_type("too many sign-in attempts", too_many_failed_sign_ins, status=429, heading="Too many"),
    page_type("home, signed in", signed_in("manager", "/"), heading="Relationship Health"),
    page_type("signed out", signed_in("manager"), press("Sign out"), heading="Sign in to Relationship Health"),
    page_type("not allowed", signed_in("manager", "/downloads/"), status=403, heading="You do not have permission to see this page"),
    page_type("dashboard", link_of_wave("closed"), signed_in("manager"), heading="Dashboard"),
    page_type("dashboard of a relationship", signed_in("manager"), dashboard_of_the_demo(), heading="Birmingham City Council — Service Birmingham"),
    page_type("dashboard of a dimension", signed_in("manager"), dashboard_of_the_demo("dimension/trust"), heading="Trust"),
    page_type("how we know", signed_in("manager", "/dashboard/how-we-know"), heading="How we know something is getting worse"),
    page_type("dashboard with errors", signed_in("manager"), dashboard_of_a_closed_wave("?side=neither"), status=400, heading="Other Council — Other Supplier"),
    page_type("dashboard of an earlier wave", signed_in("manager"), dashboard_of_the_demo("?wave=2010-Q3"), heading="Birmingham City Council — Service Birmingham", shows="as they stood when it closed"),
    page_type("comments of a wave", signed_in("manager"), dashboard_of_the_demo("comments"), heading="What people wrote"),
    # the staff pages in Welsh (issue 17): the same checks on the Welsh pages, their charts and tables
    page_type("dashboard in Welsh", link_of_wave("closed"), signed_in("manager", "/dashboard/?lang=cy"), heading="Dangosfwrdd"),
    page_type("dashboard of a relationship in Welsh", signed_in("manager"), dashboard_of_the_demo("?lang=cy"), heading="Birmingham City Council — Service Birmingham", shows="Beth sydd angen sylw"),
    page_type("dashboard of a dimension in Welsh", signed_in("manager"), dashboard_of_the_demo("dimension/trust?lang=cy"), heading="Ymddiriedaeth"),
    page_type("agreed targets with errors in Welsh", wave_in("closed"), signed_in("manager", "/actions/{relationship}/targets?lang=cy"), press("Cadw’r targed"), status=400, heading="Targedau y cytunwyd arnynt"),
    page_type("downloads of a relationship in Welsh", signed_in("reviewer"), downloads_of_a_closed_wave("?lang=cy"), heading="Other Council — Other Supplier", shows="Sut mae’r ffeiliau wedi’u hysgrifennu"),
    page_type("agreed targets", wave_in("closed"), signed_in("manager", "/actions/{relationship}/targets"), heading="Agreed targets"),
    page_type("agreed targets with errors", wave_in("closed"), signed_in("manager", "/actions/{relationship}/targets"), press("Save target"), status=400, heading="Agreed targets"),
    page_type("privacy notice of a survey", wave_in("open"), visit("/privacy/{relationship}"), heading="Privacy notice"),
    page_type("board pack being prepared (a job's page)", signed_in("manager"), dashboard_of_the_demo(), press("Prepare the board pack (PDF)", exact=False), heading="Board pack of", shows="Refresh the page"),
    page_type("chart the dashboard does not show", signed_in("manager"), dashboard_of_the_demo("charts/no-such-chart.png"), status=404, heading="Page not found"),
    page_type("downloads", signed_in("reviewer"), heading="Downloads"),
    page_type("downloads of a relationship", signed_in("reviewer"), downloads_of_a_closed_wave(), heading="Other Council — Other Supplier"),
    page_type("prepare a large download", signed_in("reviewer"), downloads_of_a_closed_wave("responses.csv/prepare"), heading="Prepare a large download"),
    page_type("download being prepared (a job's page)", signed_in("reviewer"), downloads_of_a_closed_wave("responses.csv/prepare"), press("Prepare the file"), heading="Prepare relhealth-responses-all-waves.csv", shows="Refresh the page"),
    page_type("download prepared (a job's page)", prepared_download("succeeded"), signed_in("reviewer", "/jobs/{job}"), heading="Prepare relhealth-responses-all-waves.csv", shows="Download relhealth-responses-all-waves.csv"),
    page_type("prepared download not ready", prepared_download("running"), signed_in("reviewer", "/downloads/prepared/{job}"), status=409, heading="This file cannot be downloaded", shows="not ready"),
    page_type("prepared download expired", prepared_download("expired"), signed_in("reviewer", "/downloads/prepared/{job}"), status=410, heading="This file cannot be downloaded", shows="expired"),
    page_type("downloads with errors", signed_in("reviewer"), downloads_of_a_closed_wave("?wave=no-such-wave"), status=400, heading="Other Council — Other Supplier"),
    page_type("import responses", signed_in("admin", "/admin/import/"), heading="Import historical responses"),
    page_type("administration", signed_in("admin", "/admin/"), heading="Administration"),
    page_type("create a relationship", signed_in("admin", "/admin/relationships/new"), heading="Create a relationship"),
    page_type("instrument previews", signed_in("admin", "/admin/instruments/"), heading="Questionnaires"),
    page_type("create a relationship with errors", signed_in("admin", "/admin/relationships/new"), press("Create relationship"), status=400, heading="Create a relationship"),
    page_type("actions", signed_in("manager", "/actions/"), heading="Actions"),
    page_type("API tokens", signed_in("reviewer", "/account/api-tokens/"), heading="API tokens"),
    # people, passwords, organisations' sign-in
    page_type("people", a_person, signed_in("admin", "/admin/people/"), heading="People"),
    page_type("invite someone", signed_in("admin", "/admin/people/invite"), heading="Invite someone"),
    page_type("invite someone with errors", signed_in("admin", "/admin/people/invite"), press("Send invitation"), status=400, heading="Invite someone"),
    page_type("a person", a_person, signed_in("admin", "/admin/people/{person}"), heading="A manager"),
    page_type("change your password", signed_in("reviewer", "/account/password"), heading="Change your password"),
    page_type("change your password with errors", signed_in("reviewer", "/account/password"), press("Change password"), status=400, heading="Change your password"),
    page_type("forgotten password", visit("/sign-in/forgotten"), heading="Reset your password"),
    page_type("forgotten password with errors", visit("/sign-in/forgotten"), press("Send me a link"), status=400, heading="Reset your password"),
    page_type("choose your password", reset_link_opened, heading="Choose your password"),
    page_type("choose your password with errors", reset_link_opened, press("Set password"), status=400, heading="Choose your password"),
    page_type("second factor", second_factor_asked, heading="Enter your code"),
    page_type("second factor with errors", second_factor_asked, press("Continue"), status=400, heading="Enter your code"),
    page_type("set up a second factor", admin_where_a_code_is_required, no_errors_on_the_other_servers, heading="Set up a second way to sign in"),
    page_type("set up a second factor with errors", admin_where_a_code_is_required, press("Continue"), no_errors_on_the_other_servers, status=400, heading="Set up a second way to sign in"),
    page_type("recovery codes", admin_where_a_code_is_required, code_of_the_setup_key, press("Continue"), no_errors_on_the_other_servers, heading="Your recovery codes"),
    page_type("organisations", an_organisation, signed_in("admin", "/admin/organisations/"), heading="Organisations"),
    page_type("organisation sign-in settings", an_organisation, signed_in("admin", "/admin/organisations/{organisation}/sign-in"), heading="Sign-in settings"),
    page_type("organisation sign-in settings with errors", an_organisation, signed_in("admin", "/admin/organisations/{organisation}/sign-in"), fill("Issuer", "not a url"), press("Save sign-in settings"), status=400, heading="Sign-in settings"),
    page_type("organisation sign-in refused", visit("/sign-in/callback"), status=400, heading="You are not signed in"),
    page_type("import responses with errors", signed_in("admin", "/admin/import/"), press("Import responses"), status=400, heading="Import historical responses"),
    # administration: a relationship, its service areas and waves
    page_type("relationship", signed_in("admin", "/admin/relationships/{relationship}/"), heading="Test Council — Test Supplier"),
    page_type("change a relationship", signed_in("admin", "/admin/relationships/{relationship}/edit"), heading="Change the relationship"),
    page_type("change a relationship with errors", signed_in("admin", "/admin/relationships/{relationship}/edit"), fill("Name of the relationship", ""), fill("Supplier", "Test Council"), press("Save changes"), status=400, heading="Change the relationship"),
    page_type("add a service area", signed_in("admin", "/admin/relationships/{relationship}/areas/new"), heading="Add a service area"),
    page_type("add a service area with errors", signed_in("admin", "/admin/relationships/{relationship}/areas/new"), press("Add service area"), status=400, heading="Add a service area"),
    page_type("rename a service area", signed_in("admin", "/admin/relationships/{relationship}/areas/{area}/edit"), heading="Rename Core ICT"),
    page_type("delete a service area", wave_in("draft"), signed_in("admin", "/admin/relationships/{relationship}/areas/{area}/delete"), heading="Delete the service area Core ICT", shows="Deleting it cannot be undone"),
    page_type("create a wave", signed_in("admin", "/admin/relationships/{relationship}/waves/new"), heading="Create a wave"),
    page_type("create a wave with errors", signed_in("admin", "/admin/relationships/{relationship}/waves/new"), fill_date("Closing date", "31", "2", "2030"), press("Create wave"), status=400, heading="Create a wave"),
    page_type("wave, draft", wave_in("draft"), signed_in("admin", "/admin/waves/{wave}/"), heading="Wave 2024-Q1", shows="Open the wave"),
    page_type("wave, open", wave_in("open", invited=2), staff_listed("ann@council.example"), signed_in("admin", "/admin/waves/{wave}/"), heading="Wave 2024-Q1", shows="Close the wave"),
    page_type("wave, closed", wave_in("closed", invited=2), signed_in("admin", "/admin/waves/{wave}/"), heading="Wave 2024-Q1", shows="This wave is closed"),
    page_type("change the schedule", signed_in("admin", "/admin/waves/{wave}/closing-date"), heading="Change the schedule"),
    page_type("close a wave", wave_in("open", invited=2), signed_in("admin", "/admin/waves/{wave}/close"), heading="Are you sure you want to close wave 2024-Q1?"),
    # administration: staff lists, invitations by email, response rates
    page_type("upload a staff list", signed_in("admin", "/admin/waves/{wave}/staff-list"), heading="Upload a staff list"),
    page_type("upload a staff list with errors", signed_in("admin", "/admin/waves/{wave}/staff-list"), choose_file("Upload a staff list", "staff.csv", BAD_STAFF_LIST), press("Upload staff list"), status=400, heading="Upload a staff list", shows="Problems in the file"),
    page_type("staff list uploaded", signed_in("admin", "/admin/waves/{wave}/staff-list"), choose_file("Upload a staff list", "staff.csv", GOOD_STAFF_LIST), press("Upload staff list"), heading="Staff list uploaded"),
    page_type("invitations", staff_listed("ann@council.example", "bob@council.example"), signed_in("admin", "/admin/waves/{wave}/invitations"), heading="Invitations and reminders"),
    page_type("invitations being sent (a job's page)", staff_listed("ann@council.example", REFUSED_ADDRESS), signed_in("admin", "/admin/waves/{wave}/invitations"), press("Send 2 invitations by email"), heading="Send the invitations of wave 2024-Q1"),
    page_type("invitation and reminder emails", signed_in("admin", "/admin/waves/{wave}/emails"), heading="Invitation and reminder emails"),
    page_type("invitation and reminder emails with errors", signed_in("admin", "/admin/waves/{wave}/emails"), fill("Invitation text, in English", "No link here {nobody}"), fill("Reminder subject, in Welsh", "Dolen {link}"), press("Save the emails"), status=400, heading="Invitation and reminder emails"),
    page_type("email preview", signed_in("admin", "/admin/waves/{wave}/emails/preview"), heading="Preview the emails", shows="Dear colleague"),
    page_type("email preview, a Welsh reminder to the supplier", signed_in("admin", "/admin/waves/{wave}/emails/preview?kind=reminder&side=supplier&language=cy"), heading="Preview the emails", shows="Eich dolen bersonol newydd"),
    page_type("invitations without email", signed_in("admin"), staff_listed("ann@council.example"), on_the_server_without_email("/admin/waves/{wave}/invitations"), heading="Invitations and reminders", shows="Email is not set up for this service"),
    page_type("response rates, open wave", wave_in("open", invited=2), signed_in("manager", "/admin/waves/{wave}/responses"), heading="Response rates", shows="Refresh the figures"),
    page_type("response rates, counts under k", wave_in("open", invited=2), signed_in("admin", "/admin/waves/{wave}/responses"), heading="Response rates", shows="fewer than 5"),
    page_type("response rates, closed wave", wave_in("closed", invited=2), signed_in("admin", "/admin/waves/{wave}/responses"), heading="Response rates", shows="the figures no longer change"),
    page_type("instrument preview contents", signed_in("admin", "/admin/instruments/partnership-health/v1/client/"), heading="Partnership health survey", shows="Preview"),
    page_type("instrument preview of the start page", signed_in("admin", "/admin/instruments/partnership-health/v1/client/start"), heading="Partnership health survey"),
    page_type("instrument preview of about you", signed_in("admin", "/admin/instruments/partnership-health/v1/client/about"), heading="About you"),
    page_type("instrument preview of about you with errors", signed_in("admin", "/admin/instruments/partnership-health/v1/client/about"), press("Continue"), status=400, heading="About you"),
    page_type("instrument preview of check answers", signed_in("admin", "/admin/instruments/partnership-health/v1/client/check"), heading="Check your answers before submitting"),
    page_type("instrument preview submitted", signed_in("admin", "/admin/instruments/partnership-health/v1/client/check"), press("Submit your answers"), heading="Survey submitted"),
    page_type("instrument preview of a section", signed_in("admin", "/admin/instruments/partnership-health/v1/supplier/1"), heading="Shared purpose"),
    page_type("instrument preview of a section with errors", signed_in("admin", "/admin/instruments/partnership-health/v1/supplier/1"), press("Save and continue"), status=400, heading="Shared purpose"),
    # actions agreed on a relationship's alerts and dimensions
    page_type("actions of a relationship", actions_agreed(), signed_in("manager", "/actions/{relationship}/"), heading="Test Council — Test Supplier", shows="Change from 2024-Q1 to 2024-Q2"),
    page_type("record an action", wave_in("closed"), signed_in("manager", "/actions/{relationship}/new"), heading="Record an action"),
    page_type("record an action with errors", wave_in("closed"), signed_in("manager", "/actions/{relationship}/new"), press("Save action"), status=400, heading="Record an action"),
    page_type("record an action on an alert", actions_agreed(), signed_in("manager", "/actions/{relationship}/new?alert={alert}"), heading="Record an action", shows="in wave 2024-Q2: Trust"),
    page_type("change an action", actions_agreed(alert=False), signed_in("manager", "/actions/{relationship}/{action}/edit"), heading="Change an action"),
    # background jobs: starting one, and its progress page in each state
    page_type("recompute the results", signed_in("admin", "/admin/"), visit("/jobs/recompute/{relationship}"), heading="Recompute the results"),
    # The page a started job lands on updates itself every 5 seconds (a meta refresh, issue 13),
    # which axe always reports (WCAG 2.2.1): its first line after the heading turns it off.
    page_type("job started, updating itself", signed_in("admin", "/admin/"), visit("/jobs/recompute/{relationship}"), press("Recompute the results"), heading="Recompute the results of", shows="Refresh the page"),
    page_type("job running", job_in("running"), signed_in("admin", "/jobs/{job}"), heading="Recompute the results of", shows="2 of 5 waves rebuilt"),
    page_type("job done", job_in("succeeded"), signed_in("admin", "/jobs/{job}"), heading="Recompute the results of", shows="See the results of"),
    page_type("job failed", job_in("failed"), signed_in("admin", "/jobs/{job}"), heading="Recompute the results of", shows="Try again"),
    page_type("job failed, listing problems (a refused import)", job_in("failed", REFUSED_IMPORT), signed_in("admin", "/jobs/{job}"), heading="Recompute the results of", shows="Row 14, column tr3"),
    # a person's own account (their language), and staff pages in Welsh (issue 17)
    page_type("your account", signed_in("reviewer", "/account/"), heading="Your account", shows="Which language do you want to use?"),
    page_type("your account, in Welsh", signed_in("reviewer", "/account/?lang=cy"), heading="Eich cyfrif", shows="Pa iaith ydych chi am ei defnyddio?"),
    page_type("sign in, in Welsh", visit("/sign-in?lang=cy"), press("Mewngofnodi"), status=400, heading="Mewngofnodi i", shows="Rhowch eich cyfeiriad e-bost"),
    page_type("wave, open, in Welsh", wave_in("open", invited=2), staff_listed("ann@council.example"), signed_in("admin", "/admin/waves/{wave}/?lang=cy"), heading="Cylch 2024-Q1", shows="Cau’r cylch"),
    page_type("create a wave with errors, in Welsh", signed_in("admin", "/admin/relationships/{relationship}/waves/new?lang=cy"), press("Creu cylch"), status=400, heading="Creu cylch", shows="Mae problem wedi codi"),
    page_type("response rates, in Welsh", wave_in("open", invited=2), signed_in("admin", "/admin/waves/{wave}/responses?lang=cy"), heading="Cyfraddau ymateb", shows="llai na 5"),
]
# fmt: on
