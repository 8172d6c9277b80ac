"""The codebook of the results tables: every column, its type and what it means.

Used by the downloads' ``codebook`` sheet and the API description. Types are ``text``,
``integer``, ``number`` and ``boolean``; a blank cell (``null``) means "not computed" (the
row's ``reason`` says why), "does not apply", or — with a ``suppressed`` reason — hidden for
confidentiality. Notation: K = scale points (5 unless the instrument says otherwise); scores
are on the 1–K scale after reverse-keying (x' = K + 1 − x), so a higher value is always
more favourable to the partnership; "points" are on the 0–100 scale,
(mean − 1) / (K − 1) × 100.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["TABLE_DESCRIPTIONS", "CodebookColumn", "columns", "tables"]


@dataclass(frozen=True, slots=True)
class CodebookColumn:
    """One column: name, type (``text``, ``integer``, ``number``, ``boolean``), meaning."""

    name: str
    type: str
    description: str
    label: str = ""
    value_labels: Mapping[str, str] = field(default_factory=dict)


def _c(name: str, kind: str, description: str, **extra) -> CodebookColumn:  # type: ignore[no-untyped-def]
    return CodebookColumn(name, kind, " ".join(description.split()), **extra)


_SIDE_LABELS = {
    "client": "Client (council) staff",
    "supplier": "Supplier staff",
    "all": "Both sides",
}
_STATUS_LABELS = {
    "deteriorating": "Getting worse, with evidence",
    "watch": "Early signs of getting worse, or in the concern band",
    "improving": "Getting better, with evidence",
    "stable": "No evidence of change",
}
_BAND_LABELS = {
    "strength": "Mean of at least 4.0",
    "borderline": "Mean from 3.0 to under 4.0",
    "concern": "Mean under 3.0",
}

WAVE = _c("wave", "text", "Label of the closed wave, e.g. 2012-Q3.")
SIDE = _c(
    "side",
    "text",
    "Whose answers: client (council staff), supplier (supplier staff) or all (both sides).",
    value_labels=_SIDE_LABELS,
)
AREA = _c(
    "area",
    "text",
    """Service area key; _all = every response whatever its area (the margin), _none =
    responses that gave no service area.""",
)
AREA_NAME = _c("area_name", "text", "Service area name (All service areas, Not stated).")
DIMENSION = _c(
    "dimension",
    "text",
    """Dimension key from the instrument; index = the relationship health index (RHI), the
    weighted mean of a response's dimension scores when at least half the dimensions are
    scored.""",
)
DIMENSION_TITLE = _c("dimension_title", "text", "Dimension title from the instrument.")
REASON = _c(
    "reason",
    "text",
    "Why some statistic of the row is blank (e.g. n < 2, zero variance); blank when all are computed.",
)
SUPPRESSED_COL = _c(
    "suppressed",
    "text",
    """Blank when the row is shown. Otherwise why its statistics are hidden (DESIGN §4.14):
    "fewer than k responses" (0 < n < k, k = MIN_CELL_SIZE, at least 3) or "secondary: would
    reveal a suppressed cell" (hidden so that a small cell cannot be worked out by subtracting
    shown cells from their total). Labels stay; every statistic, n included, is blank.""",
)
COMPARABILITY = _c(
    "comparability_note",
    "text",
    """Where the series behind the status or trend spans instrument versions: whether the
    dimension's items stayed the same (instruments.changed_dimensions) or, if they changed,
    from which wave the series restarts and why. Blank within one version.""",
)
N_SCORE = _c(
    "n",
    "integer",
    """Responses in the cell with a score for the dimension (half rule: at least half its items
    answered, "don't know" counting as unanswered).""",
)
MEAN = _c("mean", "number", "Mean score on the 1–K scale (reverse-keyed items reversed).")
SD = _c("sd", "number", "Sample standard deviation of the scores (n − 1 denominator).")
CI_LOW = _c(
    "ci_low",
    "number",
    "Lower limit of the 95% confidence interval of the mean: mean − t(0.975, n−1) · sd / √n.",
)
CI_HIGH = _c(
    "ci_high",
    "number",
    "Upper limit of the 95% confidence interval of the mean: mean + t(0.975, n−1) · sd / √n.",
)
SCORE100 = _c("score100", "number", "The mean on the 0–100 scale: (mean − 1) / (K − 1) × 100.")
FAV = _c(
    "favourable_pct",
    "number",
    """Percentage of the answered items (after reverse-keying) in the instrument's favourable
    values (4–5 on a 5-point scale); "don't know" and skipped items excluded.""",
)
NEUTRAL = _c(
    "neutral_pct", "number", "Percentage of answered items neither favourable nor unfavourable."
)
UNFAV = _c(
    "unfavourable_pct",
    "number",
    "Percentage of answered items in the unfavourable values (1–2 on a 5-point scale).",
)
BAND = _c(
    "band",
    "text",
    """Band of the mean (Wilder Collaboration Factors Inventory convention, configurable per
    instrument): strength ≥ 4.0, borderline 3.0–3.99, concern < 3.0.""",
    value_labels=_BAND_LABELS,
)
STATUS = _c(
    "status",
    "text",
    """deteriorating: Mann–Kendall p < 0.05 with a falling trend, or a latest drop of 5+
    points significant after Benjamini–Hochberg adjustment, or an EWMA / lower CUSUM signal;
    watch: falling trend with p < 0.20, a drop of 5+ points not significant, or band concern;
    improving: the mirror image of deteriorating; stable: none of these (DESIGN §4.12,
    analysis.status.classify). Computed from the closed waves up to this one.""",
    value_labels=_STATUS_LABELS,
)
STATUS_SUMMARY = _c("status_summary", "text", "One sentence: the status and the evidence for it.")
STATUS_EVIDENCE = _c(
    "status_evidence",
    "text",
    """Every piece of evidence looked at, one plain-English sentence per line: the trend test,
    the latest change, the EWMA and CUSUM charts, the band; methods with too few waves say so.""",
)
PREVIOUS_WAVE = _c(
    "previous_wave", "text", "The closed wave before this one (blank for the first)."
)

SCORES = (
    WAVE,
    SIDE,
    AREA,
    AREA_NAME,
    DIMENSION,
    DIMENSION_TITLE,
    N_SCORE,
    MEAN,
    SD,
    CI_LOW,
    CI_HIGH,
    SCORE100,
    BAND,
    _c(
        "n_answers",
        "integer",
        "Item answers (excluding don't know) behind the favourable / neutral / unfavourable shares.",
    ),
    FAV,
    NEUTRAL,
    UNFAV,
    _c(
        "rwg",
        "number",
        """Within-group agreement r_wg(j) of the dimension's items in a service-area cell (James,
        Demaree & Wolf 1984): J(1 − s̄²/σ²_EU) / (J(1 − s̄²/σ²_EU) + s̄²/σ²_EU), σ²_EU =
        (K² − 1)/12, s̄² the mean item variance, J the items; set to 0 when s̄² > σ²_EU.
        Dimensions only (the index is not one scale) and area cells only (blank for the
        all-areas margin).""",
    ),
    _c("rwg_truncated", "boolean", "True where r_wg(j) was set to 0 because s̄² exceeded σ²_EU."),
    _c(
        "ad",
        "number",
        """Average deviation index AD_M(j) (Burke, Finkelstein & Dusig 1999): mean absolute
        deviation of answers from the item mean, averaged over items. Area cells only.""",
    ),
    _c(
        "no_shared_view",
        "boolean",
        """True when r_wg(j) < 0.70 and AD_M(j) > K/6: the people of the area do not share a
        view, so the mean is shown with that warning (DESIGN §4.8).""",
    ),
    _c(
        "icc1",
        "number",
        """ICC(1) across the service areas (all-areas rows only), one-way ANOVA: (MSB − MSW) /
        (MSB + (k0 − 1) MSW), k0 the effective group size (Shrout & Fleiss 1979; Bliese 2000).""",
    ),
    _c(
        "icc2",
        "number",
        "ICC(2), reliability of the area means: (MSB − MSW) / MSB (all-areas rows only).",
    ),
    PREVIOUS_WAVE,
    _c(
        "change",
        "number",
        "Change of the mean since the previous wave (this − previous, 1–K scale); blank where not comparable.",
    ),
    _c("change_points", "number", "The change on the 0–100 scale: change × 100 / (K − 1)."),
    _c(
        "change_g",
        "number",
        """Hedges' g of the change: (this − previous) / pooled sd × (1 − 3/(4(n₁+n₂) − 9))
        (Hedges 1981).""",
    ),
    _c(
        "change_p",
        "number",
        "Welch's t-test p-value (two-sided) of the change; the waves are independent samples.",
    ),
    _c(
        "change_p_adjusted",
        "number",
        "change_p adjusted by Benjamini–Hochberg over every cell and dimension of the wave.",
    ),
    STATUS,
    STATUS_SUMMARY,
    STATUS_EVIDENCE,
    COMPARABILITY,
    REASON,
    SUPPRESSED_COL,
)

ITEMS = (
    WAVE,
    SIDE,
    AREA,
    AREA_NAME,
    _c("item", "text", "Item key from the instrument (the column name in the responses table)."),
    _c("item_no", "integer", "Position of the item in the instrument version (0-based)."),
    _c("dimension", "text", "Key of the dimension the item belongs to."),
    _c(
        "reverse_keyed",
        "boolean",
        "True for a negatively worded item: its statistics use x' = K + 1 − x.",
    ),
    _c("n", "integer", "Answers to the item in the cell (don't know and skipped excluded)."),
    _c("mean", "number", "Mean answer on the 1–K scale after reverse-keying."),
    SD,
    CI_LOW,
    CI_HIGH,
    SCORE100,
    _c(
        "favourable_pct",
        "number",
        "Percentage of the item's answers (after reverse-keying) in the favourable values.",
    ),
    _c(
        "neutral_pct",
        "number",
        "Percentage of the item's answers neither favourable nor unfavourable.",
    ),
    _c(
        "unfavourable_pct", "number", "Percentage of the item's answers in the unfavourable values."
    ),
    _c("n_dont_know", "integer", 'Responses in the cell that answered "don\'t know".'),
    REASON,
    SUPPRESSED_COL,
)

RELIABILITY = (
    WAVE,
    SIDE,
    _c("dimension", "text", "Dimension key."),
    DIMENSION_TITLE,
    _c("item", "text", "Item key on item rows; blank on the dimension row."),
    _c(
        "level",
        "text",
        "dimension: the row gives alpha for the dimension; item: the row gives one item's diagnostics.",
        value_labels={"dimension": "Dimension", "item": "Item"},
    ),
    _c("n_items", "integer", "Items in the dimension (k)."),
    _c(
        "n_complete",
        "integer",
        "Responses (both service-area margins pooled) that answered every item of the dimension.",
    ),
    _c(
        "alpha",
        "number",
        """Cronbach's alpha on the complete cases of the reverse-keyed items: k/(k − 1) ·
        (1 − Σ item variances / variance of the sum) (Cronbach 1951).""",
    ),
    _c(
        "ci_low",
        "number",
        """Lower limit of Feldt's 95% interval: 1 − (1 − α) · F(0.975; n − 1, (n − 1)(k − 1))
        (Feldt, Woodruff & Salih 1987).""",
    ),
    _c(
        "ci_high",
        "number",
        "Upper limit of Feldt's 95% interval: 1 − (1 − α) · F(0.025; n − 1, (n − 1)(k − 1)).",
    ),
    _c("flag_low", "boolean", "True when alpha < 0.70 (Nunnally 1978)."),
    _c(
        "item_rest_r",
        "number",
        "Item rows: corrected item–total correlation, the item with the sum of the other items.",
    ),
    _c(
        "alpha_if_deleted",
        "number",
        "Item rows: Cronbach's alpha of the dimension without this item (blank for 2-item dimensions).",
    ),
    REASON,
    SUPPRESSED_COL,
)

GAPS = (
    WAVE,
    AREA,
    AREA_NAME,
    DIMENSION,
    DIMENSION_TITLE,
    _c("n_client", "integer", "Client responses with a score."),
    _c("n_supplier", "integer", "Supplier responses with a score."),
    _c("mean_client", "number", "Client mean (1–K)."),
    _c("mean_supplier", "number", "Supplier mean (1–K)."),
    _c("sd_client", "number", "Client standard deviation (n − 1)."),
    _c("sd_supplier", "number", "Supplier standard deviation (n − 1)."),
    _c(
        "difference",
        "number",
        "Perception gap: client mean − supplier mean (positive when the council rates higher).",
    ),
    _c("difference_points", "number", "The gap on the 0–100 scale: difference × 100 / (K − 1)."),
    _c(
        "g",
        "number",
        """Hedges' g, client − supplier: difference / pooled sd × (1 − 3/(4(n_c + n_s) − 9))
        (Hedges 1981).""",
    ),
    _c(
        "g_ci_low",
        "number",
        """Lower 95% limit of g: g − t(0.975, n_c + n_s − 2) · √((n_c + n_s)/(n_c n_s) +
        g²/(2(n_c + n_s))) (Hedges & Olkin 1985).""",
    ),
    _c("g_ci_high", "number", "Upper 95% limit of g (as g_ci_low, with +)."),
    _c(
        "cliffs_delta",
        "number",
        "Cliff's δ = P(client > supplier) − P(client < supplier) = 2U/(n_c n_s) − 1 (Cliff 1993).",
    ),
    _c("welch_t", "number", "Welch's t statistic of the difference."),
    _c("welch_df", "number", "Welch–Satterthwaite degrees of freedom."),
    _c(
        "welch_p",
        "number",
        "Two-sided p-value of Welch's t-test (scipy.stats.ttest_ind(equal_var=False)).",
    ),
    _c(
        "mw_u",
        "number",
        "Mann–Whitney U of the client side (mid-ranks for ties).",
    ),
    _c(
        "mw_p",
        "number",
        """Two-sided Mann–Whitney p-value, normal approximation with tie and continuity
        correction.""",
    ),
    _c(
        "p_adjusted",
        "number",
        "welch_p adjusted by Benjamini–Hochberg over every area and dimension of the wave.",
    ),
    _c(
        "material",
        "boolean",
        """True when the gap is material: p_adjusted < 0.05 and (|difference| ≥ 0.5 scale
        points or |g| ≥ 0.5) (DESIGN §4.9).""",
    ),
    PREVIOUS_WAVE,
    _c(
        "gap_change",
        "number",
        "Change of the gap since the previous wave: this difference − previous difference.",
    ),
    _c(
        "gap_widening",
        "number",
        "|this difference| − |previous difference|: positive when the two sides drifted apart.",
    ),
    _c(
        "gap_change_p",
        "number",
        """Two-sided p-value of the change of the gap: Welch–Satterthwaite t on the four group
        means (two sides × two waves).""",
    ),
    _c(
        "gap_change_p_adjusted",
        "number",
        "gap_change_p adjusted by Benjamini–Hochberg over the wave's gaps.",
    ),
    _c("widened", "boolean", "True when gap_widening > 0 and gap_change_p_adjusted < 0.05."),
    _c(
        "gap_alert",
        "boolean",
        """Perception-gap alert (DESIGN §4.12): the gap widened significantly since the previous
        wave, or its absolute size trends wider (Mann–Kendall p < 0.05, 5+ waves).""",
    ),
    _c("gap_alert_summary", "text", "One sentence on the gap alert."),
    _c("gap_alert_evidence", "text", "The evidence for the gap alert, one sentence per line."),
    COMPARABILITY,
    REASON,
    SUPPRESSED_COL,
)

DRIVERS = (
    WAVE,
    SIDE,
    AREA,
    AREA_NAME,
    _c(
        "outcome",
        "text",
        """What the dimension is correlated with: index = the health index computed without the
        outcome dimension(s); otherwise the key of an outcome dimension (marked outcome: true in
        the instrument, e.g. commitment to continue).""",
    ),
    _c("dimension", "text", "The dimension whose scores are correlated with the outcome."),
    DIMENSION_TITLE,
    _c("n", "integer", "Responses with both the dimension score and the outcome."),
    _c(
        "r",
        "number",
        "Pearson correlation of the dimension score with the outcome; only for n ≥ 25 (DESIGN §4.13).",
    ),
    _c("ci_low", "number", "Lower 95% limit of r: tanh(artanh r − 1.96/√(n − 3)) (Fisher 1921)."),
    _c("ci_high", "number", "Upper 95% limit of r: tanh(artanh r + 1.96/√(n − 3))."),
    _c("p", "number", "Two-sided p-value of r = 0 (t-test with n − 2 df)."),
    REASON,
    SUPPRESSED_COL,
)

TRENDS = (
    _c("relationship", "text", "The relationship's name."),
    SIDE,
    AREA,
    AREA_NAME,
    DIMENSION,
    DIMENSION_TITLE,
    _c(
        "series_start",
        "text",
        "First wave of the comparable series (later than the first wave if the instrument changed the dimension).",
    ),
    _c("first_wave", "text", "First wave with a shown value (n ≥ k) in the series."),
    _c("latest_wave", "text", "The latest closed wave: the trend is as of this wave."),
    _c("n_waves", "integer", "Waves with a value in the series (cells below k are gaps)."),
    _c("latest_mean", "number", "Mean in the latest wave (1–K)."),
    _c("latest_score100", "number", "Mean in the latest wave on the 0–100 scale."),
    _c("n_latest", "integer", "Responses with a score in the latest wave."),
    BAND,
    _c(
        "slope",
        "number",
        """Theil–Sen slope per wave (1–K scale): median of the pairwise slopes of the wave means
        (Theil 1950; Sen 1968); from 3 waves.""",
    ),
    _c(
        "slope_ci_low",
        "number",
        "Lower limit of Sen's 95% interval of the slope (as scipy.stats.theilslopes).",
    ),
    _c("slope_ci_high", "number", "Upper limit of Sen's 95% interval of the slope."),
    _c("slope_points", "number", "The slope on the 0–100 scale, points per wave."),
    _c(
        "mk_s",
        "number",
        "Mann–Kendall S = Σ_{i<j} sign(y_j − y_i) over the wave means; from 5 waves.",
    ),
    _c("mk_var_s", "number", "Tie-corrected variance of S: [n(n−1)(2n+5) − Σ t(t−1)(2t+5)] / 18."),
    _c("mk_z", "number", "z = (S − sign(S)) / √Var(S) (continuity correction)."),
    _c("mk_p", "number", "Two-sided normal p-value of z (as pymannkendall.original_test)."),
    _c("mk_tau", "number", "Kendall's tau = S / (n(n − 1)/2)."),
    _c(
        "mk_trend",
        "text",
        "increasing / decreasing (p < 0.05), no trend, or not tested (fewer than 5 waves).",
    ),
    _c(
        "ewma",
        "number",
        """EWMA of the wave means at the latest wave, z_t = 0.3 y_t + 0.7 z_{t−1}, z_0 = the
        baseline mean (Lucas & Saccucci 1990); baseline = the first 4 shown waves.""",
    ),
    _c(
        "ewma_lower",
        "number",
        "Lower control limit at the latest wave: μ₀ − 3σ√(λ/(2−λ)·(1 − (1−λ)^{2t})).",
    ),
    _c("ewma_upper", "number", "Upper control limit at the latest wave (as ewma_lower, with +)."),
    _c("ewma_signal", "text", "low / high when the EWMA is outside its limits at the latest wave."),
    _c(
        "cusum_low",
        "number",
        "Lower tabular CUSUM at the latest wave: C_t = max(0, C_{t−1} + (μ₀ − σ/2) − y_t) (Page 1954).",
    ),
    _c(
        "cusum_high",
        "number",
        "Upper tabular CUSUM at the latest wave: C_t = max(0, C_{t−1} + y_t − (μ₀ + σ/2)).",
    ),
    _c("cusum_h", "number", "CUSUM decision interval h = 4σ (σ the baseline waves' sd)."),
    _c("cusum_signal", "text", "low / high / both when a CUSUM exceeds h at the latest wave."),
    PREVIOUS_WAVE,
    _c("latest_change", "number", "Change of the mean from the previous wave to the latest (1–K)."),
    _c("latest_change_points", "number", "The latest change on the 0–100 scale."),
    _c("latest_change_p", "number", "Welch's t-test p-value of the latest change."),
    _c(
        "latest_change_p_adjusted",
        "number",
        "latest_change_p adjusted by Benjamini–Hochberg over the latest wave's cells and dimensions.",
    ),
    STATUS,
    STATUS_SUMMARY,
    STATUS_EVIDENCE,
    _c(
        "gap_alert",
        "boolean",
        "Rows with side all: the perception-gap alert of the area and dimension.",
    ),
    _c("gap_alert_summary", "text", "Rows with side all: one sentence on the gap alert."),
    _c(
        "gap_alert_evidence",
        "text",
        "Rows with side all: the gap alert's evidence, one sentence per line.",
    ),
    COMPARABILITY,
    _c("reason", "text", "Why a trend method gave no number (e.g. needs at least 5 waves)."),
    SUPPRESSED_COL,
)

_TABLES: dict[str, tuple[CodebookColumn, ...]] = {
    "scores": SCORES,
    "items": ITEMS,
    "reliability": RELIABILITY,
    "gaps": GAPS,
    "drivers": DRIVERS,
    "trends": TRENDS,
}

TABLE_DESCRIPTIONS: dict[str, str] = {
    "scores": "One row per wave × side × service area × dimension, the health index included.",
    "items": "One row per wave × side × service area × item.",
    "reliability": "Per wave × side × dimension: alpha, then one row per item with its diagnostics.",
    "gaps": "Client vs supplier per wave × service area × dimension.",
    "drivers": "Correlation of each dimension with the outcomes, per wave × side × service area.",
    "trends": "Per side × service area × dimension across the closed waves, as of the latest.",
}


def tables() -> tuple[str, ...]:
    """The results tables the codebook describes."""
    return tuple(_TABLES)


def columns(table: str) -> tuple[CodebookColumn, ...]:
    """Every column of a results table, in table order (``suppressed`` last).

    Raises KeyError for an unknown table.
    """
    return _TABLES[table]
