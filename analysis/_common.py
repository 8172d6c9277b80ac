"""Small private helpers shared by the analysis modules.

Nothing here is public API: the names may change. Import them as
``from analysis._common import as_float_array, Reason, quiet``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np


def N_(text: str) -> str:  # noqa: N802 - the gettext convention's name
    """Mark a fixed text for translation without translating it (``gettext_noop``).

    The analysis package never translates (it knows nothing of the reader); the service shows
    such a text with ``gettext(text)`` in the reader's language, and ``pybabel extract`` finds
    it by this name (babel.cfg reads ``analysis/`` too). ``survey_app.texts`` re-exports it.
    """
    return text


__all__ = [
    "N_",
    "Reason",
    "as_float_array",
    "as_float_2d",
    "as_codes",
    "quiet",
    "reason_array",
    "check_points",
    "check_confidence",
    "group_order",
    "grouped_moments",
    "format_p",
    "format_points",
    "format_slope",
    "segment_sums",
]


class Reason:
    """Why a statistic is NaN. The empty string means "computed".

    Marked `N_`: stored with the results, and shown in the reader's language."""

    OK = ""
    N_LT_2 = N_("n < 2")
    N_LT_3 = N_("n < 3")
    K_LT_2 = N_("fewer than 2 items")
    ZERO_VARIANCE = N_("zero variance")
    NO_ANSWERS = N_("no answers")
    TOO_FEW_WAVES = N_("too few waves")
    TOO_FEW_GROUPS = N_("fewer than 2 groups")
    NO_COMPLETE_CASES = N_("no complete cases")
    HALF_RULE = N_("fewer than half the items answered")
    BELOW_MIN_N = N_("group below minimum size")
    MISSING_INPUT = N_("missing input")


def as_float_array(a, *, name: str = "x", ndim: int | None = None) -> np.ndarray:
    """Return ``a`` as a float64 ndarray (a copy only when needed).

    Raises ValueError if the values are not numeric or the dimensionality is wrong.
    """
    try:
        out = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"`{name}` must be numeric") from exc
    if ndim is not None and out.ndim != ndim:
        raise ValueError(f"`{name}` must be {ndim}-D, got shape {out.shape}")
    return out


def as_float_2d(a, *, name: str = "x") -> np.ndarray:
    """Return ``a`` as a float64 2-D array (n_responses, n_items); a 1-D input is one item."""
    out = as_float_array(a, name=name)
    if out.ndim == 1:
        out = out[:, None]
    if out.ndim != 2:
        raise ValueError(f"`{name}` must be 2-D (n_responses, n_items), got shape {out.shape}")
    return out


def as_codes(codes, n_groups: int, *, n: int, name: str = "codes") -> np.ndarray:
    """Validate integer group codes of length ``n`` in ``-inf..n_groups-1`` (negatives = no group).

    Returns an int64 array.
    """
    arr = np.asarray(codes)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValueError(f"`{name}` must be 1-D of length {n}, got shape {arr.shape}")
    if (
        arr.size
        and not np.issubdtype(arr.dtype, np.integer)
        and (
            not np.issubdtype(arr.dtype, np.floating)
            or not np.all(np.isfinite(arr))
            or np.any(arr != np.round(arr))
        )
    ):
        raise ValueError(f"`{name}` must be integers")
    arr = arr.astype(np.int64, copy=False)
    if int(n_groups) != n_groups or n_groups < 0:
        raise ValueError("`n_groups` must be a non-negative integer")
    if arr.size and arr.max() >= n_groups:
        raise ValueError(f"`{name}` must be < n_groups ({n_groups}); got {arr.max()}")
    return arr


def check_points(points) -> int:
    """Validate the number of scale points K (an integer >= 2)."""
    if isinstance(points, bool) or int(points) != points or points < 2:
        raise ValueError(f"`points` must be an integer >= 2, got {points!r}")
    return int(points)


def check_confidence(confidence) -> float:
    """Validate a confidence level strictly between 0 and 1."""
    c = float(confidence)
    if not 0.0 < c < 1.0:
        raise ValueError(f"`confidence` must be between 0 and 1, got {confidence!r}")
    return c


def reason_array(shape, fill: str = Reason.OK) -> np.ndarray:
    """An object array of reason strings, filled with ``fill``."""
    out = np.empty(shape, dtype=object)
    out[...] = fill
    return out


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Silence NumPy floating-point warnings (0/0, x/0, invalid) inside the block.

    Use around arithmetic whose degenerate cases are detected and labelled afterwards.
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        yield


def group_order(codes: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows of groups ``0..n_groups-1`` sorted by group (stably), and each group's size.

    Rows with a negative code are left out. Small codes are sorted by a stable radix sort
    (NumPy's for 16-bit keys), so this is linear in the number of rows.
    """
    keep = codes >= 0
    sizes = np.bincount(codes[keep], minlength=n_groups)
    keys = np.where(keep, codes, -1)
    if n_groups < 2**15:
        keys = keys.astype(np.int16)
    order = np.argsort(keys, kind="stable")[keys.size - int(sizes.sum()) :]
    return order, sizes


def segment_sums(sorted_values: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Sums of consecutive blocks of rows of the given sizes (zeros for empty blocks).

    One :func:`numpy.add.reduceat` pass over the rows; ``sizes`` from :func:`group_order`.
    """
    out = np.zeros((sizes.size, *sorted_values.shape[1:]))
    nonempty = sizes > 0
    if nonempty.any():
        starts = np.cumsum(sizes) - sizes
        out[nonempty] = np.add.reduceat(sorted_values, starts[nonempty], axis=0)
    return out


def grouped_moments(values, codes, n_groups: int):
    """Per-group, per-column count, mean and sum of squared deviations, without a Python loop.

    Parameters
    ----------
    values : ndarray, shape (n, m)
        Float data; NaN entries are excluded.
    codes : ndarray of int, shape (n,)
        Group of each row, ``0..n_groups-1``; negative codes are excluded.
    n_groups : int

    Returns
    -------
    count, mean, ss : ndarray, shape (n_groups, m)
        ``mean`` is NaN where ``count == 0``; ``ss`` is the two-pass sum of squared
        deviations from the group mean (0 where ``count == 0``).

    Notes
    -----
    The rows are sorted by group once (:func:`group_order`, a linear radix sort) and each
    sum is one :func:`numpy.add.reduceat` over the sorted rows (:func:`segment_sums`).
    Deviations are taken from the group mean in a second pass, which is numerically safer
    than ``sum(x**2) - n * mean**2``.
    """
    order, sizes = group_order(codes, n_groups)
    rows = values[order]
    ok = ~np.isnan(rows)
    count = segment_sums(ok, sizes)
    with quiet():
        mean = np.where(count > 0, segment_sums(np.where(ok, rows, 0.0), sizes) / count, np.nan)
    dev = np.where(ok, rows - np.repeat(np.nan_to_num(mean), sizes, axis=0), 0.0)
    return count, mean, segment_sums(dev * dev, sizes)


# ------------------------------------------------------------------- words for evidence


def format_p(p: float) -> str:
    """'p = 0.03', 'p = 0.004', 'p < 0.001'."""
    if p < 0.001:
        return "p < 0.001"
    if p < 0.01:
        return f"p = {p:.3f}"
    return f"p = {p:.2f}"


def format_points(change: float) -> str:
    """'down 9 points' / 'up 1 point' / 'no change' for a 0–100 change."""
    k = int(round(abs(change)))
    if k == 0:
        return "no change"
    unit = "point" if k == 1 else "points"
    return f"{'down' if change < 0 else 'up'} {k} {unit}"


def format_slope(slope: float) -> str:
    """A signed slope with one decimal and a true minus sign ('−1.5', '+0.3', '0.0')."""
    text = f"{slope:+.1f}"
    return "0.0" if text in ("+0.0", "-0.0") else text.replace("-", "\N{MINUS SIGN}")
