"""Heat-map significance: which service area really differs from the rest (issue 16 part 2).

The heat map shows a score per service area × dimension. Colouring cells by band says how
good a score is, not whether an area differs from the rest of the relationship: with a dozen
areas and ten dimensions, some cells look different by chance alone. Here each cell is tested
against *the rest* of its relationship — everyone in the comparison group who is not in that
cell — by Welch's t-test, the p-values of one wave are adjusted together (Benjamini–Hochberg),
and a cell is marked "higher" or "lower" only when the adjusted difference is significant *and*
at least ``min_points`` (5) points apart on the 0–100 scale.

Everything is computed from grouped moments (count, mean, sd of each cell and of the total it
belongs to), all cells at once; the moments of the rest follow from those of the total and the
cell, so no respondent-level data are needed.

Which total? The function takes any total that contains its cells. The recommended heat map
compares each area with the rest of *its own side* (council staff with council staff), passing
both sides' cells in one call (shape ``(2, n_areas, n_dimensions)`` with totals ``(2,
n_dimensions)``) so that one wave's cells form one family for the adjustment: sides differ
systematically (that is the perception gap, tested in :mod:`analysis.gaps`), and an area staffed
mostly from one side would otherwise look different for being one-sided. For a heat map of both
sides pooled, pass the pooled cells and the relationship total.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis._common import N_, Reason, as_float_array, check_points, quiet, reason_array
from analysis._two_sample import _welch_core
from analysis.gaps import benjamini_hochberg

__all__ = ["HeatMapResult", "heat_map_differences", "HIGHER", "LOWER", "MIN_POINTS"]

HIGHER = "higher"
LOWER = "lower"
MIN_POINTS = 5.0

# marked N_: the service shows a stored reason in the reader's language (gettext)
_NO_CELL = N_("no responses in this cell")
_FEW_CELL = N_("fewer than 2 responses in this cell")
_FEW_REST = N_("fewer than 2 responses in the rest")
_NO_VARIATION = N_("no variation in the cell or the rest")


@dataclass(frozen=True, slots=True)
class HeatMapResult:
    """Each heat-map cell against the rest of its comparison group.

    Every array has the shape of the cells, ``(..., n_areas, n_dimensions)``.

    Attributes
    ----------
    rest_n : ndarray of int
        Responses in the rest (the total less the cell).
    rest_mean, rest_sd : ndarray
        Mean and sample standard deviation of the rest, 1–K scale.
    difference : ndarray
        Cell mean minus rest mean, in scale points (1–K).
    difference100 : ndarray
        The same difference in points of the 0–100 scale.
    t, df, p : ndarray
        Welch's t statistic, its Welch–Satterthwaite degrees of freedom and two-sided p-value.
    p_adjusted : ndarray
        Benjamini–Hochberg adjusted p-value over every tested cell of the call (one wave).
    marking : ndarray of str
        ``"higher"``, ``"lower"`` or ``""`` (not marked).
    explanation : ndarray of str
        The marking, or why a cell is not marked, in plain words.
    reason : ndarray of str
        Why a cell was not tested (``""`` where it was).
    alpha : float
        Significance level after adjustment.
    min_points : float
        Smallest difference marked, in points of the 0–100 scale.
    """

    rest_n: np.ndarray
    rest_mean: np.ndarray
    rest_sd: np.ndarray
    difference: np.ndarray
    difference100: np.ndarray
    t: np.ndarray
    df: np.ndarray
    p: np.ndarray
    p_adjusted: np.ndarray
    marking: np.ndarray
    explanation: np.ndarray
    reason: np.ndarray
    alpha: float
    min_points: float


def _rest_moments(n, mean, sd, total_n, total_mean, total_sd):
    r"""Count, mean and variance of the total less the cell, from the moments of both.

    With :math:`N, M, S` the total's moments and :math:`n, m, s` the cell's, the rest has
    :math:`n_r = N - n`, :math:`m_r = (NM - nm)/n_r` and, since
    :math:`SS_T = SS_c + SS_r + \tfrac{n\,n_r}{N}(m - m_r)^2`,
    :math:`s_r^2 = \bigl[(N-1)S^2 - (n-1)s^2 - \tfrac{n\,n_r}{N}(m - m_r)^2\bigr] / (n_r - 1)`.
    """
    with quiet():
        rest_n = total_n - n
        rest_mean = (total_n * total_mean - n * mean) / rest_n
        ss_cell = np.where(n >= 2, (n - 1) * sd**2, 0.0)
        between = n * rest_n / total_n * (mean - rest_mean) ** 2
        ss_rest = (total_n - 1) * total_sd**2 - ss_cell - between
        # Subtraction leaves rounding noise where the rest has no variation.
        scale = np.maximum((total_n - 1) * total_sd**2, 1.0)
        ss_rest = np.where(ss_rest <= 1e-12 * scale, 0.0, ss_rest)
        rest_var = np.where(rest_n >= 2, ss_rest / (rest_n - 1), np.nan)
    return rest_n, rest_mean, rest_var


def _heat_map_iv(count, mean, sd, total_count, total_mean, total_sd, points, alpha, min_points):
    cells = [
        as_float_array(a, name=name) for a, name in ((count, "count"), (mean, "mean"), (sd, "sd"))
    ]
    if cells[0].ndim < 2:
        raise ValueError("cell arrays must be at least 2-D (n_areas, n_dimensions)")
    totals = [
        as_float_array(a, name=name)[..., None, :]
        for a, name in (
            (total_count, "total_count"),
            (total_mean, "total_mean"),
            (total_sd, "total_sd"),
        )
    ]
    if any(t.shape[-1] != cells[0].shape[-1] for t in totals):
        raise ValueError("totals must have the cells' shape without the area axis")
    try:
        arrays = np.broadcast_arrays(*cells, *totals)
    except ValueError as exc:
        raise ValueError("totals must have the cells' shape without the area axis") from exc
    n, total_n = arrays[0], arrays[3]
    with quiet():
        if np.any(n < 0) or np.any(n > total_n) or np.any(n != np.round(n)):
            raise ValueError("cell counts must be whole numbers between 0 and their total's count")
        if np.any(arrays[2] < 0) or np.any(arrays[5] < 0):
            raise ValueError("standard deviations must be non-negative (or NaN)")
    if not 0.0 < float(alpha) < 1.0:
        raise ValueError("`alpha` must be between 0 and 1")
    if not float(min_points) >= 0.0:
        raise ValueError("`min_points` must be a non-negative number of points")
    return arrays, check_points(points), float(alpha), float(min_points)


def heat_map_differences(
    count,
    mean,
    sd,
    total_count,
    total_mean,
    total_sd,
    *,
    points=5,
    alpha=0.05,
    min_points=MIN_POINTS,
    area_names=None,
    dimension_names=None,
    rest_label="the rest of the relationship",
) -> HeatMapResult:
    r"""Test every area × dimension cell against the rest of its comparison group.

    Parameters
    ----------
    count, mean, sd : array_like, shape (..., n_areas, n_dimensions)
        Moments of each cell on the 1–K scale (``sd`` with ``ddof=1``; NaN where ``n < 2``),
        as :func:`analysis.scoring.group_aggregates` gives them.
    total_count, total_mean, total_sd : array_like, shape (..., n_dimensions)
        Moments of the group each row of cells belongs to (the side, or the relationship),
        which contains the cells and may contain respondents of no area.
    points : int, optional
        Scale points K (default 5), for the 0–100 scale.
    alpha : float, optional
        Significance level after adjustment (default 0.05).
    min_points : float, optional
        Smallest difference that is marked, in points of the 0–100 scale (default 5).
    area_names, dimension_names : sequence of str, optional
        Names used in the explanations ("Trust in Contact centre: ..."); without them the
        explanation starts with the numbers.
    rest_label : str, optional
        What the rest is called in the explanations (default "the rest of the relationship";
        e.g. "the rest of the council's staff" for a heat map of one side).

    Returns
    -------
    HeatMapResult

    Notes
    -----
    For a cell with :math:`n, m, s^2` and the rest with :math:`n_r, m_r, s_r^2` (see
    ``_rest_moments``), Welch's test [1]_:

    .. math::

        t = \frac{m - m_r}{\sqrt{s^2/n + s_r^2/n_r}}, \qquad
        \nu = \frac{(s^2/n + s_r^2/n_r)^2}{\frac{(s^2/n)^2}{n-1} + \frac{(s_r^2/n_r)^2}{n_r-1}},
        \qquad p = 2\,T_\nu(-|t|),

    as ``scipy.stats.ttest_ind(cell, rest, equal_var=False)`` on the raw scores. Every tested
    cell of the call (pass one wave) is one family for the Benjamini–Hochberg adjustment [2]_
    (:func:`analysis.gaps.benjamini_hochberg`). The cells of a dimension share respondents
    with each other's "rest", so their tests are dependent; the adjustment's error rate under
    that dependence is checked by simulation in the tests. A cell is marked when

    .. math:: \tilde p < \alpha \ \wedge\ \Bigl|\frac{m - m_r}{K - 1}\Bigr| \times 100 \ge 5.

    References
    ----------
    .. [1] Welch, B. L. (1947). The generalization of "Student's" problem when several
           different population variances are involved. *Biometrika*, 34(1–2), 28–35.
    .. [2] Benjamini, Y., & Hochberg, Y. (1995). Controlling the false discovery rate: a
           practical and powerful approach to multiple testing. *JRSS B*, 57(1), 289–300.
    """
    arrays, points, alpha, min_points = _heat_map_iv(
        count, mean, sd, total_count, total_mean, total_sd, points, alpha, min_points
    )
    n, m, s, total_n, total_m, total_s = arrays
    rest_n, rest_mean, rest_var = _rest_moments(n, m, s, total_n, total_m, total_s)
    t, df, p = _welch_core(m, s**2, n, rest_mean, rest_var, rest_n)
    p_adjusted = benjamini_hochberg(p)
    with quiet():
        difference = m - rest_mean
        difference100 = difference / (points - 1) * 100.0
        marked = (p_adjusted < alpha) & (np.abs(difference100) >= min_points)
    marking = np.where(marked & (difference > 0), HIGHER, np.where(marked, LOWER, ""))
    reason = _reasons(n, rest_n, m, s, rest_mean, rest_var, p)
    scores = ((m - 1.0) / (points - 1) * 100.0, (rest_mean - 1.0) / (points - 1) * 100.0)
    explanation = _explanations(
        marking, reason, difference100, scores, p_adjusted, (alpha, min_points, rest_label),
        area_names, dimension_names,
    )  # fmt: skip
    with quiet():
        rest_sd = np.sqrt(rest_var)
    return HeatMapResult(
        rest_n=rest_n.astype(np.int64),
        rest_mean=rest_mean,
        rest_sd=rest_sd,
        difference=difference,
        difference100=difference100,
        t=t,
        df=df,
        p=p,
        p_adjusted=p_adjusted,
        marking=marking.astype(object),
        explanation=explanation,
        reason=reason,
        alpha=alpha,
        min_points=min_points,
    )


def _reasons(n, rest_n, m, s, rest_mean, rest_var, p):
    """Why each cell was not tested (the most specific reason wins)."""
    reason = reason_array(n.shape)
    reason[np.isnan(p)] = _NO_VARIATION
    with quiet():
        reason[~np.isfinite(m) | ~np.isfinite(rest_mean) | np.isnan(rest_var)] = (
            Reason.MISSING_INPUT
        )
        reason[(n >= 2) & (np.isnan(s))] = Reason.MISSING_INPUT
    reason[rest_n < 2] = _FEW_REST
    reason[n < 2] = _FEW_CELL
    reason[n == 0] = _NO_CELL
    return reason


def _format_p(p):
    return "adjusted p < 0.001" if p < 0.001 else f"adjusted p = {p:.3f}"


def _explanations(marking, reason, diff100, scores, p_adj, rule, areas, dims):
    """One plain-words sentence per cell: its marking, or why it is not marked."""
    alpha, min_points, rest = rule
    out = np.empty(marking.shape, dtype=object)
    cell_score, rest_score = scores
    for idx in np.ndindex(marking.shape):  # one short string per heat-map cell
        lead = ""
        if areas is not None and dims is not None:
            lead = f"{dims[idx[-1]]} in {areas[idx[-2]]}: "
        elif areas is not None or dims is not None:
            lead = f"{areas[idx[-2]] if areas is not None else dims[idx[-1]]}: "
        if reason[idx]:
            text = f"not compared with {rest} ({reason[idx]})."
            out[idx] = lead + (text[0].upper() + text[1:] if not lead else text)
            continue
        d, pa = diff100[idx], p_adj[idx]
        side = "above" if d > 0 else "below"
        numbers = f"{cell_score[idx]:.0f} against {rest_score[idx]:.0f} out of 100"
        if marking[idx]:
            text = (
                f"{abs(d):.1f} points {marking[idx]} than {rest} "
                f"({numbers}). Allowing for every comparison on this heat map, a difference "
                f"this large is unlikely to be chance ({_format_p(pa)})."
            )
        elif pa < alpha:
            text = (
                f"{abs(d):.1f} points {side} {rest} ({numbers}): probably a real difference, "
                f"but smaller than the {min_points:g} points we mark."
            )
        elif abs(d) >= min_points:
            text = (
                f"{abs(d):.1f} points {side} {rest} ({numbers}), but with these numbers of "
                f"responses a difference this size could be chance ({_format_p(pa)})."
            )
        else:
            text = f"no clear difference from {rest} ({numbers})."
        out[idx] = lead + (text[0].upper() + text[1:] if not lead else text)
    return out
