"""The token model: an invitation reached through one or more links, each stored only as the
SHA-256 of its token; whichever link is used first uses the invitation, once."""

from __future__ import annotations

import hashlib
from datetime import date

from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from survey_app.extensions import db
from survey_app.models import Draft, Invitation, InvitationAddress, InvitationLink, Response
from survey_app.services import invitations
from tests.factories import Respondent, count, sections_of


def test_a_link_is_stored_only_as_its_hash_and_finds_its_invitation(app, factory):
    wave = factory.wave()
    (first,) = factory.tokens(wave)
    invitation = db.session.scalar(select(Invitation))
    second = invitations.issue_link(invitation)
    db.session.commit()
    assert first != second
    stored = set(db.session.scalars(select(InvitationLink.token_hash)))
    assert stored == {hashlib.sha256(t.encode()).hexdigest() for t in (first, second)}
    assert invitations.invitation_for_token(first).id == invitation.id
    assert invitations.invitation_for_token(second).id == invitation.id
    assert invitations.invitation_for_token(first + "x") is None
    assert invitations.invitation_for_token(invitations.hash_token(first)) is None


def test_either_link_is_accepted_once_and_using_one_uses_the_invitation(app, factory):
    wave = factory.wave()
    (first,) = factory.tokens(wave)
    second = invitations.issue_link(db.session.scalar(select(Invitation)))
    db.session.commit()
    early = Respondent(app.test_client(), first)
    early.open()
    assert early.answer_about().status_code == 302  # a draft saved through the first link
    assert count(Draft) == 1
    late = Respondent(app.test_client(), second)
    assert late.complete(sections_of(wave)).status_code == 302
    assert count(Response) == 1
    assert count(Draft) == 0  # the drafts of every link of the invitation go at submit
    assert db.session.scalar(select(Invitation.used_on)) == date.today()
    for token in (first, second):
        assert app.test_client().get(f"/s/{token}").status_code == 409
    # a browser still holding the first link's session cannot go on to a second response
    assert early.client.get("/survey/check").status_code == 409
    assert count(Response) == 1


def test_mark_used_succeeds_once(app, factory):
    wave = factory.wave()
    factory.tokens(wave)
    invitation_id = db.session.scalar(select(Invitation.id))
    assert invitations.mark_used(invitation_id, date.today())
    assert not invitations.mark_used(invitation_id, date.today())


def test_the_migration_moves_each_hash_to_a_link_and_back(app, factory):
    """0007 turns ``invitations.token_hash`` into links (drafts and address-list invitations
    kept, which a SQLite table rebuild with foreign keys on would have wiped), and its
    downgrade keeps each invitation's latest link."""
    wave = factory.wave()
    first, other = factory.tokens(wave, n=2)
    invitation_id = invitations.invitation_for_token(first).id
    db.session.add(
        InvitationAddress(
            wave_id=wave.id, email="ann@example.org", party_id=wave.relationship.party("client").id,
            invitation_id=invitation_id, added_on=date.today(),
        )
    )  # fmt: skip
    db.session.commit()
    newest = invitations.issue_link(db.session.get(Invitation, invitation_id))
    db.session.commit()
    # A draft saved in clear, as before drafts were sealed (0009): a sealed one cannot go back
    # past 0009 (its key is nowhere on the server) and is dropped by that downgrade.
    db.session.add(
        Draft(
            token_hash=invitations.hash_token(newest),
            wave_id=wave.id,
            data={"about": {"service_area": None, "role_level": None}, "answers": {}},
            updated_on=date.today(),
        )
    )
    db.session.commit()
    db.session.remove()

    downgrade(revision="0006")
    db.engine.dispose()
    with db.engine.connect() as conn:
        hashes = dict(conn.execute(text("SELECT id, token_hash FROM invitations")).all())
        assert hashes[invitation_id] == invitations.hash_token(newest)
        assert invitations.hash_token(other) in hashes.values()
        assert conn.execute(text("SELECT token_hash FROM drafts")).scalars().all() == [
            invitations.hash_token(newest)
        ]
    upgrade()
    db.engine.dispose()

    links = db.session.execute(select(InvitationLink.invitation_id, InvitationLink.token_hash))
    assert sorted(links) == sorted(
        [
            (invitation_id, invitations.hash_token(newest)),
            (invitation_id + 1, invitations.hash_token(other)),
        ]
    )
    assert db.session.scalar(select(InvitationAddress.invitation_id)) == invitation_id
    assert count(Draft) == 1
    resumed = app.test_client().get(f"/s/{newest}")  # a clear draft: any browser resumes
    assert resumed.headers["Location"] == "/survey/resume"
