"""A schedule of lr and entropy bonus over samples (a PBT trial's) trains via `banditune train`,
and a PBT exploit continues another run's checkpoint with its own lr and entropy bonus."""

from __future__ import annotations

import json

import pytest

from cli.main import main
from study.space import axis_values
from study.trial import TrialRun
from trainable.piecewise import parse_schedule

CONFIG = {
    "n": 10,
    "baseline": "batch_mean",
    "reward_scale": "standardize",
    "lr": 0.02,
    "lr_schedule": "constant",
    "entropy_coef": 0.3,
    "entropy_schedule": "constant",
    "batch_size": 256,
    "sample_budget": 16384,
}


def train_json(tmp_path, capsys, config: dict) -> dict:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    assert main(["train", "--config", str(path), "--num-seeds", "3", "--json"]) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_a_schedule_config_switches_its_rates_where_it_says(tmp_path, capsys):
    plain = train_json(tmp_path, capsys, CONFIG)
    same = train_json(
        tmp_path, capsys, {**CONFIG, "schedule": [{"samples": 0, "lr": 0.02, "entropy_coef": 0.3}]}
    )
    assert same["p_correct"] == plain["p_correct"]  # one segment of the config's own values: the same run
    # learn for half the budget, then an entropy bonus so large that the policy flattens again
    flatten = [
        {"samples": 0, "lr": 0.02, "entropy_coef": 0.3},
        {"samples": 8192, "lr": 0.02, "entropy_coef": 50.0},
    ]
    switched = train_json(tmp_path, capsys, {**CONFIG, "schedule": flatten})
    assert min(plain["p_correct"]) > 0.8 and max(switched["p_correct"]) < 0.5
    assert switched["schedule"] == flatten


@pytest.mark.parametrize(
    "schedule",
    [
        [],
        [{"samples": 10, "lr": 0.1, "entropy_coef": 0}],
        [{"samples": 0, "lr": -1, "entropy_coef": 0}],
        [{"samples": 0, "lr": 0.1, "entropy_coef": 0}, {"samples": 0, "lr": 0.1, "entropy_coef": 1}],
        "fast",
    ],
)
def test_a_bad_schedule_exits_2_with_one_line(tmp_path, capsys, schedule):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({**CONFIG, "schedule": schedule}))
    assert main(["train", "--config", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"banditune train: error: --config {str(path)!r}: schedule=")
    with pytest.raises(ValueError, match="first at samples 0"):
        parse_schedule(schedule)


def test_a_restored_run_continues_with_its_own_lr_and_entropy_bonus(tmp_path):
    def run(lr, bonus):
        values = axis_values(
            {**CONFIG, "encoding": "onehot", "hidden": 32, "group_size": 1, "lr": lr, "entropy_coef": bonus}
        )
        return TrialRun(
            values=values,
            tasks=("10",),
            seeds=(0,),
            sample_budget={"10": 4096},
            reports=4,
            reward="abs",
            device="cpu",
        )

    donor = run(0.02, 0.3)
    donor.step()
    donor.save(tmp_path)
    clone = run(0.005, 0.6)  # PBT: the donor's checkpoint, perturbed values
    clone.restore(tmp_path)
    assert clone.trainers["10"].optimizer.param_groups[0]["lr"] == pytest.approx(0.005)
    clone.step()
    assert [(r["lr"], r["entropy_coef"]) for r in clone.rows] == [(0.02, 0.3), (0.005, 0.6)]
