"""How the charts and their tables write numbers, and what a hidden cell says instead."""

from __future__ import annotations

from flask_babel import gettext


def fmt_mean(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def fmt_points(value: float | None) -> str:
    return "" if value is None else f"{value:.0f}"


def fmt_signed(value: float | None) -> str:
    return "" if value is None else f"{value:+.2f}".replace("-", "−")


def fmt_p(value: float | None) -> str:
    if value is None:
        return ""
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def fmt_int(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


def fmt_rate(value: float | None) -> str:
    """A response rate as the monitor shows it: one decimal and a per cent sign."""
    return "–" if value is None else f"{value:.1f}%"


def suppressed_text(reason: str | None, k: int) -> str:
    """What a suppressed cell says instead of a number."""
    if reason is None:
        return ""
    if reason.startswith("secondary"):
        return gettext("Hidden so that a smaller group cannot be worked out")
    return gettext("Fewer than %(k)s responses", k=k)


def band_words(band: str | None) -> str:
    """A band in words, in the reader's language ("no band" when there is none)."""
    words = {
        "strength": gettext("strength"),
        "borderline": gettext("borderline"),
        "concern": gettext("concern"),
    }
    return words.get(band or "", gettext("no band"))
