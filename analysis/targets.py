"""The distance of a mean to the target both sides agreed, rated red, amber or green.

SC21's Relationship Measurement Matrix and ISO 44001 have a partnership agree a target state
per attribute and report the gap to it. The rating reads the mean's 95% confidence interval
(DESIGN §4.5), so that chance alone rarely calls a group short of its target:

* **green**: the mean has reached the target (``mean >= target``);
* **amber**: the mean is below the target, but the target lies inside its confidence
  interval — not clearly short of it;
* **red**: the whole confidence interval lies below the target (``ci_high < target``).

Red is a one-sided test at level (1 − confidence) / 2: where the true mean is at the target,
a group is called red in at most 2.5% of waves (checked by simulation in the tests).
"""

from __future__ import annotations

import numpy as np

from analysis._common import N_, as_float_array

__all__ = ["RATING_RULE", "RATINGS", "target_rating"]

#: The ratings, best first.
RATINGS = ("green", "amber", "red")
#: The rule in words, as written beside every rating.
RATING_RULE = N_(
    "Green: the mean has reached the agreed target. Amber: the mean is below the target, "
    "but the target is inside its 95% confidence interval, so it is not clearly short of it. "
    "Red: the whole 95% confidence interval is below the target."
)


def target_rating(mean, ci_high, target) -> np.ndarray:
    """The rating of each mean against its target: ``"green"``, ``"amber"``, ``"red"``, or
    ``""`` where the mean or the target is missing (NaN).

    Parameters
    ----------
    mean, ci_high, target : array_like, broadcastable
        The mean, the upper end of its 95% confidence interval (NaN when there is none: a
        mean below target is then amber, never red) and the agreed target.

    Returns
    -------
    ndarray of str
    """
    mean = as_float_array(mean, name="mean")
    ci_high = as_float_array(ci_high, name="ci_high")
    target = as_float_array(target, name="target")
    mean, ci_high, target = np.broadcast_arrays(mean, ci_high, target)
    out = np.full(mean.shape, "", dtype=object)
    known = ~np.isnan(mean) & ~np.isnan(target)
    out[known] = "amber"
    out[known & (mean >= target)] = "green"
    out[known & (mean < target) & (ci_high < target)] = "red"
    return out
