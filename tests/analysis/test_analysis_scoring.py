"""The winner rule: a config wins at n only when its interval's lower bound reaches the threshold."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.scoring import best_config, competing_runs, ranked, score_configs, trial_counts
from tests.analysis.fake_study import FORUM, NS, SEEDS


def test_planted_winners_are_exactly_the_two_planted_configs(planted_summary):
    winners = planted_summary["winners"]
    assert set(winners) == {"10", "100", "both"}
    for key, found in winners.items():
        assert {w["trial_id"] for w in found} == {"planted_a", "planted_b"}, key


def test_decoy_is_excluded_by_its_interval_not_its_point_estimate(planted_study, planted_summary):
    from analysis.load import load_study

    trials = load_study(planted_study).trials
    scores = score_configs(competing_runs(trials, phase="search"), tasks=[str(n) for n in NS], threshold=0.95)
    decoy = scores[scores["trial_id"] == "decoy"].set_index("key")
    assert (decoy.loc[["10", "100"], "iqm"] == 1.0).all()  # IQM alone would call it perfect
    assert (decoy["ci_low"] < 0.95).all() and not decoy["winner"].any()
    assert decoy.at["10", "frac_seeds_above"] == pytest.approx(0.8)


def _runs(per_trial: dict[str, dict[int, list[float]]], stuck: dict[str, int] | None = None) -> pd.DataFrame:
    stuck = stuck or {}
    return pd.DataFrame(
        [
            {
                "trial_id": t,
                "task": str(n),
                "n": n,
                "seed": s,
                "exact_match": x,
                "heldout_exact_match": None,
                "auc_exact_match": x / 2,
                "stuck": stuck.get(t, 0),
            }
            for t, scores in per_trial.items()
            for n, values in scores.items()
            for s, x in zip(SEEDS, values)
        ]
    )


def test_a_winner_at_one_n_only_is_not_a_winner_at_both():
    runs = _runs({"only10": {10: [1.0] * 5, 100: [0.5] * 5}, "all": {10: [1.0] * 5, 100: [0.96] * 5}})
    scores = score_configs(runs, tasks=["10", "100"], threshold=0.95).set_index(["trial_id", "key"])
    assert scores.at[("only10", "10"), "winner"]
    assert not scores.at[("only10", "100"), "winner"]
    assert not scores.at[("only10", "both"), "winner"]
    assert scores.at[("all", "both"), "winner"]
    assert scores.at[("all", "100"), "ci_low"] == pytest.approx(0.96)


def test_a_config_missing_an_n_gets_no_joint_score():
    runs = _runs({"half": {10: [1.0] * 5}})
    scores = score_configs(runs, tasks=["10", "100"], threshold=0.95)
    assert list(scores["key"]) == ["10"]


def test_threshold_is_inclusive_despite_float_rounding():
    runs = _runs({"edge": {10: [0.95] * 5, 100: [0.95] * 5}})
    scores = score_configs(runs, tasks=["10", "100"], threshold=0.95)
    assert scores["winner"].all()
    assert (scores["frac_seeds_above"] == 1.0).all()


def test_only_finished_and_stopped_search_rows_compete(planted_study):
    from analysis.load import load_study

    trials = load_study(planted_study).trials
    runs = competing_runs(trials, phase="search")
    assert set(runs["trial_id"]) == {
        "planted_a",
        "planted_b",
        "decoy",
        "loser_1",
        "loser_2",
        "loser_3",
    }
    assert trial_counts(trials, phase="search") == {"finished": 5, "stopped_early": 1, "failed": 1}


def test_best_config_leaves_out_group_size_where_the_baseline_uses_no_groups():
    trials = pd.DataFrame(
        {"trial_id": ["a", "a"], "task": ["10", "100"], "n": [10, 100], "sample_budget": [200, 3000]}
    )
    best = {**FORUM, "trial_id": "a", "baseline": "ema", "group_size": 1}
    config = best_config(best, trials, tasks=["10", "100"])
    assert "group_size" not in config
    assert config["n"] == 100 and config["sample_budget"] == 3000


def test_best_config_of_a_context_study_names_its_contexts_and_holdout():
    trials = pd.DataFrame({"trial_id": ["a"], "task": ["digits"], "n": [10], "sample_budget": [300_000]})
    best = {"trial_id": "a", "reward": "exact", "baseline": "grpo", "group_size": 8, "lr": 3e-3}
    best.update({c: "x" for c in ("encoding", "reward_scale", "lr_schedule", "entropy_schedule")})
    best.update(entropy_coef=0.4, batch_size=512, hidden=128)
    config = best_config(best, trials, tasks=["digits"], holdout=0.3)
    assert config["contexts"] == "digits" and config["holdout"] == 0.3 and "n" not in config
    assert config["sample_budget"] == 300_000


def test_configs_tied_on_exact_match_rank_by_how_early_they_learned():
    runs = _runs({"late": {10: [1.0] * 5}, "early": {10: [1.0] * 5}})
    runs.loc[runs["trial_id"] == "early", "auc_exact_match"] = 0.9
    runs.loc[runs["trial_id"] == "late", "auc_exact_match"] = 0.4
    scores = score_configs(runs, tasks=["10"], threshold=0.95)
    assert list(ranked(scores, key="10")["trial_id"]) == ["early", "late"]


def test_at_equal_exact_match_a_config_with_stuck_inputs_ranks_below_one_without():
    runs = _runs(
        {"fast_stuck": {10: [1.0] * 5, 100: [0.99] * 5}, "slow_clean": {10: [1.0] * 5, 100: [0.99] * 5}},
        stuck={"fast_stuck": 1},
    )
    runs.loc[runs["trial_id"] == "fast_stuck", "auc_exact_match"] = 0.9  # learned earlier
    scores = score_configs(runs, tasks=["10", "100"], threshold=0.95)
    assert ranked(scores, key="both")["trial_id"].tolist() == ["slow_clean", "fast_stuck"]
    assert scores.set_index(["trial_id", "key"]).at[("fast_stuck", "both"), "stuck"] == 1.0


def _configs(*trial_ids):
    from contract.schema import CONFIG_COLUMNS

    return pd.DataFrame({c: ["x"] * len(trial_ids) for c in CONFIG_COLUMNS}, index=list(trial_ids))


def test_the_best_config_is_the_one_that_held_at_the_long_horizon():
    from analysis.scoring import pick_best

    search = score_configs(
        _runs({"fast": {10: [1.0] * 5, 100: [1.0] * 5}, "steady": {10: [1.0] * 5, 100: [0.99] * 5}}),
        tasks=["10", "100"],
        threshold=0.95,
    )
    long = score_configs(
        _runs(
            {"fast": {10: [1.0] * 5, 100: [0.98] * 5}, "steady": {10: [1.0] * 5, 100: [1.0] * 5}},
            stuck={"fast": 2},
        ),
        tasks=["10", "100"],
        threshold=0.95,
    )
    configs = _configs("fast", "steady")
    assert pick_best(search, configs)["trial_id"] == "fast"  # the search alone prefers it
    best = pick_best(search, configs, long)
    assert best["trial_id"] == "steady" and "long horizon" in best["reason"]


def test_when_nothing_held_the_best_is_the_confirmed_one_with_fewest_stuck_inputs():
    from analysis.scoring import pick_best

    search = score_configs(
        _runs({"a": {10: [1.0] * 5, 100: [1.0] * 5}, "b": {10: [1.0] * 5, 100: [1.0] * 5}}),
        tasks=["10", "100"],
        threshold=0.95,
    )
    long = score_configs(
        _runs(
            {"a": {10: [1.0] * 5, 100: [0.98] * 5}, "b": {10: [1.0] * 5, 100: [0.97] * 5}},
            stuck={"a": 3, "b": 1},
        ),
        tasks=["10", "100"],
        threshold=0.95,
    )
    best = pick_best(search, _configs("a", "b"), long)
    assert best["trial_id"] == "b" and best["reason"].startswith("no confirmed config held")
