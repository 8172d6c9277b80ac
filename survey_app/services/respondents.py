"""The respondent's side of a wave: opening a link, drafts, and the one-time submit.

Nothing here stores or logs anything that ties a response to its invitation: the
submit marks the invitation used (with the day only) and stores the response
under a random key in one transaction, and deletes the draft; then SQLite's
write-ahead log, which holds that transaction whole, is checkpointed away.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import defer, joinedload, selectinload

from instruments import Instrument, Item
from survey_app.database import checkpoint_wal, write_transaction
from survey_app.dates import utcnow
from survey_app.extensions import db
from survey_app.models import (
    ROLE_LEVELS,
    Answer,
    Comment,
    Draft,
    InstrumentVersion,
    Invitation,
    InvitationLink,
    Relationship,
    Response,
    Wave,
)
from survey_app.services import sealed_drafts
from survey_app.services.codebook import DONT_KNOW
from survey_app.services.instruments import wave_instrument
from survey_app.services.invitations import invitation_for_hash, link_hashes, mark_used
from survey_app.services.tokens import hash_token


class SurveyUnavailable(Exception):
    """The link cannot be used now; ``status`` and the texts say why."""

    status = 400
    title = _l("This survey link cannot be used")
    message = ""

    def __init__(self, message: str | None = None, *, wave_id: int | None = None) -> None:
        super().__init__(message or self.message)
        if message:
            self.message = message
        #: The wave the link belongs to, where it is known: its page names the survey team.
        self.wave_id = wave_id


class UnknownLink(SurveyUnavailable):
    status = 404
    title = _l("Survey link not recognised")
    message = _l(
        "Check that you copied the whole link from your invitation. "
        "Each link is personal and works for one survey only."
    )


class AlreadySubmitted(SurveyUnavailable):
    status = 409
    title = _l("You have already completed this survey")
    message = _l(
        "Answers have already been submitted with this link, and each link can be used once."
    )


class SubmittedInThisBrowser(AlreadySubmitted):
    """Back (or a bookmarked page) after submitting: the answers are in, not "kept"."""

    message = _l(
        "Your answers have been submitted, so they can no longer be changed. Thank you for "
        "taking part: nothing links your answers to you."
    )


class WaveNotOpen(SurveyUnavailable):
    status = 403
    title = _l("This survey is not open")
    message = _l("This survey has not opened yet. Try your link again once it opens.")


class WaveClosed(WaveNotOpen):
    status = 410
    title = _l("This survey has closed")
    message = _l("This survey has closed, so it is no longer possible to answer it. Thank you.")


class NoSurveySession(SurveyUnavailable):
    status = 403
    title = _l("Open your survey link to continue")
    message = _l(
        "Your survey session has ended or was not started. Open the personal link from your "
        "invitation again: your saved answers are kept."
    )


@dataclass(frozen=True)
class Section:
    """One page of questions: a dimension's items, or the free-text comments."""

    number: int  # 1-based
    kind: str  # "dimension" or "comments"
    key: str
    title: str
    description: str
    items: tuple[Item, ...] = ()


class SurveyTexts:
    """What the survey's pages read of their wording: the instrument's texts in the page's
    language with the party names filled in. One home for the respondent's pages
    (`RespondentContext`) and the admin preview, which both provide ``instrument``, ``side``,
    ``partner``, ``sections`` and ``language``."""

    instrument: Instrument
    side: str
    partner: str
    sections: list[Section]
    language: str

    @property
    def partner_side(self) -> str:
        return _other(self.side)

    def section(self, number: int) -> Section | None:
        if 1 <= number <= len(self.sections):
            return self.sections[number - 1]
        return None

    def item_text(self, item: Item) -> str:
        return item.text_in(
            self.side, self.language, partner=self.partner, partner_side=self.partner_side
        )

    def comment_text(self, key: str) -> str:
        question = self.instrument.comment(key)
        return question.text_in(
            self.side, self.language, partner=self.partner, partner_side=self.partner_side
        )

    @property
    def instrument_title(self) -> str:
        return self.instrument.title_in(self.language)

    @property
    def instrument_description(self) -> str:
        return self.instrument.description_in(self.language)

    @property
    def scale_labels(self) -> tuple[str, ...]:
        return self.instrument.scale.labels_in(self.language)

    @property
    def dont_know_label(self) -> str:
        return self.instrument.scale.dont_know_label_in(self.language)


@dataclass
class RespondentContext(SurveyTexts):
    token_hash: str  # of the link the respondent opened
    invitation: Invitation
    wave: Wave
    instrument: Instrument
    side: str
    own_party: str
    partner: str
    sections: list[Section] = field(default_factory=list)
    #: The language the pages show the instrument in: the one asked for when the wave offers
    #: it, else English (`Instrument.resolve_language`).
    language: str = "en"
    #: The data key of the draft, unwrapped from the link; kept only in the session cookie.
    draft_key: bytes | None = None

    @property
    def needs_about(self) -> bool:
        return self.invitation.service_area_id is None or self.invitation.role_level is None

    def service_area_choices(self) -> list[tuple[str, str]]:
        return [(a.key, a.name) for a in self.wave.relationship.service_areas]


def _other(side: str) -> str:
    return "supplier" if side == "client" else "client"


def build_sections(instrument: Instrument, language: str = "en") -> list[Section]:
    sections = [
        Section(
            number=i + 1,
            kind="dimension",
            key=dim.key,
            title=dim.title_in(language),
            description=dim.description_in(language),
            items=tuple(instrument.items_in(dim.key)),
        )
        for i, dim in enumerate(instrument.dimensions)
    ]
    if instrument.comments:
        sections.append(
            Section(
                number=len(sections) + 1,
                kind="comments",
                key="comments",
                title=gettext("Your comments"),
                description=gettext("These questions are optional."),
            )
        )
    return sections


def open_link(
    token: str, language: str | None = None, *, held: tuple[str, bytes] | None = None
) -> RespondentContext:
    """Check a personal link and return its context with the draft's key, or raise
    SurveyUnavailable.

    ``held`` is what the browser's session holds from a link opened before (its token hash
    and key): when a reminder's new link of the same invitation is opened there, that key
    is wrapped for the new link too, so the saved answers carry on.
    """
    if not token or len(token) > 100:
        raise UnknownLink()
    ctx = load_context(hash_token(token), language)
    ctx.draft_key = _link_key(ctx, token, _carried_key(ctx, held))
    return ctx


def _carried_key(ctx: RespondentContext, held: tuple[str, bytes] | None) -> bytes | None:
    if not held or not held[1] or held[0] == ctx.token_hash:
        return None
    invitation_id = db.session.scalar(
        select(InvitationLink.invitation_id).where(InvitationLink.token_hash == held[0])
    )
    return held[1] if invitation_id == ctx.invitation.id else None


def _link_key(ctx: RespondentContext, token: str, carried: bytes | None) -> bytes:
    """The data key wrapped for this link, unwrapped. On a link's first opening the carried
    key (or a new one) is wrapped for it first (whoever wraps first wins a race); a carried
    key also replaces the link's own while nothing has been saved through the link."""
    names = {"token": token, "wave_id": ctx.wave.id, "token_hash": ctx.token_hash}
    link = InvitationLink.token_hash == ctx.token_hash
    wrapped = db.session.scalar(select(InvitationLink.draft_key_wrap).where(link))
    if wrapped is None or (carried and db.session.get(Draft, ctx.token_hash) is None):
        key = carried or sealed_drafts.new_data_key()
        wrap = update(InvitationLink).where(link)
        if wrapped is None:
            wrap = wrap.where(InvitationLink.draft_key_wrap.is_(None))
        with write_transaction():
            db.session.execute(
                wrap.values(draft_key_wrap=sealed_drafts.wrap_key(key, **names)).execution_options(
                    synchronize_session=False
                )
            )
        wrapped = db.session.scalar(select(InvitationLink.draft_key_wrap).where(link))
    try:
        return sealed_drafts.unwrap_key(wrapped, **names)
    except sealed_drafts.SealBroken as exc:  # not this link's wrap: never expected
        raise UnknownLink() from exc


# Every survey page needs the invitation, its party, the wave, the relationship's
# parties and the instrument version: one query (and one for the parties) rather
# than a lazy load each. The frozen definition is parsed once per process (cached
# by content hash), so it is only read from the database on a cache miss.
_CONTEXT_LOADS = (
    joinedload(Invitation.party),
    joinedload(Invitation.wave).options(
        joinedload(Wave.instrument_version).options(defer(InstrumentVersion.definition)),
        joinedload(Wave.relationship).options(selectinload(Relationship.parties)),
    ),
)


def load_context(token_hash: str, language: str | None = None) -> RespondentContext:
    """The respondent's survey, its texts in `language` where the wave offers it."""
    invitation = invitation_for_hash(token_hash, *_CONTEXT_LOADS)
    if invitation is None:
        raise UnknownLink()
    wave = invitation.wave
    if invitation.used_on is not None:
        raise AlreadySubmitted(wave_id=wave.id)
    if wave.state == "closed" or wave.past_closing(utcnow()):
        raise WaveClosed(wave_id=wave.id)  # from the closing time, before the tick closes it
    if wave.state != "open":
        raise WaveNotOpen(wave_id=wave.id)
    instrument = wave_instrument(wave)
    shown = instrument.resolve_language(language)
    side = invitation.party.side
    return RespondentContext(
        token_hash=token_hash,
        invitation=invitation,
        wave=wave,
        instrument=instrument,
        side=side,
        own_party=invitation.party.name,
        partner=wave.relationship.other_party(side).name,
        sections=build_sections(instrument, shown),
        language=shown,
    )


# ---------------------------------------------------------------- drafts


def empty_draft() -> dict[str, Any]:
    return {"about": None, "answers": {}, "comments": {}, "seen": []}


def _drafts(ctx: RespondentContext) -> list[Draft]:
    """The drafts saved through any link of the invitation: this link's first, then newest."""
    drafts = db.session.scalars(
        select(Draft).where(Draft.token_hash.in_(link_hashes(ctx.invitation.id)))
    ).all()
    return sorted(drafts, key=lambda d: (d.token_hash != ctx.token_hash, -d.updated_on.toordinal()))


def _opened(ctx: RespondentContext, draft: Draft) -> dict[str, Any] | None:
    """A draft's answers if this browser's key opens it (or it predates sealing), else None."""
    if draft.sealed is None:
        return draft.data
    if ctx.draft_key is None:
        return None
    try:
        return sealed_drafts.unseal(
            draft.sealed, key=ctx.draft_key, wave_id=draft.wave_id, token_hash=draft.token_hash
        )
    except sealed_drafts.SealBroken:
        return None


def load_draft(ctx: RespondentContext) -> dict[str, Any]:
    """The respondent's answers so far: the draft this browser's key opens, through this link
    or another of the invitation's (a reminder's link opened where the first one was). No
    draft may mean the link was submitted (in another browser) after ``ctx`` was loaded:
    that is AlreadySubmitted, not a fresh start."""
    drafts = _drafts(ctx)
    if not drafts and db.session.scalar(
        select(Invitation.used_on).where(Invitation.id == ctx.invitation.id)
    ):
        raise AlreadySubmitted(wave_id=ctx.wave.id)
    data = empty_draft()
    opened = next((found for d in drafts if (found := _opened(ctx, d)) is not None), None)
    if opened is not None:
        data.update(opened)
    return data


def link_replaced(ctx: RespondentContext) -> bool:
    """Whether a newer link of the invitation was issued since this one (a reminder's, or a
    message sent again): only the links' hashes and order are read, never a token. The link
    still works (README "Invitation links"); its page asks to use the latest email's."""
    this = select(InvitationLink.id).where(InvitationLink.token_hash == ctx.token_hash)
    newer = select(InvitationLink.id).where(
        InvitationLink.invitation_id == ctx.invitation.id,
        InvitationLink.id > this.scalar_subquery(),
    )
    return db.session.scalar(newer.limit(1)) is not None


def answers_elsewhere(ctx: RespondentContext) -> bool:
    """Whether answers were saved through another link of the invitation that this browser
    cannot open (that link, opened where it was used, still carries them on)."""
    return any(_opened(ctx, d) is None for d in _drafts(ctx))


def save_draft(ctx: RespondentContext, data: dict[str, Any]) -> None:
    """Store the respondent's answers so far, sealed, in a write transaction of its own
    (committed); a copy of them under another link of the invitation (same key) goes.

    The request has already read in a deferred transaction; on SQLite, turning that
    into a write fails at once with "database is locked" whenever another worker
    has written since (the busy timeout does not apply to that case). So the draft
    is written, like a submit, in a transaction that takes the write lock first,
    and only while the wave is still open (closing deletes drafts).
    """
    if ctx.draft_key is None:
        raise NoSurveySession()
    token_hash, wave_id = ctx.token_hash, ctx.wave.id
    sealed = sealed_drafts.seal(data, key=ctx.draft_key, wave_id=wave_id, token_hash=token_hash)
    with write_transaction():
        state = db.session.scalar(
            select(Wave.state).where(Wave.id == wave_id).with_for_update(read=True)
        )
        if state != "open":
            raise WaveClosed(wave_id=wave_id)
        for copy in _drafts(ctx):
            if copy.token_hash != token_hash and _opened(ctx, copy) is not None:
                db.session.delete(copy)
        draft = db.session.get(Draft, token_hash)
        if draft is None:
            draft = Draft(token_hash=token_hash, wave_id=wave_id)
            db.session.add(draft)
        draft.sealed, draft.data = sealed, None
        draft.updated_on = date.today()
        db.session.flush()


def about_answers(ctx: RespondentContext, draft: dict[str, Any]) -> dict[str, str | None] | None:
    """Service area key and role level: fixed by the invitation or given on the about page."""
    given = draft.get("about")
    inv = ctx.invitation
    if ctx.needs_about and given is None:
        return None
    given = given or {}
    area = inv.service_area.key if inv.service_area_id else given.get("service_area")
    role = inv.role_level if inv.role_level else given.get("role_level")
    return {"service_area": area, "role_level": role}


def section_complete(section: Section, draft: dict[str, Any]) -> bool:
    if section.kind == "comments":
        return section.number in draft.get("seen", [])
    answers = draft.get("answers", {})
    return all(item.key in answers for item in section.items)


def next_step(ctx: RespondentContext, draft: dict[str, Any]) -> tuple[str, int | None]:
    """Where a returning respondent should continue: ("about"|"section"|"check", n)."""
    if about_answers(ctx, draft) is None:
        return ("about", None)
    for section in ctx.sections:
        if not section_complete(section, draft):
            return ("section", section.number)
    return ("check", None)


def has_started(draft: dict[str, Any]) -> bool:
    return bool(draft.get("about") or draft.get("answers") or draft.get("seen"))


# ---------------------------------------------------------------- submit


class IncompleteSurvey(Exception):
    def __init__(self, step: tuple[str, int | None], message: str) -> None:
        super().__init__(message)
        self.step = step


def submit(ctx: RespondentContext, draft: dict[str, Any]) -> uuid.UUID:
    """Store the response, mark the invitation used and delete the draft, atomically.

    Raises ``IncompleteSurvey`` if a required answer is missing, ``AlreadySubmitted``
    if the link was used meanwhile (e.g. a second, concurrent submit), and
    ``WaveClosed`` if the wave closed meanwhile. In every failure nothing is stored.
    """
    step = next_step(ctx, draft)
    if step[0] != "check":
        raise IncompleteSurvey(step, "Answer every question before you submit.")
    about = about_answers(ctx, draft) or {}
    area_id = None
    if about.get("service_area"):
        area_id = next(
            (a.id for a in ctx.wave.relationship.service_areas if a.key == about["service_area"]),
            None,
        )
    role = about.get("role_level") if about.get("role_level") in ROLE_LEVELS else None
    answer_rows = _answer_rows(ctx, draft["answers"])
    comments = {
        q.key: text
        for q in ctx.instrument.comments
        if (text := (draft.get("comments", {}).get(q.key) or "").strip())
    }
    invitation_id = ctx.invitation.id
    wave_id = ctx.wave.id
    version_id = ctx.wave.instrument_version_id
    response_id = uuid.uuid4()
    session = db.session
    with write_transaction():
        if not mark_used(invitation_id, date.today()):
            raise AlreadySubmitted(wave_id=wave_id)
        state, closes_at = session.execute(
            select(Wave.state, Wave.closes_at).where(Wave.id == wave_id).with_for_update(read=True)
        ).one()
        if state != "open" or (closes_at is not None and utcnow() >= closes_at):
            raise WaveClosed(wave_id=wave_id)
        session.execute(
            insert(Response).values(
                id=response_id,
                wave_id=wave_id,
                instrument_version_id=version_id,
                side=ctx.side,
                service_area_id=area_id,
                role_level=role,
            )
        )
        session.execute(
            insert(Answer.__table__), [{"response_id": response_id, **row} for row in answer_rows]
        )
        if comments:
            session.execute(
                insert(Comment.__table__),
                [
                    {"response_id": response_id, "question_key": k, "text": v}
                    for k, v in comments.items()
                ],
            )
        session.execute(delete(Draft).where(Draft.token_hash.in_(link_hashes(invitation_id))))
    session.expire_all()
    checkpoint_wal(wait=False)  # busy: the minute tick empties the log instead
    return response_id


def _answer_rows(ctx: RespondentContext, answers: dict[str, Any]) -> list[dict[str, Any]]:
    """Validate the draft's answers against the frozen instrument (defence in depth)."""
    points = ctx.instrument.scale.points
    rows = []
    for item_no, item in enumerate(ctx.instrument.items):
        value = answers.get(item.key)
        if value == DONT_KNOW and item.dont_know:
            rows.append({"item_no": item_no, "value": None})
        elif isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= points:
            rows.append({"item_no": item_no, "value": value})
        else:
            raise IncompleteSurvey(
                ("section", _section_of(ctx, item.key)),
                f"Answer the question ‘{ctx.item_text(item)}’ before you submit.",
            )
    return rows


def _section_of(ctx: RespondentContext, item_key: str) -> int | None:
    for section in ctx.sections:
        if any(item.key == item_key for item in section.items):
            return section.number
    return None
