"""`--objective speed`: its space reaches small batches, larger lrs and the speed knobs, which are
study axes and contract columns; a study from before them reads as the hold objective."""

from __future__ import annotations

import json

import optuna
import pytest

from cli.main import build_parser
from cli.study import spec_from_args
from contract import schema
from study import spec
from study.axes import BY_NAME, default_space
from study.space import axis_values, describe, search_space
from trainable import TrainConfig

# The speed knobs: the axes that files from before them read as the trainer's defaults, but policy.
KNOBS = tuple(c for c in schema.LATER_COLUMNS if c != "policy")


def test_the_speed_knobs_are_axes_and_contract_columns():
    assert {"action_encoding", "output_init", "adam_beta1", "adam_beta2", "adam_eps", "update_epochs"} <= set(
        KNOBS
    )
    assert set(KNOBS) <= set(BY_NAME)
    for knob in KNOBS:
        assert knob in schema.AXIS_COLUMNS and knob in schema.CONFIG_COLUMNS
        assert knob in schema.TRIAL_SCHEMA.names and knob in schema.DIAGNOSE_SETTINGS
        assert knob in describe(default_space())
    assert not set(KNOBS) & schema.TRIAL_REQUIRED  # files from before them still load


def test_objective_speed_searches_small_batches_larger_lrs_and_the_knobs():
    built = spec_from_args(build_parser().parse_args(["study", "--objective", "speed"]))
    assert built.objective == "speed" and built.space == default_space("speed")
    assert min(built.space["batch_size"]) == 8 and built.space["lr"][1] > default_space()["lr"][1]
    assert spec.StudySpec.from_json(json.loads(json.dumps(built.to_json()))) == built
    trial = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0)).ask()
    held = search_space(trial, space=built.space)
    assert held == {"policy": "mlp"} and set(KNOBS) <= set(trial.params)  # one network: held


def test_the_hold_study_holds_the_knobs_at_the_trainers_defaults_unless_listed():
    built = spec_from_args(build_parser().parse_args(["study", "--update-epochs", "1", "4"]))
    assert built.objective == "hold" and built.space["update_epochs"] == (1, 4)
    trial = optuna.create_study().ask()
    held = search_space(trial, space=built.space)
    knobs = {k: getattr(TrainConfig(), k) for k in KNOBS if k not in ("action_encoding", "update_epochs")}
    assert knobs["adam_eps"] == 1e-8
    assert held == {**knobs, "policy": "mlp"}
    assert "update_epochs" in trial.params and not set(held) & set(trial.params)
    assert axis_values({**trial.params, **held})["adam_beta2"] == 0.999


def test_a_study_json_from_before_the_speed_objective_reads_as_hold_with_the_knobs_held():
    saved = spec.StudySpec(
        ns=(10,), seeds=(0,), sample_budget={"10": 1000}, reports=2, trials=1, reward="abs",
        search_seed=0,
    ).to_json()  # fmt: skip
    del saved["objective"]
    saved["space"] = {k: v for k, v in saved["space"].items() if k not in KNOBS}
    old = spec.StudySpec.from_json(saved)
    assert old.objective == "hold" and all(old.space[k] == BY_NAME[k].default for k in KNOBS)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--update-epochs", "0"], "--update-epochs '0' is not allowed; expected integers >= 1"),
        (["--adam-beta2s", "1"], "--adam-beta2 '1' is not allowed; expected numbers in [0, 1)"),
        (["--output-inits", "-1"], "--output-init '-1' is not allowed; expected numbers >= 0"),
        (["--output-init", "0", "0"], "--output-init '0 0' is not allowed; expected distinct values"),
    ],
)
def test_bad_speed_knob_values_name_the_option_and_what_is_allowed(argv, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace(")", r"\)")):
        spec_from_args(build_parser().parse_args(["study", *argv]))
