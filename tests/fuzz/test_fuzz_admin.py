"""Fuzzing the admin forms: relationships, service areas, waves, the wave buttons (open, close,
invitations, reminders, mail merge), the questionnaire preview and the actions pages.

Every example is bad by construction — a bad CSRF token, or at least one field the page must
refuse (the others are fuzzed freely) — so the answer must be the CSRF error page or the form
again with its GOV.UK error summary (400, or 409 for a refused state change), and the
database must not change.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import quote

from hypothesis import given
from hypothesis import strategies as st

from survey_app.extensions import db
from survey_app.models import Relationship, User
from survey_app.services import actions as actions_service
from survey_app.services import targets as targets_service
from survey_app.web.actions.targets import MEAN
from tests.fuzz.conftest import (
    CSRF,
    FUZZ,
    PAST,
    TODAY,
    assert_clear_refusal,
    csrf_passes,
    nothing_changes,
    page_csrf,
    refused,
)
from tests.fuzz.conftest import send_form as send
from tests.fuzz.strategies import fields, junk, maybe

CONTROL = st.sampled_from(["\x00", "\x01", "\x07", "\x1b", "\x7f\x08"])


def bad_name(*taken: str) -> st.SearchStrategy[str]:
    """A name the page must refuse: blank, too long, with a control character, or taken."""
    return st.one_of(
        st.sampled_from(["", " ", "\t \r\n", *taken, *(f"  {t.upper()}  " for t in taken)]),
        st.text(min_size=201, max_size=260).filter(lambda s: len(s.strip()) > 200),
        st.tuples(st.text(max_size=20), CONTROL, st.text(max_size=20)).map("".join),
    )


def date_parts(valid: date | None = None) -> st.SearchStrategy[list[object]]:
    """The three boxes of a GOV.UK date input, or the wrong number of junk boxes."""
    boxes = st.lists(junk, min_size=0, max_size=5)
    if valid is None:
        return boxes
    exact = [str(valid.day), str(valid.month), str(valid.year)]
    return st.one_of(st.just(exact), boxes)


def bad_date() -> st.SearchStrategy[list[object]]:
    """Dates the page must refuse: in the past, impossible, partial, or not three boxes."""
    return st.one_of(
        st.just([str(PAST.day), str(PAST.month), str(PAST.year)]),
        st.just(["31", "2", str(TODAY.year + 1)]),
        st.just(["1", "1", "99999"]),
        st.just(["", "", ""]).map(lambda _: ["", "3", str(TODAY.year + 1)]),
        st.lists(st.sampled_from(["1", "x", "", "-1", "٣"]), min_size=3, max_size=3).filter(
            lambda parts: not all(p.isdigit() for p in parts) or len(parts[2]) != 4
        ),
        st.lists(junk, max_size=2),
        st.lists(junk, min_size=4, max_size=6),
    )


# ============================================================================ relationships


def test_fuzz_new_relationship(app, admin, world, other_csrf, caplog):
    valid = page_csrf(admin, "/admin/relationships/new")

    @FUZZ
    @given(
        mode=CSRF,
        pairs=fields(
            {
                "name": bad_name(world.rel.name, world.other.name),
                "client": maybe(["A council", "Fuzz Council"]),
                "supplier": maybe(["A supplier", "Fuzz Supplier"]),
                "service_areas": maybe(["One\nTwo", "Same\nsame", "x" * 201]),
                "submit": maybe(["Create relationship"]),
            },
            always=("name",),
        ),
    )
    def run(mode, pairs):  # type: ignore[no-untyped-def]
        with nothing_changes(caplog):
            refused(send(admin, "/admin/relationships/new", mode, valid, other_csrf, pairs), mode)

    run()


def test_fuzz_edit_relationship(app, admin, world, other_csrf, caplog):
    path = f"/admin/relationships/{world.rel.id}/edit"
    valid = page_csrf(admin, path)

    @FUZZ
    @given(
        mode=CSRF,
        pairs=fields(
            {
                "name": bad_name(world.other.name),
                "client": maybe(["Fuzz Council", "Fuzz Supplier"]),
                "supplier": maybe(["Fuzz Supplier", "Fuzz Council"]),
            },
            always=("name",),
        ),
    )
    def run(mode, pairs):  # type: ignore[no-untyped-def]
        with nothing_changes(caplog):
            refused(send(admin, path, mode, valid, other_csrf, pairs), mode)

    run()


# ============================================================================ service areas


def test_fuzz_service_area_forms(app, admin, world, other_csrf, caplog):
    paths = [
        f"/admin/relationships/{world.rel.id}/areas/new",
        f"/admin/relationships/{world.rel.id}/areas/{world.rel.area_ids[1]}/edit",
    ]
    valid = page_csrf(admin, paths[0])

    @FUZZ
    @given(
        path=st.sampled_from(paths),
        mode=CSRF,
        pairs=fields(
            {
                "name": st.one_of(
                    bad_name(world.rel.area_names[0]), st.sampled_from(["---", "…", "💥"])
                )
            },
            always=("name",),
        ),
    )
    def run(path, mode, pairs):  # type: ignore[no-untyped-def]
        with nothing_changes(caplog):
            refused(send(admin, path, mode, valid, other_csrf, pairs), mode)

    run()


def test_fuzz_delete_an_area_in_use(app, admin, world, other_csrf, caplog):
    path = f"/admin/relationships/{world.rel.id}/areas/{world.used_area}/delete"
    valid = page_csrf(admin, path)

    @FUZZ
    @given(mode=CSRF, pairs=fields({"submit": junk}))
    def run(mode, pairs):  # type: ignore[no-untyped-def]
        with nothing_changes(caplog):
            response = send(admin, path, mode, valid, other_csrf, pairs)
            refused(response, mode)
            if csrf_passes(mode):
                assert "cannot be deleted because invitations name it" in response.get_data(
                    as_text=True
                )

    run()


# ==================================================================================== waves


def test_fuzz_new_wave(app, admin, world, other_csrf, caplog):
    path = f"/admin/relationships/{world.rel.id}/waves/new"
    valid = page_csrf(admin, path)
    good = {
        "label": ["2025-Q1", "Wave 9"],
        "instrument": ["partnership-health:1"],
        "closes_on": [[str(TODAY.day), str(TODAY.month), str(TODAY.year + 1)]],
    }
    bad = {
        "label": st.one_of(
            st.sampled_from(["", " ", "2024-Q1", "-starts-with-dash", "a/b", "x" * 41]),
            st.tuples(st.text(max_size=5), CONTROL).map("".join),
        ),
        "instrument": st.one_of(
            st.sampled_from(["", "partnership-health:99", "partnership-health", ":1", "x:y"]),
            st.text(max_size=20).filter(lambda s: s != "partnership-health:1"),
        ),
        "closes_on": bad_date(),
    }

    @FUZZ
    @given(
        mode=CSRF,
        target=st.sampled_from(sorted(bad)),
        data=st.data(),
    )
    def run(mode, target, data):  # type: ignore[no-untyped-def]
        known = {
            name: bad[name] if name == target else maybe(good[name], 2) for name in sorted(good)
        }
        known["closes_on"] = bad["closes_on"] if target == "closes_on" else date_parts(TODAY)
        pairs = flatten(data.draw(fields(known, always=(target,))))
        with nothing_changes(caplog):
            refused(send(admin, path, mode, valid, other_csrf, pairs), mode)

    run()


def flatten(pairs):  # type: ignore[no-untyped-def]
    """Fields whose value is a list (the date boxes) become one pair per value."""
    out = []
    for name, value in pairs:
        if isinstance(value, list):
            out.extend((name, v) for v in value)
        else:
            out.append((name, value))
    return out


def test_fuzz_extend_wave(app, admin, world, other_csrf, caplog):
    valid = page_csrf(admin, f"/admin/waves/{world.open_wave}/closing-date")

    @FUZZ
    @given(
        mode=CSRF,
        closed=st.booleans(),
        data=st.data(),
    )
    def run(mode, closed, data):  # type: ignore[no-untyped-def]
        wave = world.closed_wave if closed else world.open_wave
        dates = date_parts(TODAY) if closed else bad_date()
        pairs = flatten(data.draw(fields({"closes_on": dates}, always=("closes_on",))))
        path = f"/admin/waves/{wave}/closing-date"
        with nothing_changes(caplog):
            refused(send(admin, path, mode, valid, other_csrf, pairs), mode)

    run()


def test_fuzz_wave_buttons(app, admin, world, other_csrf, caplog):
    """open / close / send / retry / mail merge on a wave in a state where each is refused
    (and no mail server is configured): 409 with the reason, or 400 for a bad CSRF token."""
    valid = page_csrf(admin, f"/admin/waves/{world.open_wave}/")
    refusals = [
        (f"/admin/waves/{world.open_wave}/open", 409),
        (f"/admin/waves/{world.closed_wave}/open", 409),
        (f"/admin/waves/{world.closed_wave}/close", 409),
        (f"/admin/waves/{world.draft_wave}/close", 409),
    ]
    for action in (
        "invitations/send",
        "reminders/send",
        "failed/retry",
        "invitations/mail-merge",
        "reminders/mail-merge",
    ):
        for wave in (world.draft_wave, world.open_wave, world.closed_wave):
            refusals.append((f"/admin/waves/{wave}/{action}", 409))

    @FUZZ
    @given(
        refusal=st.sampled_from(refusals),
        mode=CSRF,
        pairs=fields({"submit": junk}),
    )
    def run(refusal, mode, pairs):  # type: ignore[no-untyped-def]
        path, status = refusal
        with nothing_changes(caplog):
            refused(send(admin, path, mode, valid, other_csrf, pairs), mode, (status,))

    run()


# ================================================================================= preview


def test_fuzz_preview_pages(app, admin, world, other_csrf, caplog):
    """The preview's section, 'About you' and 'Check your answers' pages store nothing whatever
    they are sent: 400 with the error summary for bad answers, a redirect for good ones or
    'Save and come back later', 404 for a bad address."""
    base = "/admin/instruments/partnership-health/v1"
    valid = page_csrf(admin, f"{base}/client/1")
    html = admin.get(f"{base}/client/1").get_data(as_text=True)
    from tests.factories import radio_names

    names = radio_names(html)
    comment_page = f"{base}/client/{len(_sections())}"
    comment_names = _textareas(admin.get(comment_page).get_data(as_text=True))

    @FUZZ
    @given(
        side=st.sampled_from(["client", "supplier", "council", "", "CLIENT"]),
        number=st.sampled_from([1, 2, len(_sections()), 0, 999, 2**40, "about", "check"]),
        query=st.sampled_from(
            ["", f"?relationship={world.rel.id}", "?relationship=-1", "?relationship=%FF"]
            + ["?relationship=\u00b2", "?relationship=99999999999999999999"]
        ),
        mode=CSRF,
        data=st.data(),
    )
    def run(side, number, query, mode, data):  # type: ignore[no-untyped-def]
        known = {name: maybe(["1", "5", "dk"], 3) for name in names + comment_names}
        known["service_area"] = maybe(["none", "core-ict"])
        known["role_level"] = maybe(["staff", "not-said"])
        known["save_later"] = st.sampled_from(["", "Save"])
        pairs = data.draw(fields(known))
        path = f"{base}/{side}/{number}{query}"
        with nothing_changes(caplog):
            response = send(admin, path, mode, valid, other_csrf, pairs)
            if response.status_code == 302:
                assert csrf_passes(mode)
                assert "/admin/instruments/" in response.headers["Location"]
            else:
                kind = assert_clear_refusal(response)
                if response.status_code == 404:
                    assert side not in ("client", "supplier") or number not in (
                        *range(1, len(_sections()) + 1),
                        "about",
                        "check",
                    )
                elif not csrf_passes(mode):
                    assert kind == "csrf"
                else:
                    assert kind == "form" and response.status_code == 400

    run()


def _sections():  # type: ignore[no-untyped-def]
    from instruments import find_instrument
    from survey_app.services.respondents import build_sections

    return build_sections(find_instrument("partnership-health", 1))


def _textareas(html: str) -> list[str]:
    import re

    return re.findall(r'<textarea[^>]*name="(q_[a-z0-9_]+)"', html)


# ================================================================================= actions


def _action_world(app, world):  # type: ignore[no-untyped-def]
    rel = db.session.get(Relationship, world.rel.id)
    dimensions = [key for key, _ in actions_service.dimension_choices(rel)]
    user = db.session.scalar(db.select(User).where(User.role == "manager"))
    action = actions_service.record_action(
        rel,
        dimension_key=dimensions[0],
        what="Meet monthly",
        owner="Head of ICT",
        due_on=TODAY,
        actor=user,
    )
    db.session.commit()
    return dimensions, action.id


def test_fuzz_action_forms(app, manager, world, other_csrf, caplog):
    dimensions, action_id = _action_world(app, world)
    paths = [
        f"/actions/{world.rel.id}/new",
        f"/actions/{world.rel.id}/{action_id}/edit",
    ]
    valid = page_csrf(manager, paths[0])
    good = {
        "dimension": dimensions,
        "what": ["Meet monthly", "Agree a plan"],
        "owner": ["Head of ICT"],
        "status": ["open", "done"],
    }
    bad = {
        "what": st.one_of(
            st.sampled_from(["", " ", "x" * 2001]),
            st.tuples(st.text(max_size=5), CONTROL).map("".join),
        ),
        "owner": bad_name(),
        "status": st.one_of(st.sampled_from(["", "OPEN", "closed"]), st.text(max_size=8)).filter(
            lambda s: s not in ("open", "in_progress", "done", "dropped")
        ),
        "due_on": st.one_of(
            st.just(["31", "2", "2025"]),
            st.lists(st.sampled_from(["", "x", "13"]), min_size=3, max_size=3),
            st.lists(junk, min_size=4, max_size=5),
        ),
    }

    @FUZZ
    @given(
        path=st.sampled_from(paths),
        query=st.sampled_from(
            ["", "", "?alert=", "?alert=1:x", "?alert=%00", "?alert=99999999999999999999:"]
        ),
        mode=CSRF,
        target=st.sampled_from(sorted(bad)),
        data=st.data(),
    )
    def run(path, query, mode, target, data):  # type: ignore[no-untyped-def]
        known = {
            name: bad[name] if name == target else maybe(good[name], 2)
            for name in ("dimension", "what", "owner", "status")
        }
        known["due_on"] = bad["due_on"] if target == "due_on" else date_parts(TODAY)
        pairs = flatten(data.draw(fields(known, always=(target,))))
        with nothing_changes(caplog):
            response = send(manager, path + query, mode, valid, other_csrf, pairs)
            kind = assert_clear_refusal(response)
            if not csrf_passes(mode):
                assert kind == "csrf"
            elif query.startswith("?alert=") and query != "?alert=" and path.endswith("/new"):
                assert response.status_code == 404
            else:
                assert kind == "form" and response.status_code == 400, (kind, response.status_code)

    run()


# ================================================================================= targets


def test_fuzz_target_forms(app, manager, world, other_csrf, caplog):
    rel = db.session.get(Relationship, world.rel.id)
    dimensions = [key for key, _ in targets_service.target_choices(rel)]
    targets_service.record_target(rel, dimensions[0], 3.8, PAST, actor="cli")
    db.session.commit()
    path = f"/actions/{world.rel.id}/targets"
    valid = page_csrf(manager, path)
    good = {"dimension": dimensions, "target": ["3.8", "4", "2.75"]}
    bad = {
        "dimension": st.one_of(
            st.sampled_from(["", "INDEX", "no-such"]), st.text(max_size=12)
        ).filter(lambda s: s not in dimensions),
        "target": st.one_of(
            st.sampled_from(["", " ", "0", "6", "0.5", "5.01", "3.456", "nan", "1e0", "-3", "３"]),
            st.text(max_size=6),
        ).filter(lambda s: not (MEAN.fullmatch(s.strip()) and 1 <= float(s) <= 5)),
        "agreed_on": st.one_of(
            st.just([str(TODAY.day + 1 if TODAY.day < 28 else 1), str(TODAY.month), "2999"]),
            st.lists(st.sampled_from(["", "x", "13"]), min_size=3, max_size=3),
            st.lists(junk, min_size=4, max_size=5),
        ),
    }

    @FUZZ
    @given(mode=CSRF, target=st.sampled_from(sorted(bad)), data=st.data())
    def run(mode, target, data):  # type: ignore[no-untyped-def]
        known = {
            name: bad[name] if name == target else maybe(good[name], 2)
            for name in ("dimension", "target")
        }
        known["agreed_on"] = bad["agreed_on"] if target == "agreed_on" else date_parts(PAST)
        pairs = flatten(data.draw(fields(known, always=(target,))))
        with nothing_changes(caplog):
            refused(send(manager, path, mode, valid, other_csrf, pairs), mode)

    run()

    @FUZZ
    @given(mode=CSRF, dimension=st.one_of(st.just(dimensions[0]), st.text(max_size=10)))
    def remove(mode, dimension):  # type: ignore[no-untyped-def]
        if csrf_passes(mode) and dimension == dimensions[0]:
            return  # that one is carried out
        url = f"/actions/{world.rel.id}/targets/{quote(dimension, safe='')}/remove"
        with nothing_changes(caplog):
            response = send(manager, url, mode, valid, other_csrf, [])
            assert_clear_refusal(response, statuses=(400, 404, 405))

    remove()
