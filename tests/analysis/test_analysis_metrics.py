"""IQM and the stratified-bootstrap interval on cases with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.metrics import iqm, percentile_95, stratified_bootstrap, stratified_bootstrap_ci


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


def test_one_bad_seed_pulls_the_lower_bound_under_the_threshold():
    point, low, high = stratified_bootstrap_ci([np.array([1.0, 1.0, 1.0, 1.0, 0.1])])
    assert point == 1.0 and high == 1.0
    assert low < 0.95


def test_interval_brackets_the_point_and_is_reproducible():
    runs = [np.array([0.2, 0.4, 0.5, 0.9, 1.0, 0.7]), np.array([0.1, 0.3, 0.8])]
    first = stratified_bootstrap_ci(runs)
    assert first == stratified_bootstrap_ci(runs)
    point, low, high = first
    assert 0.1 <= low < point < high <= 1.0


def test_bootstrap_distribution_shape_and_custom_statistic():
    boot = stratified_bootstrap([np.arange(5.0), np.arange(3.0)], statistic=percentile_95, reps=50)
    assert boot.shape == (50,)
    assert boot.min() >= 0 and boot.max() <= 4


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
