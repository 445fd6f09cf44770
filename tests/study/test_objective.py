"""The objective rewards reaching a high exact match and holding it, without stuck inputs."""

import pytest

from study.objective import objective, run_scores

N = 100


def curve(exact: list[float], stuck: list[int], n: int = N, seed: int = 0) -> list[dict]:
    return [
        {"n": n, "seed": seed, "report": r, "exact_match": e, "stuck": s}
        for r, (e, s) in enumerate(zip(exact, stuck))
    ]


# The published config of the first study, in miniature: 0.95 fast, then 2 inputs stuck for good.
FAST_STALLING = curve(
    [0.6, 0.9, 0.95, 0.97, 0.98, 0.98, 0.98, 0.98, 0.98, 0.98], [0, 1, 2, 2, 2, 2, 2, 2, 2, 2]
)
# The trainer's defaults: slower, but every input found by the last third of the budget.
SLOW_HOLDING = curve([0.1, 0.2, 0.35, 0.5, 0.65, 0.8, 0.9, 0.99, 1.0, 1.0], [0] * 10)
LEARNS_NOTHING = curve([0.01] * 10, [0] * 10)
LEARNS_WITH_STUCK = curve(
    [0.1, 0.3, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5], [0, 10, 30, 30, 30, 30, 30, 30, 30, 30]
)


def test_a_config_that_stalls_with_stuck_inputs_ranks_below_one_that_reaches_one():
    assert objective(FAST_STALLING) < objective(SLOW_HOLDING)


def test_without_stuck_inputs_faster_learning_scores_higher():
    late = curve([0.0] * 7 + [1.0] * 3, [0] * 10)
    early = curve([0.0] * 2 + [1.0] * 8, [0] * 10)
    assert objective(late) < objective(early) == pytest.approx(0.2 * 0.8 + 0.8 * 1.0)


def test_learning_with_stuck_inputs_still_beats_learning_nothing():
    assert objective(LEARNS_NOTHING) < objective(LEARNS_WITH_STUCK) < objective(FAST_STALLING)


def test_the_objective_averages_seeds_within_n_then_n():
    rows = (
        curve([1.0] * 3, [0] * 3, n=10, seed=0)
        + curve([0.0] * 3, [0] * 3, n=10, seed=1)
        + curve([1.0] * 3, [0] * 3, n=100)
    )
    assert run_scores(rows)[("10", 1)] == 0.0
    assert objective(rows) == pytest.approx((0.5 + 1.0) / 2)
    assert objective([]) == 0.0


def test_a_context_set_is_scored_on_held_out_exact_match_without_a_stuck_term():
    held = [
        {
            "task": "digits",
            "n": 10,
            "seed": 0,
            "report": r,
            "exact_match": 1.0,
            "stuck": 3,
            "heldout_exact_match": h,
        }
        for r, h in enumerate([0.5, 0.9, 0.9])
    ]
    assert objective(held) == pytest.approx(0.2 * (0.5 + 0.9 + 0.9) / 3 + 0.8 * 0.9)
    assert objective(held + curve([1.0] * 3, [0] * 3)) == pytest.approx((objective(held) + 1.0) / 2)


def timed(exact: list[float], stuck: list[int], every: int = 1000) -> list[dict]:
    """A curve with samples (what the speed objective reads)."""
    return [dict(row, samples=every * (row["report"] + 1)) for row in curve(exact, stuck)]


def test_the_speed_objective_ranks_early_and_holding_over_late_over_lost():
    early = timed([0.5, 0.99, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [0] * 10)
    late = timed([0.1, 0.2, 0.4, 0.6, 0.8, 0.9, 0.95, 0.98, 0.99, 1.0], [0] * 10)
    lost = timed([0.5, 0.99, 1.0, 1.0, 0.99, 0.98, 0.98, 0.98, 0.98, 0.98], [0, 0, 0, 0, 0, 2, 2, 2, 2, 2])
    never = timed([0.5, 0.8, 0.9, 0.95, 0.97, 0.98, 0.98, 0.98, 0.98, 0.98], [0] * 10)
    assert objective(early, "speed") == pytest.approx(0.5 * (1 - 2000 / 10000) + 0.5 * 1.0)
    hold = (0.95 + 0.98 + 0.99 + 1.0) / 4  # the last third of 10 reports: 4
    assert objective(late, "speed") == pytest.approx(0.5 * (1 - 9000 / 10000) + 0.5 * hold)
    assert objective(never, "speed") < objective(late, "speed") < objective(early, "speed")
    # reaching 0.99 early and then losing inputs to stuck ones scores below never reaching it
    assert objective(lost, "speed") < objective(never, "speed")


def test_reaching_0_99_with_an_input_stuck_is_not_reaching_it():
    stuck = timed([0.99] * 10, [1] * 10, every=1)
    clean = timed([0.99] * 10, [0] * 10, every=1)
    assert objective(stuck, "speed") < objective(clean, "speed") == pytest.approx(0.5 * 0.9 + 0.5 * 0.99)
