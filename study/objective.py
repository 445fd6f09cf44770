"""The study's objective, from curve rows (one per report, n and seed); no torch, no Ray.

A config must reach a high exact match and hold it. After k reports a run (task, seed) scores

    AUC_WEIGHT * auc + (1 - AUC_WEIGHT) * hold

where `auc` is its mean exact match over the k reports (learning early counts) and `hold` its
mean over the last third of them of exact_match * max(0, 1 - STUCK_PENALTY * stuck / n): each
input stuck on a wrong action (probability >= 0.9 on it, so REINFORCE almost never samples its
way out) takes STUCK_PENALTY / n off the score's share, beside the 1 / n it costs in exact match.
Multiplying keeps the order right at the bottom too: a policy that learns with inputs stuck
still scores above one that learns nothing. On a context set both parts use held-out exact
match instead, with no stuck term (a context that is never trained on cannot be stuck in
REINFORCE's sense). The objective is the mean over tasks of the seeds' mean score. A config
that reaches 0.98 fast with 2 of 100 inputs stuck scores below one that reaches
0.99 in the last third of the budget with none (tests/study/test_objective.py).

The `speed` objective (`banditune study --objective speed`) rewards reaching 0.99 early and
staying there. A run scores

    REACH_WEIGHT * reach + (1 - REACH_WEIGHT) * hold

with `hold` as above and `reach` = 1 - (samples at the first report from which every report so
far is at >= REACH_LEVEL with no input stuck) / (samples so far), 0 when the latest report is
not. A config that reaches 0.99 by a fifth of the budget and holds it scores 0.9; one that gets
there at the end, 0.5 plus nothing; one that reached it and lost it (a stuck input) scores its
hold only, below both.
"""

from __future__ import annotations

import math
from statistics import fmean

from contract.schema import HELDOUT_METRIC
from contract.write import auc_by_run, task_of

AUC_WEIGHT = 0.2
STUCK_PENALTY = 5.0
HOLD_SHARE = 1 / 3  # the final window: the last third of the reports so far
OBJECTIVE_NAME = (
    f"{AUC_WEIGHT:g} x area under the exact-match curve + {1 - AUC_WEIGHT:g} x"
    " exact match over the last third of the reports, times 1 -"
    f" {STUCK_PENALTY:g} x the share of inputs stuck"
)
REACH_WEIGHT = 0.5
REACH_LEVEL = 0.99
OBJECTIVES = ("hold", "speed")
OBJECTIVE_NAMES = {
    "hold": OBJECTIVE_NAME,
    "speed": f"{REACH_WEIGHT:g} x (1 - the share of the samples so far before exact match reached"
    f" {REACH_LEVEL:g} with no input stuck and stayed there) + {1 - REACH_WEIGHT:g} x exact match over"
    f" the last third of the reports, times 1 - {STUCK_PENALTY:g} x the share of inputs stuck",
}


def run_scores(rows: list[dict], kind: str = "hold") -> dict[tuple[str, int], float]:
    """(task, seed) -> that run's score over its reports so far, by objective `kind`."""
    runs: dict[tuple[str, int], list[dict]] = {}
    for row in rows:
        runs.setdefault((task_of(row), row["seed"]), []).append(row)
    aucs = auc_by_run(rows)
    scores = {}
    for key, run in runs.items():
        window = run[-max(1, math.ceil(len(run) * HOLD_SHARE)) :]
        hold = fmean(_held(r) for r in window)
        if kind == "speed":
            scores[key] = REACH_WEIGHT * reach(run) + (1 - REACH_WEIGHT) * hold
        else:
            scores[key] = AUC_WEIGHT * aucs[key] + (1 - AUC_WEIGHT) * hold
    return scores


def reach(run: list[dict]) -> float:
    """1 - the share of the samples so far spent before the run settled at REACH_LEVEL (every
    report from then on at or above it, none stuck); 0 when the latest report is not."""
    settled = None
    for row in reversed(run):
        if not _at_level(row):
            break
        settled = row
    if settled is None:
        return 0.0
    return 1.0 - settled["samples"] / run[-1]["samples"]


def _at_level(row: dict) -> bool:
    if row.get(HELDOUT_METRIC) is not None:
        return row[HELDOUT_METRIC] >= REACH_LEVEL
    return row["exact_match"] >= REACH_LEVEL and row["stuck"] == 0


def _held(row: dict) -> float:
    if row.get(HELDOUT_METRIC) is not None:
        return row[HELDOUT_METRIC]
    return row["exact_match"] * max(0.0, 1 - STUCK_PENALTY * row["stuck"] / row["n"])


def objective(rows: list[dict], kind: str = "hold") -> float:
    """Mean over tasks of the seeds' mean score by objective `kind` (0 with no rows)."""
    by_task: dict[str, list[float]] = {}
    for (task, _), score in run_scores(rows, kind).items():
        by_task.setdefault(task, []).append(score)
    return fmean(fmean(v) for v in by_task.values()) if by_task else 0.0
