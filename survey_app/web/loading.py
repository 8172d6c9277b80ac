"""The things a URL names — a relationship, a wave, a service area, an action — loaded for a
view, or a 404 when there is no such thing (or it is not in the state the page needs).

Every blueprint loads them here, so that "not found" is decided once — and with it the
relationship scope: a relationship (or a wave, area or action of one) outside the current user's
reach for this page (:func:`survey_app.web.access.current_scope`) is answered exactly as one
that does not exist. The 404 raised is a
:class:`Missing`: the HTML error pages show their usual "Page not found", and the JSON API
answers with its ``code`` and ``description`` (``not_found``, or ``results_not_available``
for a wave that has not closed).
"""

from __future__ import annotations

from werkzeug.exceptions import NotFound

from survey_app.extensions import db
from survey_app.models import Action, Relationship, ServiceArea, Wave
from survey_app.services import actions as actions_service
from survey_app.services.waves import get_wave
from survey_app.web.access import current_scope


class Missing(NotFound):
    """A 404 that says what is missing, with a code for API clients."""

    def __init__(self, description: str, *, code: str = "not_found") -> None:
        super().__init__(description)
        self.api_code = code


def relationship_or_404(relationship_id: int) -> Relationship:
    """The relationship with this id."""
    relationship = db.session.get(Relationship, relationship_id)
    if relationship is None or not current_scope().allows(relationship.id):
        raise Missing(f"There is no relationship {relationship_id}.")
    return relationship


def wave_or_404(wave_id: int, *, closed: bool | None = None) -> Wave:
    """The wave with this id; with ``closed=True`` only a closed wave (the only kind with
    results), with ``closed=False`` only a draft or open one."""
    wave = db.session.get(Wave, wave_id)
    if wave is None or not current_scope().allows(wave.relationship_id):
        raise Missing(f"There is no wave {wave_id}.")
    if closed is True and wave.state != "closed":
        raise Missing(
            f"Wave {wave.label} is {wave.state}: results exist only once a wave has closed.",
            code="results_not_available",
        )
    if closed is False and wave.state == "closed":
        raise Missing(f"Wave {wave.label} is closed.")
    return wave


def closed_wave_by_label_or_404(relationship: Relationship, label: str) -> Wave:
    """The closed wave of ``relationship`` labelled ``label`` (as a bookmarkable
    ``?wave=2012-Q3`` names it)."""
    # No label holds a NUL, and PostgreSQL refuses one in a text parameter (a 500, not a 404).
    wave = None if "\x00" in label else get_wave(relationship, label, required=False)
    if wave is None:
        raise Missing(f"{relationship.name} has no wave {label!r}.")
    if wave.state != "closed":
        raise Missing(
            f"Wave {wave.label} is {wave.state}: results exist only once a wave has closed.",
            code="results_not_available",
        )
    return wave


def area_or_404(relationship: Relationship, area_id: int) -> ServiceArea:
    """The service area with this id, if it is one of ``relationship``'s (which the caller
    loaded with :func:`relationship_or_404`, and so checked)."""
    area = db.session.get(ServiceArea, area_id)
    if area is None or area.relationship_id != relationship.id:
        raise Missing(f"{relationship.name} has no service area {area_id}.")
    return area


def action_or_404(relationship: Relationship, action_id: int) -> Action:
    """The action with this id, if it was agreed on ``relationship``."""
    action = actions_service.get_action(relationship, action_id)
    if action is None:
        raise Missing(f"{relationship.name} has no action {action_id}.")
    return action
