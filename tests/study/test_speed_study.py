"""`--objective speed`: its space reaches small batches, larger lrs and the speed knobs, which are
study axes and contract columns; a study from before them reads as the hold objective."""

from __future__ import annotations

import json

import optuna
import pytest

from contract import schema
from study import spec
from study.cli import build_parser
from study.space import DEFAULT_RANGES, SPEED_AXES, SPEED_RANGES, axis_values, describe, search_space
from study.study_cmd import spec_from_args

KNOBS = ("output_init", "adam_beta1", "adam_beta2", "update_epochs")


def test_the_speed_knobs_are_axes_and_contract_columns():
    assert set(KNOBS) == set(SPEED_AXES) == set(schema.SPEED_COLUMNS)
    for knob in KNOBS:
        assert knob in schema.AXIS_COLUMNS and knob in schema.CONFIG_COLUMNS
        assert knob in schema.TRIAL_SCHEMA.names and knob in schema.DIAGNOSE_SETTINGS
        assert knob in describe(spec.DEFAULT_AXES)
    assert not set(KNOBS) & schema.TRIAL_REQUIRED  # files from before them still load


def test_objective_speed_searches_small_batches_larger_lrs_and_the_knobs():
    built = spec_from_args(build_parser().parse_args(["study", "--objective", "speed"]))
    assert built.objective == "speed" and built.ranges == SPEED_RANGES
    assert min(built.ranges["batch_size"]) == 8 and built.ranges["lr"][1] > DEFAULT_RANGES["lr"][1]
    assert spec.StudySpec.from_json(json.loads(json.dumps(built.to_json()))) == built
    trial = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0)).ask()
    held = search_space(trial, **built.axes, ranges=built.ranges)
    assert held == {} and set(KNOBS) <= set(trial.params)


def test_the_hold_study_holds_the_knobs_at_the_trainers_defaults_unless_listed():
    built = spec_from_args(build_parser().parse_args(["study", "--update-epochs", "1", "4"]))
    assert built.objective == "hold" and built.ranges["update_epochs"] == (1, 4)
    trial = optuna.create_study().ask()
    held = search_space(trial, **built.axes, ranges=built.ranges)
    assert held == {"output_init": 1.0, "adam_beta1": 0.9, "adam_beta2": 0.999}
    assert "update_epochs" in trial.params and not set(held) & set(trial.params)
    assert axis_values({**trial.params, **held})["adam_beta2"] == 0.999


def test_a_study_json_from_before_the_speed_objective_reads_as_hold_with_the_knobs_held():
    saved = spec.StudySpec(
        ns=(10,), seeds=(0,), sample_budget={"10": 1000}, reports=2, trials=1, reward="abs",
        search_seed=0, max_concurrent=1,
    ).to_json()  # fmt: skip
    del saved["objective"]
    saved["ranges"] = {k: v for k, v in saved["ranges"].items() if k not in KNOBS}
    old = spec.StudySpec.from_json(saved)
    assert old.objective == "hold" and all(old.ranges[k] == (SPEED_AXES[k],) for k in KNOBS)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--update-epochs", "0"], "--update-epochs '0' is not allowed; expected integers >= 1"),
        (["--adam-beta2s", "1"], "--adam-beta2s '1' is not allowed; expected numbers in [0, 1)"),
        (["--output-inits", "-1"], "--output-inits '-1' is not allowed; expected numbers >= 0"),
        (["--output-inits", "0", "0"], "--output-inits '0 0' is not allowed; expected distinct values"),
    ],
)
def test_bad_speed_knob_values_name_the_option_and_what_is_allowed(argv, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace(")", r"\)")):
        spec_from_args(build_parser().parse_args(["study", *argv]))
