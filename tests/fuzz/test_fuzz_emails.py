"""Fuzzing a wave's email texts page: every example carries a text the page must refuse (a
body without ``{link}``, with it twice or inside a sentence, an unknown placeholder, a subject
holding the link) or a bad CSRF token, the other fields fuzzed freely; the answer is the form
again with its error summary (400) or the CSRF page, and no version is saved."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.conftest import CSRF, FUZZ, nothing_changes, page_csrf, refused
from tests.fuzz.conftest import send_form as send
from tests.fuzz.strategies import fields, junk, maybe

BAD_BODY = st.one_of(
    st.sampled_from(
        [
            "",
            "Dear colleague, please answer.",
            "Your link: {link}",
            "{link}\n\n{link}",
            "Hello {name}\n\n{link}",
            "Hello {}\n\n{link}",
            "{LINK}",
        ]
    ),
    junk.filter(lambda text: "{link}" not in str(text)),
)
BAD_SUBJECT = st.sampled_from(["", "Your link {link}", "Two\nlines", "{nope}", "x" * 151])
TEXT_FIELDS = [
    f"{kind}_{part}_{code}"
    for code in ("en", "cy")
    for kind in ("invitation", "reminder")
    for part in ("subject", "body")
]


def test_fuzz_email_texts(app, admin, world, other_csrf, caplog):
    valid = page_csrf(admin, f"/admin/waves/{world.open_wave}/emails")

    @FUZZ
    @given(mode=CSRF, closed=st.booleans(), data=st.data())
    def run(mode, closed, data):  # type: ignore[no-untyped-def]
        wave = world.closed_wave if closed else world.open_wave
        bad = data.draw(st.sampled_from(TEXT_FIELDS))
        known = {name: junk for name in TEXT_FIELDS}
        known[bad] = BAD_SUBJECT if "subject" in bad else BAD_BODY
        known.update(
            sender_name=maybe(["Survey team"]),
            team_en=maybe(["Survey team"]),
            team_email=maybe(["survey@council.example", "not an address"]),
            team_phone=maybe(["01632 960 001", "call us"]),
        )
        pairs = data.draw(fields(known, always=(bad,)))
        with nothing_changes(caplog):
            refused(
                send(admin, f"/admin/waves/{wave}/emails", mode, valid, other_csrf, pairs), mode
            )

    run()
