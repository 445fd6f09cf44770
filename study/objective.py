"""The study's objective, from curve rows (one per report, n and seed); no torch, no Ray.

A config must reach a high exact match and hold it. After k reports a run (n, seed) scores

    AUC_WEIGHT * auc + (1 - AUC_WEIGHT) * hold

where `auc` is its mean exact match over the k reports (learning early counts) and `hold` its
mean over the last third of them of exact_match * max(0, 1 - STUCK_PENALTY * stuck / n): each
input stuck on a wrong action (probability >= 0.9 on it, so REINFORCE almost never samples its
way out) takes STUCK_PENALTY / n off the score's share, beside the 1 / n it costs in exact match.
Multiplying keeps the order right at the bottom too: a policy that learns with inputs stuck
still scores above one that learns nothing. The objective is the mean over n of the seeds' mean
score. A config that reaches 0.98 fast with 2 of 100 inputs stuck scores below one that reaches
0.99 in the last third of the budget with none (tests/study/test_objective.py).
"""

from __future__ import annotations

import math
from statistics import fmean

from contract.write import auc_by_run

AUC_WEIGHT = 0.2
STUCK_PENALTY = 5.0
HOLD_SHARE = 1 / 3  # the final window: the last third of the reports so far
OBJECTIVE_NAME = (
    f"{AUC_WEIGHT:g} x area under the exact-match curve + {1 - AUC_WEIGHT:g} x"
    " exact match over the last third of the reports, times 1 -"
    f" {STUCK_PENALTY:g} x the share of inputs stuck"
)


def run_scores(rows: list[dict]) -> dict[tuple[int, int], float]:
    """(n, seed) -> that run's score over its reports so far."""
    runs: dict[tuple[int, int], list[dict]] = {}
    for row in rows:
        runs.setdefault((row["n"], row["seed"]), []).append(row)
    aucs = auc_by_run(rows)
    scores = {}
    for (n, seed), run in runs.items():
        window = run[-max(1, math.ceil(len(run) * HOLD_SHARE)) :]
        hold = fmean(r["exact_match"] * max(0.0, 1 - STUCK_PENALTY * r["stuck"] / n) for r in window)
        scores[(n, seed)] = AUC_WEIGHT * aucs[(n, seed)] + (1 - AUC_WEIGHT) * hold
    return scores


def objective(rows: list[dict]) -> float:
    """Mean over n of the seeds' mean score (0 with no rows)."""
    by_n: dict[int, list[float]] = {}
    for (n, _), score in run_scores(rows).items():
        by_n.setdefault(n, []).append(score)
    return fmean(fmean(v) for v in by_n.values()) if by_n else 0.0
