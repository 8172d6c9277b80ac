"""An open wave's response rate: the share of invitations used, per party and service area.

Drawn from the response-rate monitor's rows (:class:`survey_app.services.monitoring.RateRow`),
with the monitor's words; never cached, as the counts change with every response.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from flask_babel import gettext

from survey_app.services.dashboard.charts.format import fmt_rate
from survey_app.services.dashboard.charts.model import Chart, DataTable
from survey_app.services.dashboard.charts.style import BLUE, margins, plain_axes, wrap
from survey_app.services.dashboard.charts.svg import render_chart
from survey_app.services.monitoring import RateRow

if TYPE_CHECKING:  # matplotlib itself is imported when a chart is first drawn, not at start-up
    from matplotlib.figure import Figure


def response_rate_chart(key: str, *, title: str, subject: str, rows: Sequence[RateRow]) -> Chart:
    """Share of invitations used, per party and service area (an open wave: not cached)."""
    labels = [wrap(f"{r.party}, {r.area_name}", 40) for r in rows]

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        margins(fig, left=0.36, right=0.97, top=0.3, bottom=0.6)
        y = np.arange(len(rows))[::-1]
        ax.barh(y, [r.rate or 0.0 for r in rows], color=BLUE, height=0.6)
        for yi, r in zip(y, rows, strict=True):
            ax.text(
                (r.rate or 0.0) + 1,
                yi,
                gettext(
                    "%(rate)s (%(submitted)s of %(invited)s)",
                    rate=fmt_rate(r.rate),
                    submitted=r.figure("submitted"),
                    invited=r.figure("invited"),
                ),
                va="center",
                fontsize=8,
            )
        ax.set_yticks(y, labels, fontsize=8)
        ax.set_xlim(0, 115)
        ax.set_xticks([0, 25, 50, 75, 100], ["0%", "25%", "50%", "75%", "100%"])
        ax.set_xlabel(gettext("Invitations used"))
        plain_axes(ax)

    used = "; ".join(
        gettext(
            "%(party)s, %(area)s: %(submitted)s of %(invited)s invitations used",
            party=r.party,
            area=r.area_name,
            submitted=r.figure("submitted"),
            invited=r.figure("invited"),
        )
        for r in rows
    )
    table = DataTable(
        caption=gettext("%(title)s: the data", title=title),
        head=(  # the monitor page's words (templates/admin/_macros.html rates_table)
            gettext("Party"),
            gettext("Service area"),
            gettext("Invited"),
            gettext("Started, not submitted"),
            gettext("Submitted"),
            gettext("Response rate"),
        ),
        rows=tuple(
            (
                r.party,
                r.area_name,
                r.figure("invited"),
                r.figure("started"),
                r.figure("submitted"),
                fmt_rate(r.rate),
            )
            for r in rows
        ),
        numeric=(False, False, True, True, True, True),
    )
    size = (8, 0.4 * max(len(rows), 1) + 1.0)
    return render_chart(key, title, f"{subject}: {used}.", draw, size, table)
