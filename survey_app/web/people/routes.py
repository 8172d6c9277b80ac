"""``/admin/people``: the people an administrator manages — list (roles, last sign-in), invite
by e-mail, change roles per relationship, switch off and on."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from survey_app.extensions import db
from survey_app.models import ROLES, User
from survey_app.services import ServiceError
from survey_app.services.accounts import links, people
from survey_app.services.relationships import all_relationships
from survey_app.web.access import can_access, current_scope, requires
from survey_app.web.loading import Missing, relationship_or_404
from survey_app.web.people.forms import NOT_KNOWN, ButtonForm, InviteForm, role_choices
from survey_app.web.submissions import SUCCESS, acting_user, form_page, show_refusal

bp = Blueprint("people", __name__, url_prefix="/admin/people")
requires("admin")(bp)


def person_or_404(user_id: int) -> User:
    user = people.person_or_none(user_id, current_scope())
    if user is None:
        raise Missing(f"There is no person {user_id}.")
    return user


@bp.get("/")
def index() -> str:
    scope = current_scope()
    names = {r.id: r.name for r in all_relationships(scope=scope)}  # only those in reach
    return render_template(
        "people/index.html",
        people=people.people_in_reach(scope),
        relationship_names=names,
        organisations_link=can_access("organisations.index"),
    )


@bp.route("/invite", methods=["GET", "POST"])
def invite() -> ResponseReturnValue:
    form = InviteForm()
    form.relationship.offer((str(r.id), r.name) for r in all_relationships(scope=current_scope()))
    form.role.offer(role_choices())
    if form.validate_on_submit():
        relationship = relationship_or_404(int(form.relationship.data))
        try:
            user, token = people.invite(
                form.email.data,
                form.name.data,
                relationship,
                form.role.data,
                actor=acting_user(),
                language=None if form.language.data == NOT_KNOWN else form.language.data,
            )
            links.send_link(user, token, "invite")
        except ServiceError as exc:
            show_refusal(form.email, exc)
        else:
            db.session.commit()
            flash(
                _(
                    "%(name)s is invited: the link is on its way to %(email)s",
                    name=user.name,
                    email=user.email,
                ),
                SUCCESS,
            )
            return redirect(url_for("people.person", user_id=user.id), 303)
    return form_page("people/invite.html", form)


@bp.route("/<int:user_id>", methods=["GET", "POST"])
def person(user_id: int) -> ResponseReturnValue:
    user = person_or_404(user_id)
    relationships = all_relationships(scope=current_scope())
    errors: list[str] = []
    if request.method == "POST":
        if not ButtonForm().validate_on_submit():
            abort(400)
        wanted = {}
        for rel in relationships:
            value = request.form.get(f"role-{rel.id}")
            if value not in (people.NO_ROLE, *ROLES):
                errors.append(_("Select one of the roles listed for %(name)s", name=rel.name))
            wanted[rel.id] = value or people.NO_ROLE
        if not errors:
            try:
                people.change_roles(user, wanted, current_scope(), actor=acting_user())
            except ServiceError as exc:
                errors.append(str(exc))
            else:
                db.session.commit()
                flash(_("The roles of %(name)s are saved", name=user.name), SUCCESS)
                return redirect(url_for("people.person", user_id=user.id), 303)
    held = {m.relationship_id: m.role for m in user.memberships}
    page = render_template(
        "people/person.html",
        person=user,
        relationships=relationships,
        held=held,
        errors=errors,
        form=ButtonForm(),
        choices=role_choices(),
    )
    return page, (400 if errors else 200)


@bp.post("/<int:user_id>/active")
def set_active(user_id: int) -> ResponseReturnValue:
    user = person_or_404(user_id)
    if not ButtonForm().validate_on_submit() or request.form.get("active") not in ("0", "1"):
        abort(400)
    try:
        people.set_active(user, request.form["active"] == "1", actor=acting_user())
    except ServiceError as exc:
        abort(400, description=str(exc))
    db.session.commit()
    if user.active:
        flash(_("The account of %(name)s is on", name=user.name), SUCCESS)
    else:
        flash(_("The account of %(name)s is switched off", name=user.name), SUCCESS)
    return redirect(url_for("people.person", user_id=user.id), 303)
