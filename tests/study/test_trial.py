"""TrialRun: every n advances by 1/R of its budget per report; a saved state continues exactly."""

from __future__ import annotations

import numpy as np
import pytest

from contract.write import TrialRecord, trial_rows
from study.space import axis_values
from study.trial import TrialRun, summary
from trainable import TrainingDiverged

POINT = {
    "encoding": "onehot",
    "baseline": "rloo",
    "reward_scale": "range",
    "lr": 3e-3,
    "entropy_coef": 0.01,
    "batch_size": 64,
    "hidden": 32,
    "group_size": 4,
}


def make(reward="abs", seeds=(0, 1), tasks=("10", "30"), budget=None, **point):
    return TrialRun(
        values=axis_values({**POINT, **point}),
        tasks=tasks,
        seeds=seeds,
        sample_budget=budget or {"10": 2_000, "30": 5_000},
        reports=4,
        reward=reward,
        device="cpu",
    )


def test_each_report_advances_every_n_by_its_share_of_the_budget():
    run = make()
    run.step()
    samples = {(r["n"], r["report"]): r["samples"] for r in run.rows}
    assert samples == {(10, 0): 512, (30, 0): 1280}  # ceil(budget/4) rounded up to batches
    while not run.done:
        run.step()
    last = {r["n"]: r["samples"] for r in run.rows if r["report"] == 3}
    assert last == {10: 2_048, 30: 5_056} and len(run.rows) == 4 * 2 * 2


def test_a_checkpoint_folder_continues_exactly_like_an_uninterrupted_run(tmp_path):
    straight = make()
    for _ in range(4):
        straight.step()
    first = make()
    first.step()
    first.step()
    resumed = make()
    first.save(tmp_path)
    resumed.restore(tmp_path)
    resumed.step()
    resumed.step()
    strip = [{k: v for k, v in r.items() if k not in ("wall_s", "samples_per_s")} for r in straight.rows]
    assert [
        {k: v for k, v in r.items() if k not in ("wall_s", "samples_per_s")} for r in resumed.rows
    ] == strip


def test_a_trial_row_takes_samples_to_95_and_99_from_the_trainer():
    """The trial rows' samples_to_95/99 are the trainer's own (carried by the curve rows), per
    task and seed: on n=10 this run passes 0.99 at its third report of four, n=30 never."""
    budget = {"10": 6_000, "30": 1_000}
    point = dict(baseline="grpo", group_size=8, entropy_coef=0.5, lr=0.03)
    run = make(budget=budget, **point)
    while not run.done:
        run.step()
    record = TrialRecord(
        study="s", trial_id="t", phase="search", status="finished", error=None,
        values=axis_values({**POINT, **point}), reward="abs", tasks=("10", "30"), seeds=(0, 1),
        sample_budget=budget, curves=run.rows, device="cpu",
    )  # fmt: skip
    rows = trial_rows(record, provenance={}, objective=None)
    for task, trainer in run.trainers.items():
        for name, first in trainer.reached.items():
            got = [r[name] for r in rows if r["task"] == task]
            assert got == [None if np.isnan(v) else int(v) for v in first], (task, name)
    ten = [r for r in rows if r["task"] == "10"]
    assert all(r["samples_to_99"] is not None and r["samples_to_99"] < r["samples"] for r in ten)


def test_a_preset_without_entropy_means_zero_and_groups_only_where_used():
    assert axis_values({k: v for k, v in POINT.items() if k != "entropy_coef"})["entropy_coef"] == 0.0
    assert axis_values({**POINT, "baseline": "ema"})["group_size"] == 1
    assert make(baseline="ema").trainers["10"].config.baseline == "ema"


def test_summary_reports_per_n_means_and_per_seed_values():
    run = make()
    run.step()
    s = summary(run.rows, 0)
    assert s["exact_match_n10"] == pytest.approx((s["exact_match_n10_s0"] + s["exact_match_n10_s1"]) / 2)
    assert s["samples_n30"] == 1280 and s["auc_n30_s1"] == s["exact_match_n30_s1"]


def test_a_nan_reward_raises_training_diverged():
    run = make(reward="tests.study.nan_reward:fn", seeds=(0, 1, 2), batch_size=512)
    with pytest.raises(TrainingDiverged, match="NaN"):
        run.step()


BLOBS = "tests.synthetic_contexts:blobs"


def test_a_trial_trains_every_task_and_scores_a_context_set_on_held_out_contexts():
    run = make(tasks=("10", BLOBS), budget={"10": 2_000, BLOBS: 4_000}, batch_size=128)
    while not run.done:
        run.step()
    last = [r for r in run.rows if r["report"] == 3]
    assert {(r["task"], r["n"]) for r in last} == {("10", 10), (BLOBS, 4)}
    assert all(r["heldout_exact_match"] is None for r in last if r["task"] == "10")
    held = [r["heldout_exact_match"] for r in last if r["task"] == BLOBS]
    s = summary(run.rows, 3)
    key = "tests_synthetic_contexts_blobs"
    assert s[f"exact_match_{key}"] == pytest.approx(sum(held) / 2)
    assert s[f"exact_match_{key}_s0"] == held[0] and "exact_match_n10" in s
