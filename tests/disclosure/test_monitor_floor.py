"""Why every submitted count of the monitor, those under k too, stays a bound on the results'
cells (issue 11): the monitor's own pattern can leave a count shown as "fewer than k" a
floor above 0, so dropping it from the results' audit would assume too little."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linprog

from survey_app.services.monitoring import RateRow, protect_counts


def test_a_count_shown_as_fewer_than_k_can_have_a_floor_above_zero(app):
    # One party, two areas: a invites 12 (4 submitted, 8 not started), b invites 8
    # (7 submitted, 1 not started); nobody has a draft open.
    rows = [
        RateRow("supplier", "S", "a", "A", 12, 0, 4),
        RateRow("supplier", "S", "b", "B", 8, 0, 7),
    ]
    party = RateRow("supplier", "S", None, "All", 20, 0, 11)
    with app.test_request_context():
        (a, b), (p,), _ = protect_counts(rows, [party], party, 5)
    assert a.submitted is None and b.submitted is None and b.not_started is None
    assert a.not_started is None and p.submitted == 11 and p.not_started == 9
    # The intruder's unknowns: s_a, ns_a, s_b, ns_b, from what is shown.
    eq = np.array([[1, 1, 0, 0], [0, 0, 1, 1], [1, 0, 1, 0], [0, 1, 0, 1]])
    shown = [a.invited - a.started, b.invited - b.started, p.submitted, p.not_started]
    floor = linprog([1, 0, 0, 0], A_eq=eq, b_eq=shown, bounds=(0, None), method="highs").fun
    assert round(floor) == 3  # "fewer than 5", yet at least 3: a lower bound on its cell
