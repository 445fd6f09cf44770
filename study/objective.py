"""The study's objective, from curve rows (one per report, n and seed); no torch, no Ray.

After k reports, a run's score is its mean exact match over those k reports (the normalised area
under its exact-match curve, so learning early counts); the objective is the mean over n of the
seeds' mean score.
"""

from __future__ import annotations

from statistics import fmean


def auc_by_run(rows: list[dict]) -> dict[tuple[int, int], float]:
    """(n, seed) -> mean exact match over that run's reports."""
    runs: dict[tuple[int, int], list[float]] = {}
    for row in rows:
        runs.setdefault((row["n"], row["seed"]), []).append(row["exact_match"])
    return {key: fmean(values) for key, values in runs.items()}


def objective(rows: list[dict]) -> float:
    """Mean over n of the seeds' mean AUC of exact match (0 with no rows)."""
    by_n: dict[int, list[float]] = {}
    for (n, _), auc in auc_by_run(rows).items():
        by_n.setdefault(n, []).append(auc)
    return fmean(fmean(v) for v in by_n.values()) if by_n else 0.0
