"""Fuzzing the respondent's pages: the personal link, 'About you', each section page and
'Check your answers'. Junk links are 404; bad answers give the page again (400) with the GOV.UK
error summary naming the question; a bad CSRF token is the 400 error page; nothing is saved."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.factories import radio_names
from tests.fuzz.conftest import (
    CSRF,
    CSRF_MODES,
    FUZZ,
    assert_clear_refusal,
    csrf_passes,
    encode,
    nothing_changes,
    page_csrf,
    post_form,
    respondent,
    send_form,
)
from tests.fuzz.strategies import fields, junk, maybe

ANSWERS = ["1", "2", "3", "4", "5", "dk"]


def _sections():  # type: ignore[no-untyped-def]
    from instruments import find_instrument
    from survey_app.services.respondents import build_sections

    return build_sections(find_instrument("partnership-health", 1))


def test_fuzz_personal_links(app, client, world, caplog):
    """Unknown, overlong, unicode and binary links: 404 'Survey link not recognised'."""

    @FUZZ
    @given(
        token=st.one_of(
            junk.filter(lambda t: t not in ("", b"")),
            st.just(world.token + "x"),
            st.just(world.token.upper()),
            st.just(world.token * 5),
        )
    )
    def run(token):  # type: ignore[no-untyped-def]
        path = "/s/" + encode(token).replace("%2F", "/")
        with nothing_changes(caplog):
            response = client.get(path)
            assert_clear_refusal(response, statuses=(404,))

    run()


def test_fuzz_about_you(app, factory, world, other_csrf, caplog):
    from survey_app.extensions import db
    from survey_app.models import Wave

    (token,) = factory.tokens(db.session.get(Wave, world.open_wave))  # nothing fixed
    client, _ = respondent(app, token)
    valid = page_csrf(client, "/survey/about")

    @FUZZ
    @given(
        mode=CSRF,
        target=st.sampled_from(["service_area", "role_level"]),
        data=st.data(),
    )
    def run(mode, target, data):  # type: ignore[no-untyped-def]
        good = {
            "service_area": ["core-ict", "contact-centre", "none"],
            "role_level": ["staff", "manager", "not-said"],
        }
        known = {
            name: (
                junk.filter(lambda v, name=name: v not in good[name])
                if name == target
                else maybe(good[name], 2)
            )
            for name in good
        }
        if data.draw(st.booleans()):
            known.pop(target)  # a missing answer
        pairs = data.draw(fields(known, always=tuple(k for k in known if k == target)))
        with nothing_changes(caplog):
            response = send_form(client, "/survey/about", mode, valid, other_csrf, pairs)
            kind = assert_clear_refusal(response, statuses=(400,))
            assert kind == ("form" if csrf_passes(mode) else "csrf")

    run()


def one_field_bad(data, names, bad, other, save_later: bool) -> list:  # type: ignore[no-untyped-def]
    """A section page's fields: one of ``names``, drawn by ``data``, always sent with a value
    from ``bad``, the others maybe sent with values from ``other``; and the "save and come back
    later" button when ``save_later``."""
    target = data.draw(st.sampled_from(names))
    known = {name: (bad if name == target else other) for name in names}
    pairs = data.draw(fields(known, always=(target,)))
    if save_later:
        pairs.append(("save_later", "Save and come back later"))
    return pairs


def test_fuzz_section_pages(app, world, other_csrf, caplog):
    client, person = respondent(app, world.token)  # its invitation fixes the service area
    assert person.answer_about(role="staff").status_code == 302
    sections = _sections()
    pages = {
        sec.number: radio_names(client.get(f"/survey/section/{sec.number}").get_data(as_text=True))
        for sec in sections
        if sec.kind == "dimension"
    }
    valid = page_csrf(client, "/survey/section/1")

    @FUZZ
    @given(
        number=st.sampled_from(sorted(pages)),
        mode=CSRF,
        save_later=st.booleans(),
        query=st.sampled_from(["", "?return=check", "?return=%00", "?return=http://evil.example"]),
        data=st.data(),
    )
    def run(number, mode, save_later, query, data):  # type: ignore[no-untyped-def]
        bad = junk.filter(lambda v: v not in ANSWERS and v not in (b"", ""))
        pairs = one_field_bad(data, pages[number], bad, maybe(ANSWERS, 2), save_later)
        with nothing_changes(caplog):
            response = send_form(
                client, f"/survey/section/{number}{query}", mode, valid, other_csrf, pairs
            )
            kind = assert_clear_refusal(response, statuses=(400,))
            assert kind == ("form" if csrf_passes(mode) else "csrf")
            if kind == "form":
                assert "Select one of the answers given for" in response.get_data(as_text=True)

    run()


def test_fuzz_comments_page(app, world, other_csrf, caplog):
    """Comments too long or holding control characters are refused; nothing is saved."""
    client, person = respondent(app, world.token)
    assert person.answer_about(role="staff").status_code == 302
    number = len(_sections())
    html = client.get(f"/survey/section/{number}").get_data(as_text=True)
    import re

    names = re.findall(r'<textarea[^>]*name="(q_[a-z0-9_]+)"', html)
    assert names
    valid = page_csrf(client, f"/survey/section/{number}")
    bad = st.one_of(
        st.tuples(st.text(max_size=10), st.sampled_from(["\x00", "\x01", "\x1b"])).map("".join),
        st.integers(5_001, 12_000).map(lambda n: "y" * n),
    )

    @FUZZ
    @given(mode=CSRF, save_later=st.booleans(), data=st.data())
    def run(mode, save_later, data):  # type: ignore[no-untyped-def]
        pairs = one_field_bad(data, names, bad, junk, save_later)
        with nothing_changes(caplog):
            response = send_form(
                client, f"/survey/section/{number}", mode, valid, other_csrf, pairs
            )
            kind = assert_clear_refusal(response)
            if not csrf_passes(mode):
                assert kind == "csrf"
            else:
                assert kind == "form" or response.status_code == 413

    run()


def test_fuzz_check_your_answers(app, world, other_csrf, caplog):
    """A complete draft submitted without a good CSRF token: 400, nothing submitted."""
    client, person = respondent(app, world.token)
    person.answer_about(role="staff")
    for sec in _sections():
        assert person.answer_section(sec.number, "3").status_code == 302
    assert client.get("/survey/check").status_code == 200

    @FUZZ
    @given(
        mode=st.sampled_from([m for m in CSRF_MODES if not csrf_passes(m)]),
        pairs=fields({"submit": junk, "q_x": junk}),
    )
    def run(mode, pairs):  # type: ignore[no-untyped-def]
        valid = page_csrf(client, "/survey/check")
        with nothing_changes(caplog):
            response = send_form(client, "/survey/check", mode, valid, other_csrf, pairs)
            assert assert_clear_refusal(response, statuses=(400,)) == "csrf"

    run()


def test_fuzz_survey_pages_without_a_session(app, client, caplog):
    """POSTs to the survey pages with no link opened: 403 or the CSRF error, never a save."""

    @FUZZ
    @given(
        path=st.sampled_from(
            ["/survey/about", "/survey/section/1", "/survey/section/0", "/survey/check"]
        ),
        pairs=fields({"csrf_token": junk, "q_sp1": junk}),
    )
    def run(path, pairs):  # type: ignore[no-untyped-def]
        with nothing_changes(caplog):
            response = post_form(client, path, pairs)
            assert_clear_refusal(response, statuses=(400, 403))

    run()
