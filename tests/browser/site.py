"""The browser tests' site: one open wave, its respondents and staff accounts, made on demand.

:class:`Site` is what every step of ``page_types.py`` and every browser test is given: the
test data a page needs, made in-process through the services and committed before the
browser acts (:func:`end_transaction`), with staff accounts that sign in with
``PASSWORD``.
"""

from __future__ import annotations

import csv
import functools
import io
from datetime import date, timedelta
from typing import Any

from tests.factories import Respondent

PASSWORD = "correct horse battery staple"  # noqa: S105 (a test account's password)


class Site:
    """Test data for the browser: one open wave, its respondents and staff accounts.

    ``ids`` names what the administration pages are about, for paths such as
    ``/admin/waves/{wave}/``: the test relationship, its first service area, its wave and,
    once made, an agreed action and an alert. ``request`` (pytest's) lets a step start a
    fixture only when it needs one (``live_server_without_email``).
    """

    def __init__(self, factory, client, request=None) -> None:  # type: ignore[no-untyped-def]
        self.factory = factory
        self.client = client
        self.request = request
        self._wave = None
        self._demo_id: int | None = None
        self._ids: dict[str, Any] = {}
        self.servers_to_check: list[Any] = []  # servers other than live_server a step used

    @property
    def wave(self):  # type: ignore[no-untyped-def]
        if self._wave is None:
            self.make_wave("open")
        return self._wave

    def make_wave(self, state: str, invited: int = 0):  # type: ignore[no-untyped-def]
        """The test relationship's wave 2024-Q1 in ``state`` (draft, open or closed), with
        ``invited`` client staff invited to its first service area while it was open."""
        from survey_app.extensions import db
        from survey_app.services.waves import close_wave

        wave = self.factory.wave(state="open" if invited else state)
        area = wave.relationship.service_areas[0]
        self._ids.update(relationship=wave.relationship_id, area=area.id, wave=wave.id)
        if invited:
            self.factory.tokens(wave, n=invited, area=area)
            if state == "closed":
                close_wave(wave)
                db.session.commit()
        self._wave = wave
        end_transaction()
        return wave

    @property
    def ids(self) -> dict[str, Any]:
        if "wave" not in self._ids and "relationship" not in self._ids:
            self.make_wave("open")
        return self._ids

    @property
    def n_sections(self) -> int:
        from survey_app.services.instruments import frozen_instrument
        from survey_app.services.respondents import build_sections

        return len(build_sections(frozen_instrument(self.wave.instrument_version)))

    def token(self, progress: str = "new", side: str = "client") -> str:
        """A personal link's token whose respondent has got as far as ``progress``:
        new, about (about-you answered), comments (every rated section answered),
        check (everything answered) or submitted."""
        (token,) = self.factory.tokens(self.wave, side=side)
        if progress == "new":
            return token
        person = Respondent(self.client, token)
        person.open()
        assert person.answer_about().status_code == 302
        last = {"about": 0, "comments": self.n_sections - 1}.get(progress, self.n_sections)
        for number in range(1, last + 1):
            assert person.answer_section(number).status_code == 302, number
        if progress == "submitted":
            assert person.post("/survey/check", {}).status_code == 302
        return token

    def other_wave(self, state: str):  # type: ignore[no-untyped-def]
        """A wave of a second relationship, in ``state``: draft (not yet open), open or
        closed (with one invitation issued while it was open, and never used)."""
        from survey_app.extensions import db
        from survey_app.services.waves import close_wave

        relationship = self.factory.relationship("Other Council — Other Supplier")
        wave = self.factory.wave(relationship, state="draft" if state == "draft" else "open")
        (self.other_token,) = self.factory.tokens(wave)
        if state == "closed":
            close_wave(wave)
            db.session.commit()
        return wave

    def demo_relationship_id(self) -> int:
        """The demo's relationship, with its years of closed waves and their results: the
        same ``load_demo(links=1)`` as the disclosure tests read (``closed_demo``), so a run
        loads it once for both and copies it afterwards (:mod:`tests.snapshots`)."""
        from survey_app.extensions import db
        from survey_app.models import Relationship
        from survey_app.services.demo import NAME
        from tests.demo_site import closed_demo

        if self._demo_id is None:
            closed_demo()
            self._demo_id = db.session.scalar(
                db.select(Relationship.id).where(Relationship.name == NAME)
            )
            end_transaction()
        return self._demo_id

    def user(self, role: str) -> str:
        """The email address of the ``role`` account (made the first time), whose password is
        ``PASSWORD``."""
        self.account(role)
        end_transaction()
        return f"{role}@example.org"

    def account(self, role: str):  # type: ignore[no-untyped-def]
        from survey_app.extensions import db
        from survey_app.models import User

        email = f"{role}@example.org"
        user = db.session.scalar(db.select(User).where(User.email == email))
        if user is None:
            # What create_user stores, less its scrypt run: the hash is made once per run.
            user = User(email=email, name=f"A {role}", role=role, password_hash=_password_hash())
            db.session.add(user)
            db.session.commit()
        return user

    def staff_list(self, emails: list[str]) -> None:
        """Put ``emails`` on the wave's address list (client staff of its first area)."""
        from survey_app.extensions import db
        from survey_app.services.imports import load_staff_list

        wave = self.wave
        load_staff_list(wave, staff_csv(emails), actor="test", filename="staff.csv")
        db.session.commit()
        end_transaction()

    def actions_history(self, agreed: bool = True, alert: bool = True) -> None:
        """Closed waves of the test relationship: four steady ones (2023-Q2 to 2024-Q1), then
        client staff's trust falls in 2024-Q2 (an alert); if ``agreed``, an action on trust was
        agreed after 2024-Q1. Without ``alert``, the steady waves alone (and the action)."""
        import numpy as np

        from survey_app.extensions import db
        from survey_app.services import actions
        from tests.factories import closed_wave

        rng = np.random.default_rng(44001)
        relationship = self.factory.relationship()
        self._ids["relationship"] = relationship.id
        for label in (
            "2023-Q2",
            "2023-Q3",
            "2023-Q4",
            "2024-Q1",
        ):  # the baseline the statuses judge by
            closed_wave(relationship, label, [("client", None, 4.3, 20), ("supplier", None, 3.5, 20)], rng)  # fmt: skip
        if agreed:
            action = actions.record_action(
                relationship,
                dimension_key="trust",
                what="Joint monthly service review with both directors",
                owner="Head of ICT client team",
                due_on=date.today() + timedelta(days=60),
                actor=self.account("manager"),
            )
            db.session.commit()
            self._ids["action"] = action.id
        if alert:
            closed_wave(relationship, "2024-Q2", [("client", None, 2.3, 20), ("supplier", None, 3.5, 20)], rng)  # fmt: skip
            found = next(a for a in actions.current_alerts(relationship) if a.dimension == "trust")
            self._ids["alert"] = found.reference
        end_transaction()


def end_transaction() -> None:
    """End the test's read transaction before the browser acts: on SQLite (WAL) a session that
    kept its snapshot while the server wrote could not write afterwards ("database is
    locked"), and on PostgreSQL it would not see what the server wrote."""
    from survey_app.extensions import db

    db.session.commit()


@functools.cache
def _password_hash() -> str:
    """A scrypt hash of ``PASSWORD`` made once per run, with a small work factor: the server
    reads the factor from the hash, so each sign-in of the browser tests checks it in a
    millisecond rather than a quarter of a second. (The real cost is the users' own
    accounts' and ``tests/test_auth.py``'s concern.)"""
    from werkzeug.security import generate_password_hash

    return generate_password_hash(PASSWORD, method="scrypt:2048:8:1")


def staff_csv(emails: list[str], party: str = "client") -> io.BytesIO:
    """A staff list: header email, party, service area; one row per address."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["email", "party", "service area"])
    writer.writerows([email, party, "Core ICT"] for email in emails)
    return io.BytesIO(out.getvalue().encode("utf-8"))
