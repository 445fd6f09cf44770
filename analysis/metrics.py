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
