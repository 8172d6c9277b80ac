"""The language of every page: English or Welsh, chosen by the person reading it.

A Welsh public body must not treat Welsh less favourably than English (Welsh Language
Standards, Welsh Language (Wales) Measure 2011), and the duty reaches the supplier's staff too.
So every page offers the other language, and the choice is kept:

* ``?lang=cy`` (or ``en``) on any URL chooses the language and keeps it in the signed session
  cookie, so the next page is in the same language. For a respondent or anyone not signed in,
  the switch is a plain link to the same page: on a survey page, the answers already saved
  stay in the draft (they are stored by question, not by wording), and the page shows them
  again in the other language. A GET never changes anything stored: a link on another site
  cannot change a person's preference.
* A signed-in user's choice is remembered on their account (``User.language``): their switch
  is a small POST form (with the CSRF token, styled as a link; ``/account/language``), as is
  their account page (``/account/``), and it is used for their pages in any later session and
  for the emails sent to them (password resets, account invitations). Their ``?lang=`` on a
  URL shows that page in the language, and changes nothing else.
* Without a choice: the signed-in user's language, else the language kept in the session, else
  English (`SOURCE_LANGUAGE`).
* A survey page is in the language its wave offers (`show_in`): a wave that opened without
  Welsh is English throughout, with no switcher, rather than Welsh buttons around English
  questions.

Texts are marked with ``_()``/``gettext`` (``lazy_gettext`` where a text is made at import
time) and translated in ``survey_app/translations/<language>/LC_MESSAGES/messages.po``
(Flask-Babel, Babel's catalogues; ``make setup`` compiles them). ``babel.cfg`` says where
``pybabel extract`` looks; tests/test_languages.py fails on a marked text that has no Welsh.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from flask import Flask, g, has_request_context, request, session
from flask_babel import Babel, get_locale, gettext
from flask_login import current_user

from instruments import LANGUAGES, SOURCE_LANGUAGE
from survey_app.extensions import db
from survey_app.models import User
from survey_app.services.accounts.users import choose_language
from survey_app.services.mailing.messages import service_name

#: The session key and query parameter that hold the chosen language.
SESSION_KEY = "language"
QUERY = "lang"

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"

babel = Babel()


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", SOURCE_LANGUAGE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    babel.init_app(app, locale_selector=select_language)
    app.before_request(_keep_choice)
    app.context_processor(_template_globals)
    # A text marked where it is defined (``N_``) and shown by a page: ``{{ words | translate }}``
    # (plain gettext: unlike ``_()`` in a template it never %-formats, so "95%" is safe).
    app.jinja_env.filters["translate"] = gettext


def select_language() -> str:
    """The language of this request: fixed by the page (`show_in`), else asked for in the URL,
    else the signed-in user's, else kept in the session, else English. Outside a request (a command, a worker): English, unless the
    caller chose with ``flask_babel.force_locale`` (an email in its recipient's language)."""
    if not has_request_context():
        return SOURCE_LANGUAGE
    if "page_language" in g:
        return g.page_language
    asked = request.args.get(QUERY)
    if asked in LANGUAGES:
        return asked
    remembered = _users_language()
    if remembered is not None:
        return remembered
    kept = session.get(SESSION_KEY)
    return kept if kept in LANGUAGES else SOURCE_LANGUAGE


def _users_language() -> str | None:
    """The language the signed-in user chose, if any (never for an API token's request)."""
    if request.blueprint == "api" or not current_user.is_authenticated:
        return None
    language = current_user.language
    return language if language in LANGUAGES else None


def current_language() -> str:
    """The request's language code (``en`` or ``cy``)."""
    return str(get_locale() or SOURCE_LANGUAGE)


def chosen_language() -> str | None:
    """The language the reader chose (on this URL or earlier), None if they never chose: an
    email they ask for goes in it, or in both languages when None."""
    asked = request.args.get(QUERY) or session.get(SESSION_KEY)
    return asked if asked in LANGUAGES else None


def remember(language: str | None) -> None:
    """Keep `language` for the next pages (e.g. across a session that was started afresh)."""
    if language in LANGUAGES:
        session[SESSION_KEY] = language


def fresh_session() -> str | None:
    """Empty the session (signing in or out, a new password), keeping only the language the
    reader chose: the next page is still in it. Answers that language (None if none)."""
    kept = session.get(SESSION_KEY)
    session.clear()
    if kept in LANGUAGES:
        session[SESSION_KEY] = kept
        return str(kept)
    return None


def adopt_session_language(user: User, kept: str | None) -> None:
    """At sign-in: a user who never chose a language keeps the one they chose before signing
    in (a choice already remembered on the account wins)."""
    if kept in LANGUAGES and user.language is None:
        choose_language(user, kept)
        db.session.commit()


def show_in(language: str, offered: tuple[str, ...]) -> None:
    """This page is in `language`, and may switch only to `offered`: a survey page shows the
    wave's questions and the page around them in one language, never a mix of two."""
    g.page_language = language
    g.offered_languages = offered


def _keep_choice() -> None:
    """Keep the language asked for in the session (nothing stored: a GET may come from a link
    on another site; a signed-in user's choice is saved by :func:`choose_and_remember`, a
    POST)."""
    asked = request.args.get(QUERY)
    if asked in LANGUAGES and session.get(SESSION_KEY) != asked:
        session[SESSION_KEY] = asked


def choose_and_remember(user: User, language: str) -> None:
    """The signed-in user's switch (a POST): their language saved on their account, for their
    next sessions and their emails, and kept in this session. The caller commits."""
    choose_language(user, language)
    remember(language)


def switch_posts() -> bool:
    """Whether this page's switch is a POST form (a signed-in user's, saving their choice)
    rather than a link (a respondent's or a visitor's; a survey page keeps its own link, which
    keeps the draft)."""
    return (
        has_request_context()
        and "page_language" not in g
        and request.blueprint != "api"
        and current_user.is_authenticated
    )


def _this_page() -> str:
    """This page's path and query without ``lang``: where the switch's POST returns to."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != QUERY]
    return f"{request.path}?{urlencode(args)}" if args else request.path


def _switch_href(language: str) -> str:
    """This page in `language`: the same path and query, with ``lang`` set."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != QUERY]
    return f"{request.path}?{urlencode([*args, (QUERY, language)])}"


def _template_globals() -> dict[str, object]:
    here = current_language()
    if not has_request_context():  # a page rendered for a file (the board pack): no switcher
        return {"html_lang": here}
    offered = g.get("offered_languages") or tuple(LANGUAGES)
    return {
        # The service's name is the organisation's to choose, in each language:
        # SERVICE_NAME, and SERVICE_NAME_CY for Welsh (else the one name).
        "service_name": service_name(here),
        "html_lang": here,
        "languages": [
            {
                "code": code,
                "name": LANGUAGES[code],
                "href": _switch_href(code),
                "current": code == here,
            }
            for code in offered
        ]
        if len(offered) > 1
        else [],
        # a signed-in user's switch saves their choice: a POST back to this page
        "language_switch_next": _this_page() if switch_posts() else None,
    }
