"""Sign-in through an organisation's OpenID Provider: ``/sign-in/with/<organisation id>`` sends
the browser to the provider; ``/sign-in/callback`` takes it back, checks everything
(``services/accounts/oidc.py``), finds or makes the account (``services/accounts/federated.py``)
and signs it in. The pending sign-in (state, nonce, PKCE verifier) is kept in the signed session
and removed before it is used, so a replayed callback finds none."""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from survey_app.extensions import db
from survey_app.models import Organisation
from survey_app.services.accounts import federated, oidc
from survey_app.web.access import public
from survey_app.web.auth.routes import ACCOUNT_LINK, bp, landing_page, safe_next, start_session
from survey_app.web.loading import Missing

PENDING = "_oidc_pending"
ORGANISATION = "_oidc_organisation"
NEXT = "_oidc_next"


def callback_url() -> str:
    """The callback's absolute URL, as registered with every provider."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + url_for("auth.oidc_callback")


def _failed(error: oidc.SignInFailed) -> ResponseReturnValue:
    db.session.commit()  # the refusal's audit rows
    # a provider's own words (a refusal's description) are not in the catalogue: shown as sent
    return render_template("auth/sign_in_failed.html", message=_(str(error))), 400


@bp.get("/sign-in/with/<int:organisation_id>")
@public
def oidc_start(organisation_id: int) -> ResponseReturnValue:
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None or not organisation.signs_in_with_oidc:
        raise Missing(f"There is no organisation {organisation_id} that signs in here.")
    hint = request.args.get("login_hint", "")
    try:
        started = oidc.begin_sign_in(
            federated.identity_provider(organisation),
            callback_url(),
            login_hint=hint if 0 < len(hint) <= 254 and hint.isprintable() else None,
        )
    except oidc.SignInFailed as error:
        return _failed(error)
    session[PENDING] = started.pending.to_session()
    session[ORGANISATION] = organisation.id
    session[NEXT] = safe_next(request.args.get("next"))
    return redirect(started.url)


@bp.get("/sign-in/callback")
@public
def oidc_callback() -> ResponseReturnValue:
    kept, organisation_id = session.pop(PENDING, None), session.pop(ORGANISATION, None)
    target = safe_next(session.pop(NEXT, None))
    invitation = session.pop(ACCOUNT_LINK, None)  # an invitation opened before, if any
    invitation = invitation if isinstance(invitation, str) else None
    try:
        pending = oidc.PendingSignIn.from_session(kept)
        organisation = db.session.get(Organisation, organisation_id or 0)
        if organisation is None or organisation.oidc_issuer != pending.issuer:
            raise oidc.StateMismatch()
        provider = federated.identity_provider(organisation)
        identity = oidc.complete_sign_in(
            provider,
            pending,
            request.args.to_dict(),
            leeway=current_app.config["OIDC_CLOCK_LEEWAY_SECONDS"],
        )
        user = federated.account_for(organisation, identity, invitation=invitation)
    except oidc.SignInFailed as error:
        return _failed(error)
    db.session.commit()
    start_session(user)
    return redirect(target or landing_page())
