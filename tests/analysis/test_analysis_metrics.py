"""IQM and the stratified-bootstrap interval on cases with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.metrics import (
    BOOTSTRAP_REPS,
    BOOTSTRAP_SEED,
    iqm,
    percentile_95,
    stratified_bootstrap,
    stratified_bootstrap_ci,
)


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ([5.0], 5.0),  # one run: itself
        ([1.0, 2.0, 3.0], 2.0),  # floor(3/4) = 0 cut: the mean
        ([4.0, 1.0, 3.0, 2.0], 2.5),  # cut one each end: mean(2, 3)
        ([1.0, 2.0, 3.0, 4.0, 100.0], 3.0),  # the outlier is cut
        ([7.0, 0.0, 6.0, 1.0, 5.0, 2.0, 4.0, 3.0], 3.5),  # mean(2, 3, 4, 5)
        ([1.0, 1.0, 1.0, 1.0, 0.1], 1.0),  # the decoy: its point estimate alone looks perfect
    ],
)
def test_iqm_of_known_arrays(scores, expected):
    assert iqm(np.array(scores)) == pytest.approx(expected)


def test_iqm_works_along_the_last_axis():
    scores = np.array([[4.0, 1.0, 3.0, 2.0], [10.0, 10.0, 10.0, 0.0]])
    np.testing.assert_allclose(iqm(scores), [2.5, 10.0])


def test_iqm_equals_scipy_trim_mean_as_rliable_uses_it():
    from scipy import stats  # scikit-learn's dependency, always installed

    rng = np.random.default_rng(1)
    for runs in range(1, 14):
        scores = rng.random(runs)
        assert iqm(scores) == pytest.approx(stats.trim_mean(scores, 0.25))


@pytest.mark.parametrize("value", [1.0, 0.5, 0.0])
def test_all_equal_seeds_give_a_zero_width_interval_at_that_value(value):
    assert stratified_bootstrap_ci([np.full(5, value)]) == (value, value, value)


def test_all_equal_non_dyadic_value_gives_zero_width_interval():
    point, low, high = stratified_bootstrap_ci([np.full(7, 0.7), np.full(3, 0.7)])
    assert point == pytest.approx(0.7) and low == pytest.approx(0.7) and high == pytest.approx(0.7)
    assert high - low < 1e-12


def test_resampling_stays_within_each_stratum():
    # Every resample keeps five 0s (stratum n=10) and five 1s (stratum n=100): IQM is always 0.5.
    # Pooled resampling would mix them and give a wide interval.
    assert stratified_bootstrap_ci([np.zeros(5), np.ones(5)]) == (0.5, 0.5, 0.5)


def test_one_bad_seed_puts_the_lower_bound_at_0_4_as_counted_by_hand():
    """[1, 1, 1, 1, 0.1]: a resample with c copies of 0.1 has IQM (the mean of its middle three)
    1.0 for c <= 1, 0.7 for c = 2, 0.4 for c = 3 and 0.1 for c >= 4. c is Binomial(5, 0.2):
    P(c >= 4) = 0.0067 < 0.025 < P(c >= 3) = 0.0579, so the 2.5th percentile is 0.4 and the
    97.5th is 1.0 (P(c <= 1) = 0.737). The generator (seed 0, 2000 x 5 indices) draws 12
    resamples with c >= 4 and 105 with c = 3, so the sorted IQMs at ranks 49-50 are 0.4."""
    point, low, high = stratified_bootstrap_ci([np.array([1.0, 1.0, 1.0, 1.0, 0.1])])
    assert point == 1.0 and high == 1.0
    assert low == pytest.approx(0.4, abs=1e-12)
    c = (np.random.default_rng(BOOTSTRAP_SEED).integers(0, 5, size=(BOOTSTRAP_REPS, 5)) == 4).sum(1)
    assert (c >= 4).sum() < 0.025 * BOOTSTRAP_REPS < (c >= 3).sum()  # the hand count holds here


def _iqm_by_hand(pooled: np.ndarray) -> np.ndarray:
    """IQM of each row of (reps, runs): sort, drop floor(runs / 4) at each end, average."""
    cut = pooled.shape[1] // 4
    return np.sort(pooled, axis=1)[:, cut : pooled.shape[1] - cut].mean(axis=1)


def test_interval_of_two_strata_equals_the_one_drawn_by_hand_from_the_same_generator():
    """Strata of 6 and 3 runs: the point is the IQM of the 9 pooled, mean(0.3, 0.4, 0.5, 0.7,
    0.8) = 0.54; the interval, drawn here with numpy from seed 0 (6 indices per rep for the first
    stratum, then 3 for the second), is 0.30 to 0.80."""
    runs = [np.array([0.2, 0.4, 0.5, 0.9, 1.0, 0.7]), np.array([0.1, 0.3, 0.8])]
    point, low, high = stratified_bootstrap_ci(runs)
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    pooled = np.concatenate([s[rng.integers(0, len(s), size=(BOOTSTRAP_REPS, len(s)))] for s in runs], axis=1)
    expected_low, expected_high = np.percentile(_iqm_by_hand(pooled), [2.5, 97.5])
    assert point == pytest.approx(0.54, abs=1e-12)
    assert (low, high) == pytest.approx((expected_low, expected_high), abs=1e-12)
    assert (low, high) == pytest.approx((0.3, 0.8), abs=1e-12)
    assert stratified_bootstrap_ci(runs) == (point, low, high)  # the fixed generator: reproducible


def test_a_custom_statistic_is_the_one_bootstrapped():
    """percentile_95 of each resample of 5 + 3 runs, by hand: sorted values v, 0.95 x 7 = 6.65,
    so v[6] + 0.65 (v[7] - v[6]); the IQM of the same resamples differs."""
    strata = [np.arange(5.0), np.arange(3.0)]
    boot = stratified_bootstrap(strata, statistic=percentile_95, reps=50)
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    pooled = np.sort(np.concatenate([s[rng.integers(0, len(s), size=(50, len(s)))] for s in strata], axis=1))
    expected = pooled[:, 6] + 0.65 * (pooled[:, 7] - pooled[:, 6])
    np.testing.assert_allclose(boot, expected, atol=1e-12)
    assert not np.allclose(boot, stratified_bootstrap(strata, reps=50))


def test_empty_stratum_is_an_error():
    with pytest.raises(ValueError, match="at least one run"):
        stratified_bootstrap_ci([np.ones(3), np.array([])])


def test_probability_of_improvement_against_hand_counts():
    from analysis.metrics import probability_of_improvement

    # one task: of the 3 x 2 pairs X wins (2, 1), (3, 1), (3, 2.5) and ties (1, 1): 3.5 / 6
    assert probability_of_improvement([1.0, 2.0, 3.0], [1.0, 2.5]) == pytest.approx(3.5 / 6)
    x = np.array([[1.0, 0.0], [2.0, 1.0]])  # (runs, tasks): task 0 X always wins, task 1 half the pairs
    y = np.array([[0.5, 0.5], [0.5, 1.5]])
    # task 0: 4 of 4 pairs won; task 1: (0 vs 0.5) lose, (0 vs 1.5) lose, (1 vs 0.5) win, (1 vs 1.5) lose
    assert probability_of_improvement(x, y) == pytest.approx((1.0 + 0.25) / 2)
    assert probability_of_improvement(y, x) == pytest.approx(1 - (1.0 + 0.25) / 2)


def test_probability_of_improvement_interval_brackets_the_point_and_is_degenerate_when_separated():
    from analysis.metrics import probability_of_improvement_ci

    point, low, high = probability_of_improvement_ci(np.arange(10.0) + 10, np.arange(10.0))
    assert (point, low, high) == (1.0, 1.0, 1.0)  # every X run beats every Y run, in any resample
    rng = np.random.default_rng(1)
    x, y = rng.normal(0.3, 1, size=(20, 2)), rng.normal(0, 1, size=(20, 2))
    point, low, high = probability_of_improvement_ci(x, y, reps=500)
    assert low < point < high and 0 < low and high < 1
    with pytest.raises(ValueError, match="same tasks"):
        probability_of_improvement_ci(np.zeros((3, 2)), np.zeros((3, 1)))
