"""Aggregate scores over runs with interval estimates, after rliable (Agarwal et al. 2021).

Shapes: a "stratum" is a 1-D array of run scores (runs,), e.g. the seeds of one config at one n.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

BOOTSTRAP_REPS = 2000
BOOTSTRAP_SEED = 0


def iqm(scores: np.ndarray) -> np.ndarray:
    """Interquartile mean over the last axis: (..., runs) -> (...).

    The mean of the runs left after dropping floor(runs / 4) from each end, exactly as
    rliable's `aggregate_iqm` (`scipy.stats.trim_mean(x, 0.25)`). One or two runs: their mean.
    """
    ordered = np.sort(np.asarray(scores, dtype=float), axis=-1)
    runs = ordered.shape[-1]
    cut = int(0.25 * runs)
    return ordered[..., cut : runs - cut].mean(axis=-1)


def percentile_95(scores: np.ndarray) -> np.ndarray:
    """95th percentile over the last axis: (..., runs) -> (...)."""
    return np.percentile(np.asarray(scores, dtype=float), 95, axis=-1)


def stratified_bootstrap(
    strata: Sequence[np.ndarray],
    *,
    statistic: Callable[[np.ndarray], np.ndarray] = iqm,
    reps: int = BOOTSTRAP_REPS,
    seed: int = BOOTSTRAP_SEED,
) -> np.ndarray:
    """Bootstrap distribution of `statistic` over the pooled runs: -> (reps,).

    Each stratum (runs_i,) is resampled with replacement to its own size, independently of the
    others, and the resamples are pooled: (reps, sum runs_i) -> statistic -> (reps,).
    """
    rng = np.random.default_rng(seed)
    resamples = [np.asarray(s, dtype=float)[rng.integers(0, len(s), size=(reps, len(s)))] for s in strata]
    return statistic(np.concatenate(resamples, axis=-1))


def stratified_bootstrap_ci(
    strata: Sequence[np.ndarray],
    *,
    statistic: Callable[[np.ndarray], np.ndarray] = iqm,
    confidence: float = 0.95,
    reps: int = BOOTSTRAP_REPS,
    seed: int = BOOTSTRAP_SEED,
) -> tuple[float, float, float]:
    """Point estimate and percentile interval of `statistic` over pooled strata: -> (point, low, high).

    strata: non-empty 1-D arrays (runs_i,); the point estimate is the statistic of all runs pooled.
    """
    if not strata or any(len(s) == 0 for s in strata):
        raise ValueError("stratified_bootstrap_ci needs at least one run in every stratum")
    point = float(statistic(np.concatenate([np.asarray(s, dtype=float) for s in strata])))
    boot = stratified_bootstrap(strata, statistic=statistic, reps=reps, seed=seed)
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(boot, [tail, 100 - tail])
    return point, float(low), float(high)


def probability_of_improvement(x: np.ndarray, y: np.ndarray) -> float:
    """P(X > Y) as rliable's `probability_of_improvement`: the mean over tasks of the share of
    (run of X, run of Y) pairs where X's score is higher, ties counting one half.

    x: (runs_x, tasks), y: (runs_y, tasks); one task may be given as 1-D (runs,).
    """
    return float(_improvement(_runs_by_task(x)[None], _runs_by_task(y)[None])[0])


def probability_of_improvement_ci(
    x: np.ndarray,
    y: np.ndarray,
    *,
    confidence: float = 0.95,
    reps: int = BOOTSTRAP_REPS,
    seed: int = BOOTSTRAP_SEED,
) -> tuple[float, float, float]:
    """P(X > Y) and its percentile interval: -> (point, low, high). Each task's runs of X and of
    Y are resampled with replacement, independently (rliable's stratified bootstrap).

    x: (runs_x, tasks), y: (runs_y, tasks), or 1-D (runs,) for one task.
    """
    x, y = _runs_by_task(x), _runs_by_task(y)
    if x.shape[0] == 0 or y.shape[0] == 0 or x.shape[1] != y.shape[1]:
        raise ValueError(
            f"probability_of_improvement_ci needs runs on the same tasks; got {x.shape}, {y.shape}"
        )
    rng = np.random.default_rng(seed)
    xb = np.take_along_axis(x[None], rng.integers(0, x.shape[0], size=(reps, *x.shape)), axis=1)
    yb = np.take_along_axis(y[None], rng.integers(0, y.shape[0], size=(reps, *y.shape)), axis=1)
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(_improvement(xb, yb), [tail, 100 - tail])
    return probability_of_improvement(x, y), float(low), float(high)


def _runs_by_task(scores: np.ndarray) -> np.ndarray:
    scores = np.asarray(scores, dtype=float)
    return scores[:, None] if scores.ndim == 1 else scores


def _improvement(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(reps, runs_x, tasks) and (reps, runs_y, tasks) -> P(X > Y) per rep (reps,)."""
    diff = x[:, :, None, :] - y[:, None, :, :]  # (reps, runs_x, runs_y, tasks)
    wins = (diff > 0) + 0.5 * (diff == 0)
    return wins.mean(axis=(1, 2)).mean(axis=-1)
