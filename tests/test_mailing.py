"""Invitations and reminders by email, received by a real SMTP server (aiosmtpd on 127.0.0.1).

The whole admin flow runs through the pages: relationship → wave → open → staff list → send
invitations that arrive in the mailbox → a respondent follows the link and submits → the
monitor shows it → a reminder reaches only those who have not submitted → close → the address
list is gone.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import (
    AuditEvent,
    Invitation,
    InvitationAddress,
    InvitationLink,
    Relationship,
    Wave,
)
from survey_app.services import mailing
from survey_app.services.invitations import hash_token
from tests.factories import (
    LINK,
    STAFF,
    STAFF_EMAILS,
    Respondent,
    assert_form_error,
    count,
    new_wave_by_page,
    no_secrets_in_the_audit_log,
    sections_of,
    sign_in,
    staff_csv,
    submit,
    summary_links,
    text,
    upload,
)
from tests.job_support import addresses, open_wave_with_staff, send_round_now
from tests.smtp_mailbox import SENDER, free_port, serving


def press(admin, wave_id: int, endpoint: str):  # type: ignore[no-untyped-def]
    """Press a button of the invitations page (a POST with the page's CSRF token)."""
    return submit(
        admin, f"/admin/waves/{wave_id}/{endpoint}", page=f"/admin/waves/{wave_id}/invitations"
    )


def sent_by_a_job(admin, wave_id: int, endpoint: str) -> str:  # type: ignore[no-untyped-def]
    """Press a sending button: it redirects (303) to its job's progress page; that page's text
    (the job ran at once: the test queue runs jobs in the process that starts them)."""
    started = press(admin, wave_id, endpoint)
    assert started.status_code == 303, started.status_code
    assert started.location.startswith("/jobs/")
    return text(admin.get(started.location))


# ========================================================================= the whole flow


def test_an_admin_runs_a_wave_from_the_browser_with_real_email(app, admin, mailbox):
    # a relationship and a wave, created and opened through the pages
    created = submit(
        admin,
        "/admin/relationships/new",
        {
            "name": "Test Council — Test Supplier",
            "client": "Test Council",
            "supplier": "Test Supplier",
            "service_areas": "Core ICT\nContact centre",
        },
    )
    assert created.status_code == 302
    rel_id = db.session.scalar(select(Relationship.id))
    closes = date.today() + timedelta(days=14)
    made = new_wave_by_page(admin, rel_id, "2024-Q1", closes)
    assert made.status_code == 302
    wave_id = db.session.scalar(select(Wave.id))
    assert (
        submit(admin, f"/admin/waves/{wave_id}/open", page=f"/admin/waves/{wave_id}/").status_code
        == 302
    )

    # the staff list, then the invitations by email
    assert upload(admin, wave_id, staff_csv(STAFF)).status_code == 200
    page = text(admin.get(f"/admin/waves/{wave_id}/invitations"))
    assert "Send 5 invitations by email" in page
    assert "5 invitations sent" in sent_by_a_job(admin, wave_id, "invitations/send")

    assert sorted(r.to[0] for r in mailbox.received) == sorted(STAFF_EMAILS)
    tokens = {}
    for received in mailbox.received:
        (address,) = received.to
        message = received.message
        assert message["To"] == address
        assert message["From"] == SENDER
        assert message["Subject"].strip().startswith("Please take part: ")
        assert "(2024-Q1)" in message["Subject"]
        assert f"The survey closes on {closes.day} {closes:%B %Y}." in received.body
        tokens[address] = received.token
    assert len(set(tokens.values())) == 5
    assert "as a member of staff of Test Council" in mailbox.to("ann@council.example")[0].body
    assert "as a member of staff of Test Supplier" in mailbox.to("eve@supplier.example")[0].body
    # the database has only the hashes, and the address list only invitation ids
    hashes = set(db.session.scalars(select(InvitationLink.token_hash)))
    assert hashes == {hash_token(t) for t in tokens.values()}
    assert all(a.invitation_id and a.invited_on == date.today() for a in addresses())

    # Ann follows her link and submits; Bob starts and saves
    ann = Respondent(app.test_client(), tokens["ann@council.example"])
    assert ann.complete(sections_of(db.session.get(Wave, wave_id))).status_code == 302
    bob = Respondent(app.test_client(), tokens["bob@council.example"])
    bob.open()
    bob.answer_about()
    assert bob.answer_section(1).status_code == 302

    # the monitor shows them
    rates = admin.get(f"/admin/waves/{wave_id}/responses.json").get_json()
    # One submitted and one started of five: counts under k are hidden (DESIGN §4.14).
    total = rates["total"]
    assert (total["started"], total["submitted"], total["rate"]) == (None, None, None)
    assert total["suppressed"]["submitted"] == "fewer than 5"
    core_client = next(
        r for r in rates["rows"] if r["side"] == "client" and r["area"] == "core-ict"
    )
    # Ann was the only council person in Core ICT: her invitation does not name the area, so
    # her submitting shows nowhere as "1 of 1 in Core ICT" (issue 11, leak 5d), and the one
    # submission of the wave shows as "fewer than 5" (the monitor applies k)
    assert (core_client["invited"], core_client["submitted"]) == (0, 0)
    assert "submitted: fewer than 5" in text(admin.get(f"/admin/waves/{wave_id}/"))

    # a reminder reaches only those who have not submitted, with a new link
    mailbox.clear()
    page = text(admin.get(f"/admin/waves/{wave_id}/invitations"))
    assert "Send a reminder to 4 people" in page
    assert "4 reminders (round 1) sent" in sent_by_a_job(admin, wave_id, "reminders/send")
    assert sorted(r.to[0] for r in mailbox.received) == sorted(
        set(STAFF_EMAILS) - {"ann@council.example"}
    )
    reminder = mailbox.to("bob@council.example")[0]
    assert reminder.message["Subject"].strip().startswith("Reminder: ")
    assert "open this link in the same browser to carry on" in reminder.body
    # opened elsewhere, the new link starts afresh and says the answers are under the earlier
    elsewhere = app.test_client()
    assert elsewhere.get(f"/s/{reminder.token}").headers["Location"] == "/survey/"
    assert "kept safe under the earlier link" in text(elsewhere.get("/survey/"))
    # opened where Bob saved his answers, it carries them on (his key is wrapped for it)
    assert bob.client.get(f"/s/{reminder.token}").headers["Location"] == "/survey/resume"
    # ...which still works (either link, once)
    assert app.test_client().get(f"/s/{tokens['bob@council.example']}").status_code == 302
    assert {a.email: a.reminders_sent for a in addresses()} == {
        "ann@council.example": 0,
        "bob@council.example": 1,
        "cat@council.example": 1,
        "dan@supplier.example": 1,
        "eve@supplier.example": 1,
    }

    # closing deletes the address list
    closed = submit(admin, f"/admin/waves/{wave_id}/close")
    assert closed.status_code == 303
    assert count(InvitationAddress) == 0
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "address_list.delete"))
    assert event.detail == {"wave": wave_id, "addresses": 5}
    assert app.test_client().get(f"/s/{reminder.token}").status_code == 410
    all_tokens = [*tokens.values(), *(r.token for r in mailbox.received)]
    no_secrets_in_the_audit_log(STAFF_EMAILS, all_tokens)
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"invitations.round", "reminders.round", "staff_list.upload", "wave.close"} <= actions


# ========================================================================== failures, batches


def test_a_refused_address_is_reported_and_the_rest_are_sent(admin, factory, mailbox):
    wave_id = open_wave_with_staff(admin, factory)
    mailbox.refuse = {"cat@council.example"}
    done = sent_by_a_job(admin, wave_id, "invitations/send")
    assert "4 invitations sent" in done and "; 1 could not be sent" in done
    page = text(admin.get(f"/admin/waves/{wave_id}/invitations"))
    assert "cat@council.example" in page and "refused by the mail server: 550" in page
    assert len(mailbox.received) == 4
    by_email = {a.email: a for a in addresses()}
    cat = by_email.pop("cat@council.example")
    assert (cat.invitation_id, cat.last_error[:34]) == (None, "refused by the mail server: 550 5.")
    assert all(a.invitation_id for a in by_email.values())
    assert count(Invitation) == 4  # the refused address's link was never left behind

    mailbox.refuse = set()
    assert "1 invitation sent" in sent_by_a_job(admin, wave_id, "failed/retry")
    assert [r.to for r in mailbox.received][-1] == ["cat@council.example"]
    assert count(Invitation) == 5
    assert all(a.invitation_id and a.last_error is None for a in addresses())


def test_trying_failed_addresses_again_sends_a_round_for_each_kind_that_failed(
    admin, factory, mailbox
):
    wave_id = open_wave_with_staff(admin, factory)
    nothing = press(admin, wave_id, "failed/retry")
    assert_form_error(nothing, "No message has failed: there is nothing to try again")
    mailbox.refuse = {"cat@council.example"}
    sent_by_a_job(admin, wave_id, "invitations/send")
    mailbox.refuse = {"dan@supplier.example"}
    reminded = sent_by_a_job(admin, wave_id, "reminders/send")
    assert "3 reminders (round 1) sent" in reminded and "; 1 could not be sent" in reminded
    mailbox.refuse = set()
    mailbox.clear()
    again = press(admin, wave_id, "failed/retry")
    assert again.status_code == 303  # two rounds: back to the page that lists both
    assert again.location == f"/admin/waves/{wave_id}/invitations"
    assert "Messages that failed" not in text(admin.get(again.location))
    assert sorted(r.to[0] for r in mailbox.received) == [
        "cat@council.example",
        "dan@supplier.example",
    ]
    assert "Please take part" in mailbox.to("cat@council.example")[0].message["Subject"]
    assert "Reminder" in mailbox.to("dan@supplier.example")[0].message["Subject"]
    assert all(a.invitation_id and a.last_error is None for a in addresses())
    assert {a.email: a.reminders_sent for a in addresses()}["dan@supplier.example"] == 1


def test_an_unreachable_server_stops_the_round_and_blames_no_address(app, admin, factory):
    wave_id = open_wave_with_staff(admin, factory)
    app.config.update(
        SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_STARTTLS=False, MAIL_FROM=SENDER
    )
    page = sent_by_a_job(admin, wave_id, "invitations/send")
    assert "Sending stopped:" in page and "could not connect to the mail server" in page
    assert "Try again" in page
    assert count(Invitation) == 0
    assert all(a.invitation_id is None and a.last_error is None for a in addresses())


@pytest.mark.parametrize(
    "setting",
    [{"SMTP_SECURITY": "starttls"}, {"SMTP_SECURITY": "", "SMTP_STARTTLS": True}],
    ids=["SMTP_SECURITY", "older SMTP_STARTTLS"],
)
def test_a_server_without_starttls_is_refused_when_starttls_is_required(
    admin, factory, mailbox, app, setting
):
    wave_id = open_wave_with_staff(admin, factory)
    app.config.update(setting)
    page = sent_by_a_job(admin, wave_id, "invitations/send")
    assert "does not offer STARTTLS" in page
    assert mailbox.received == [] and count(Invitation) == 0


def test_one_click_invites_everybody_and_reloading_or_clicking_again_sends_nothing_more(
    admin, factory, mailbox, app
):
    wave_id = open_wave_with_staff(admin, factory)
    started = press(admin, wave_id, "invitations/send")
    assert started.status_code == 303
    for _ in range(2):  # the progress page, reloaded
        assert "5 invitations sent" in text(admin.get(started.location))
    assert sorted(r.to[0] for r in mailbox.received) == sorted(STAFF_EMAILS)  # each exactly once
    page = text(admin.get(f"/admin/waves/{wave_id}/invitations"))
    assert "Everybody on the address list has been invited" in page
    assert "Nobody was waiting" in sent_by_a_job(admin, wave_id, "invitations/send")
    assert len(mailbox.received) == 5


def test_reminders_go_in_rounds(admin, factory, mailbox, app):
    wave_id = open_wave_with_staff(admin, factory)
    sent_by_a_job(admin, wave_id, "invitations/send")
    mailbox.clear()
    assert "5 reminders (round 1) sent" in sent_by_a_job(admin, wave_id, "reminders/send")
    assert sorted(r.to[0] for r in mailbox.received) == sorted(STAFF_EMAILS)  # round 1: each once
    page = text(admin.get(f"/admin/waves/{wave_id}/invitations"))
    assert "Send a reminder to 5 people" in page
    assert "5 reminders (round 2) sent" in sent_by_a_job(admin, wave_id, "reminders/send")
    assert {a.reminders_sent for a in addresses()} == {2}


def test_sending_is_paced_to_the_configured_rate(app, factory, mailbox):
    app.config["MAIL_MAX_PER_MINUTE"] = 600  # one message every 0.1 s
    admin = sign_in(app)
    wave_id = open_wave_with_staff(admin, factory)
    started = time.monotonic()
    assert send_round_now(wave_id, "invitations")["sent"] == 5
    assert time.monotonic() - started >= 0.4


def test_the_server_sign_in_is_used_and_a_wrong_password_stops_sending(app, admin, factory):
    def authenticator(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            b"survey",
            b"right password",
        )
        return AuthResult(success=ok, handled=False)  # not handled: the server answers 535

    # AUTH offered without TLS: a local test server only
    with serving(app, authenticator=authenticator, auth_require_tls=False) as box:
        app.config.update(SMTP_USERNAME="survey", SMTP_PASSWORD="wrong password")
        wave_id = open_wave_with_staff(admin, factory)
        page = sent_by_a_job(admin, wave_id, "invitations/send")
        assert "the mail server refused the sign-in" in page
        assert box.received == [] and count(Invitation) == 0
        app.config["SMTP_PASSWORD"] = "right password"
        assert "5 invitations sent" in sent_by_a_job(admin, wave_id, "invitations/send")
        assert len(box.received) == 5


def test_without_smtp_settings_only_the_mail_merge_file_is_offered(app, admin, factory):
    app.config.update(SMTP_HOST="", MAIL_FROM="")
    wave_id = open_wave_with_staff(admin, factory)
    page = text(admin.get(f"/admin/waves/{wave_id}/invitations"))
    assert "Email is not set up for this service" in page
    assert "by email" not in page
    response = press(admin, wave_id, "invitations/send")
    assert_form_error(response, "Email is not set up for this service")
    assert summary_links(response) == []
    assert count(Invitation) == 0


def test_a_message_names_no_other_recipient_and_carries_one_link(admin, factory, mailbox):
    wave_id = open_wave_with_staff(admin, factory)
    sent_by_a_job(admin, wave_id, "invitations/send")
    for received in mailbox.received:
        raw = received.message.as_string()
        others = [e for e in STAFF_EMAILS if e != received.to[0]]
        assert not any(o in raw for o in others)
        assert len(LINK.findall(received.body)) == 1
        assert received.message["Auto-Submitted"] == "auto-generated"


# ========================================================================= TLS to the server


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@dataclass(frozen=True)
class Certificates:
    ca: Path  # the CA certificate the client is told to trust (SMTP_CA_FILE)
    server: tuple[Path, Path]  # certificate and key for 127.0.0.1 and localhost, signed by ca
    wrong_name: tuple[Path, Path]  # signed by ca, but for mail.example only
    other_ca: Path  # a CA that signed none of them


@pytest.fixture(scope="session")
def certificates(tmp_path_factory) -> Certificates:  # type: ignore[no-untyped-def]
    """A throwaway CA and server certificates made with the openssl command (for 1 day)."""
    where = tmp_path_factory.mktemp("tls")
    for name in ("ca", "other-ca"):
        openssl(
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", f"{name}.key", "-out", f"{name}.pem", "-subj", f"/CN=Test {name}",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            cwd=where,
        )  # fmt: skip
    for name, names in (("server", "DNS:localhost,IP:127.0.0.1"), ("wrong", "DNS:mail.example")):
        (where / f"{name}.ext").write_text(
            f"subjectAltName={names}\nbasicConstraints=critical,CA:FALSE\n"
            "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
        )
        openssl(
            "req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key",
            "-out", f"{name}.csr", "-subj", f"/CN={name}",
            cwd=where,
        )  # fmt: skip
        openssl(
            "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-set_serial", "1" if name == "server" else "2", "-days", "1",
            "-out", f"{name}.pem", "-extfile", f"{name}.ext",
            cwd=where,
        )  # fmt: skip
    return Certificates(
        ca=where / "ca.pem",
        server=(where / "server.pem", where / "server.key"),
        wrong_name=(where / "wrong.pem", where / "wrong.key"),
        other_ca=where / "other-ca.pem",
    )


def test_implicit_tls_delivers_when_the_servers_certificate_is_verified(
    app, admin, factory, certificates
):
    wave_id = open_wave_with_staff(admin, factory)
    with serving(app, security="tls", certificate=certificates.server) as box:
        app.config["SMTP_CA_FILE"] = str(certificates.ca)
        assert "5 invitations sent" in sent_by_a_job(admin, wave_id, "invitations/send")
        assert sorted(r.to[0] for r in box.received) == sorted(STAFF_EMAILS)
        assert all(LINK.search(r.body) for r in box.received)


@pytest.mark.parametrize("case", ["system CAs only", "another CA", "wrong host name"])
def test_implicit_tls_refuses_a_certificate_it_cannot_verify(
    app, admin, factory, certificates, case
):
    wave_id = open_wave_with_staff(admin, factory)
    pair = certificates.wrong_name if case == "wrong host name" else certificates.server
    ca_file = {"system CAs only": "", "another CA": str(certificates.other_ca)}.get(
        case, str(certificates.ca)
    )
    with serving(app, security="tls", certificate=pair) as box:
        app.config["SMTP_CA_FILE"] = ca_file
        page = sent_by_a_job(admin, wave_id, "invitations/send")
        assert "Sending stopped:" in page and "CERTIFICATE_VERIFY_FAILED" in page
        assert "check SMTP_HOST and SMTP_CA_FILE" in page
        assert box.received == []
    assert count(Invitation) == 0
    assert all(a.invitation_id is None and a.last_error is None for a in addresses())


def test_implicit_tls_against_a_plain_server_says_what_to_check(admin, factory, mailbox, app):
    wave_id = open_wave_with_staff(admin, factory)
    app.config["SMTP_SECURITY"] = "tls"
    page = sent_by_a_job(admin, wave_id, "invitations/send")
    assert "Sending stopped:" in page and "check SMTP_SECURITY and SMTP_PORT" in page
    assert mailbox.received == [] and count(Invitation) == 0


def test_starttls_verifies_the_certificate_against_the_ca_file(app, admin, factory, certificates):
    wave_id = open_wave_with_staff(admin, factory)
    with serving(app, security="starttls", certificate=certificates.server) as box:
        app.config["SMTP_CA_FILE"] = str(certificates.other_ca)
        page = sent_by_a_job(admin, wave_id, "invitations/send")
        assert "CERTIFICATE_VERIFY_FAILED" in page and box.received == []
        app.config["SMTP_CA_FILE"] = str(certificates.ca)
        assert "5 invitations sent" in sent_by_a_job(admin, wave_id, "invitations/send")
        assert len(box.received) == 5


# ====================================================================== settings at startup


def make(tmp_path, **config):  # type: ignore[no-untyped-def]
    from survey_app import create_app

    base = {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    return create_app({**base, **config})


def test_the_security_setting_and_the_default_port(tmp_path, certificates):
    settings = mailing.MailSettings.from_config
    assert settings({"SMTP_SECURITY": "TLS"}).security == "tls"
    assert settings({"SMTP_SECURITY": "tls"}).port == 465
    assert settings({"SMTP_SECURITY": "tls", "SMTP_PORT": "2465"}).port == 2465
    assert (settings({}).security, settings({}).port) == ("starttls", 587)
    assert settings({"SMTP_STARTTLS": False}).security == "none"
    app = make(tmp_path, SMTP_SECURITY="tls", SMTP_CA_FILE=str(certificates.ca))
    assert app.config["SMTP_SECURITY"] == "tls"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"SMTP_SECURITY": "ssl"}, "SMTP_SECURITY must be one of starttls, tls, none, not 'ssl'"),
        (
            {"SMTP_SECURITY": "starttls", "SMTP_STARTTLS": False},
            "SMTP_SECURITY=starttls contradicts SMTP_STARTTLS=0",
        ),
        ({"SMTP_PORT": "smtp"}, "SMTP_PORT must be a port number (1 to 65535), not 'smtp'"),
        ({"SMTP_PORT": 70000}, "SMTP_PORT must be a port number"),
        ({"SMTP_CA_FILE": "/nonexistent/ca.pem"}, "SMTP_CA_FILE /nonexistent/ca.pem: no such file"),
        ({"SMTP_CA_FILE": "NOT-PEM"}, "must hold CA certificates in PEM format"),
    ],
)
def test_a_wrong_mail_setting_stops_the_start_naming_it(tmp_path, config, message):
    if config.get("SMTP_CA_FILE") == "NOT-PEM":
        bad = tmp_path / "not.pem"
        bad.write_text("not a certificate")
        config = {"SMTP_CA_FILE": str(bad)}
    with pytest.raises(mailing.MailConfigError) as caught:
        make(tmp_path, **config)
    assert message in str(caught.value)
