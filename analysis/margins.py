"""Response rates and margins of error from who was invited (issue 16 part 3).

A survey of council and supplier staff samples a *finite* population: the people invited. When
60% of an area of 20 answer, the mean of that area is far more certain than the ordinary t
interval says, which treats the 12 answers as drawn from an endless population. The finite
population correction shrinks the standard error by :math:`\\sqrt{1 - n/N}`.

The correction is valid only when the invited number ``N`` is the population the answers come
from: use it where invitations fixed the group (the party, or the area where the invitation
named it). Where respondents chose their own area, ``N`` of an area is unknown (pass NaN) — and
``n`` can even exceed it. It also assumes non-response is *ignorable*: those who answered are
like a simple random sample of those invited (Lohr 2019, §8.1). A low response rate makes that
harder to believe, so a rate under 30% carries a note.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from analysis._common import N_, Reason, as_float_array, check_confidence, quiet, reason_array

__all__ = ["MarginResult", "finite_population_margins", "MIN_RESPONSE_RATE"]

MIN_RESPONSE_RATE = 0.30

_INVITED_UNKNOWN = N_("invited number unknown")
_MORE_THAN_INVITED = N_("more responses than invitations (respondents chose this group)")


@dataclass(frozen=True, slots=True)
class MarginResult:
    """Response rate and finite-population confidence interval of a mean, per group.

    Every array has the broadcast shape of the inputs.

    Attributes
    ----------
    n : ndarray of int
        Responses (the count behind the mean).
    invited : ndarray
        Invited, ``N`` (NaN where unknown).
    response_rate : ndarray
        ``n / N`` in [0, 1]; NaN where ``N`` is unknown, 0, or smaller than ``n``.
    low_response : ndarray of bool
        ``response_rate < min_rate`` (0.30 by default); False where the rate is NaN.
    fpc : ndarray
        :math:`\\sqrt{1 - n/N}`, the factor applied to the standard error; NaN where the
        correction does not apply (``N`` unknown or ``n > N``).
    corrected : ndarray of bool
        Whether the interval below used the correction.
    se : ndarray
        Standard error of the mean, corrected where ``corrected``.
    ci_low, ci_high : ndarray
        t confidence interval (``n - 1`` degrees of freedom) of the mean; the ordinary
        interval where not ``corrected``; NaN for ``n < 2`` or no variation.
    reason : ndarray of str
        Why the correction or the interval is missing: ``"invited number unknown"``,
        ``"more responses than invitations (respondents chose this group)"``, ``"n < 2"``,
        ``"zero variance"``; ``""`` otherwise.
    note : ndarray of str
        Plain words for a page or a download: the response rate, and a warning where it is
        under ``min_rate``; ``""`` where the rate is unknown.
    confidence : float
    min_rate : float
    """

    n: np.ndarray
    invited: np.ndarray
    response_rate: np.ndarray
    low_response: np.ndarray
    fpc: np.ndarray
    corrected: np.ndarray
    se: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    reason: np.ndarray
    note: np.ndarray
    confidence: float
    min_rate: float


def _margins_iv(n, mean, sd, invited, min_rate):
    n, mean, sd, invited = np.broadcast_arrays(
        as_float_array(n, name="n"),
        as_float_array(mean, name="mean"),
        as_float_array(sd, name="sd"),
        as_float_array(invited, name="invited"),
    )
    with quiet():
        if np.any(~np.isfinite(n)) or np.any(n < 0) or np.any(n != np.round(n)):
            raise ValueError("`n` must be whole numbers >= 0")
        given = invited[~np.isnan(invited)]
        if np.any(given < 0) or np.any(given != np.round(given)) or np.any(np.isinf(given)):
            raise ValueError("`invited` must be whole numbers >= 0, or NaN where unknown")
        if np.any(sd < 0):
            raise ValueError("`sd` must be non-negative (or NaN)")
    min_rate = float(min_rate)
    if not 0.0 <= min_rate <= 1.0:
        raise ValueError("`min_rate` must be a proportion between 0 and 1")
    return n, mean, sd, invited, min_rate


def finite_population_margins(n, mean, sd, invited, *, confidence=0.95, min_rate=MIN_RESPONSE_RATE):
    r"""Response rate and t confidence interval of a group mean with the finite-population correction.

    Parameters
    ----------
    n : array_like of int
        Responses behind each mean.
    mean, sd : array_like
        The group mean and its sample standard deviation (``ddof=1``), as
        :func:`analysis.scoring.group_aggregates` gives them.
    invited : array_like
        Number invited to the group, ``N``; NaN where unknown (a group that respondents chose
        themselves, or a wave without invitation records).
    confidence : float, optional
        Confidence level (default 0.95).
    min_rate : float, optional
        Response rate under which a group gets a low-response note (default 0.30).

    Returns
    -------
    MarginResult

    Notes
    -----
    For a simple random sample of :math:`n` from :math:`N` without replacement the sample
    mean is unbiased with variance :math:`(1 - n/N)\,S^2/n`, estimated with the sample
    variance :math:`s^2` [1]_ [2]_, so

    .. math::

        \operatorname{SE}(\bar y) = \frac{s}{\sqrt n}\sqrt{1 - \frac{n}{N}}, \qquad
        \bar y \pm t_{(1+c)/2,\ n-1}\ \operatorname{SE}(\bar y).

    With :math:`n = N` (everyone answered) the interval has zero width: the mean of the
    invited is known. Where :math:`N` is unknown or :math:`n > N` the ordinary interval
    :math:`\bar y \pm t\, s/\sqrt n` is returned, with a reason. The response rate is
    :math:`n/N` (AAPOR's RR1 when :math:`n` counts complete responses [3]_); the
    correction's validity rests on non-response being ignorable, which a low rate makes
    doubtful, hence the note under ``min_rate``.

    References
    ----------
    .. [1] Cochran, W. G. (1977). *Sampling Techniques* (3rd ed.), §2.5–2.6. Wiley.
    .. [2] Lohr, S. L. (2019). *Sampling: Design and Analysis* (2nd ed.), §2.3–2.5 and §8.1.
           CRC Press.
    .. [3] The American Association for Public Opinion Research (2023). *Standard
           Definitions: Final Dispositions of Case Codes and Outcome Rates for Surveys*
           (10th ed.).
    """
    confidence = check_confidence(confidence)
    n, mean, sd, invited, min_rate = _margins_iv(n, mean, sd, invited, min_rate)
    known = ~np.isnan(invited)
    fits = known & (n <= invited) & (invited > 0)
    with quiet():
        rate = np.where(fits, n / invited, np.nan)
        fpc = np.where(fits, np.sqrt(np.clip(1.0 - n / invited, 0.0, 1.0)), np.nan)
        se = np.where(fits, fpc, 1.0) * sd / np.sqrt(n)
        varies = (n >= 2) & (sd > 0)
        tcrit = stats.t.ppf(0.5 + confidence / 2.0, np.where(n >= 2, n - 1, 1.0))
        half = np.where(varies, tcrit * se, np.nan)
        low_response = rate < min_rate

    reason = reason_array(n.shape)
    reason[known & ~fits] = _MORE_THAN_INVITED
    reason[~known] = _INVITED_UNKNOWN
    reason[(n >= 2) & ~varies] = Reason.ZERO_VARIANCE
    reason[n < 2] = Reason.N_LT_2
    return MarginResult(
        n=n.astype(np.int64),
        invited=invited,
        response_rate=rate,
        low_response=low_response,
        fpc=fpc,
        corrected=fits & varies,
        se=np.where(n >= 2, se, np.nan),
        ci_low=mean - half,
        ci_high=mean + half,
        reason=reason,
        note=_notes(n, invited, rate, low_response, min_rate),
        confidence=confidence,
        min_rate=min_rate,
    )


def _notes(n, invited, rate, low_response, min_rate):
    """The response rate in words, with the low-response warning."""
    note = np.full(n.shape, "", dtype=object)
    for idx in np.ndindex(n.shape):  # one string per group
        if np.isnan(rate[idx]):
            continue
        text = f"{rate[idx]:.0%} of those invited answered ({n[idx]:.0f} of {invited[idx]:.0f})."
        if low_response[idx]:
            text += (
                f" That is under {min_rate:.0%}: those who answered may not speak for everyone"
                " invited, and the margin of error assumes they do."
            )
        note[idx] = text
    return note
