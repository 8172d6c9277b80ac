"""``/admin/organisations``: each organisation's sign-in through its OpenID Provider — issuer,
client id and secret (stored encrypted), allowed email domains, group → role mapping, whether
local passwords are still allowed. Service-wide admins only; saved through
``federated.configure_provider`` (as ``relhealth organisation oidc``), which audits it."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Organisation
from survey_app.services import ServiceError
from survey_app.services.accounts import federated
from survey_app.web.access import requires
from survey_app.web.loading import Missing
from survey_app.web.people.forms import ProviderForm
from survey_app.web.submissions import SUCCESS, acting_user, form_page, show_refusal

bp = Blueprint("organisations", __name__, url_prefix="/admin/organisations")
requires("admin", service_wide=True)(bp)


def organisation_or_404(organisation_id: int) -> Organisation:
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise Missing(f"There is no organisation {organisation_id}.")
    return organisation


@bp.get("/")
def index() -> str:
    organisations = db.session.scalars(select(Organisation).order_by(Organisation.name)).all()
    return render_template("people/organisations.html", organisations=organisations)


@bp.route("/<int:organisation_id>/sign-in", methods=["GET", "POST"])
def sign_in_settings(organisation_id: int) -> ResponseReturnValue:
    organisation = organisation_or_404(organisation_id)
    form = ProviderForm()
    if not form.is_submitted():
        form.issuer.data = organisation.oidc_issuer
        form.client_id.data = organisation.oidc_client_id
        form.domains.data = "\n".join(organisation.allowed_email_domains or [])
        form.groups.data = "\n".join(
            f"{g}={r}" for g, r in (organisation.group_roles or {}).items()
        )
        form.local_passwords.data = "yes" if organisation.local_passwords_allowed else "no"
        form.admin_mfa.data = organisation.admin_mfa_claim
    elif form.validate():
        try:
            federated.configure_provider(
                organisation,
                issuer=form.issuer.data,
                client_id=form.client_id.data,
                client_secret=form.client_secret.data or None,
                email_domains=form.domains.data.splitlines(),
                group_roles=federated.group_roles_from(form.groups.data.splitlines()),
                local_passwords_allowed=form.local_passwords.data == "yes",
                admin_mfa_claim=form.admin_mfa.data or None,
                actor=acting_user(),
            )
        except ServiceError as exc:
            show_refusal(form.issuer, exc)
        else:
            db.session.commit()
            flash(_("The sign-in settings of %(name)s are saved", name=organisation.name), SUCCESS)
            return redirect(url_for("organisations.index"), 303)
    return form_page("people/organisation_sign_in.html", form, organisation=organisation)
