"""Timing figures from a load run's samples: percentiles, throughput, a table per request kind."""

from __future__ import annotations

from typing import Any

from benchmarks._browser import Sample


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-len(sorted_values) * p // 100))
    return sorted_values[int(rank) - 1]


def summarise(samples: list[Sample], seconds: float) -> dict[str, Any]:
    """Request figures over every answered request: throughput, p50/p95/p99 latency (ms).

    Requests that got no answer at all (only while faults are injected) are counted
    in ``unanswered`` and left out of the latencies."""
    latencies = sorted(s.seconds for s in samples if s.status)
    return {
        "requests": len(latencies),
        "unanswered": sum(1 for s in samples if not s.status),
        "failed_requests": sum(1 for s in samples if s.status == 0 or s.status >= 500),
        "requests_per_s": round(len(latencies) / seconds, 1) if seconds else 0.0,
        "p50_ms": round(percentile(latencies, 50) * 1000, 1),
        "p95_ms": round(percentile(latencies, 95) * 1000, 1),
        "p99_ms": round(percentile(latencies, 99) * 1000, 1),
        "max_ms": round(latencies[-1] * 1000, 1) if latencies else float("nan"),
    }


def summarise_seconds(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {f"p{p}_ms": round(percentile(ordered, p) * 1000, 1) for p in (50, 95, 99)}


def by_kind(samples: list[Sample]) -> list[tuple[str, int, float, float, float]]:
    groups: dict[str, list[float]] = {}
    for s in samples:
        if s.status:
            groups.setdefault(s.kind, []).append(s.seconds)
    rows = []
    for kind, values in groups.items():
        values.sort()
        rows.append(
            (
                kind,
                len(values),
                percentile(values, 50) * 1000,
                percentile(values, 95) * 1000,
                percentile(values, 99) * 1000,
            )
        )
    return sorted(rows, key=lambda row: -row[1])


def kind_table(samples: list[Sample]) -> str:
    lines = [f"  {'request':<32}{'count':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"]
    for kind, count, p50, p95, p99 in by_kind(samples):
        lines.append(f"  {kind:<32}{count:>7}{p50:>9.1f}{p95:>9.1f}{p99:>9.1f}")
    return "\n".join(lines)
