"""The knob table (contract.knobs) is what TrainConfig, `banditune train`'s options, the contract's
columns and the study's axes are made of."""

from __future__ import annotations

import dataclasses
import re

import pyarrow as pa
import pytest

from cli.main import build_parser
from cli.train import CONFIG_OPTIONS, config_from_args, config_help
from contract import schema
from contract.knobs import AXIS, BY_NAME, KNOBS, RUN
from study.axes import AXES
from trainable import TrainConfig

ARROW = {int: pa.int64(), float: pa.float64(), str: pa.string()}
# A value each number knob refuses, and one string knob value it refuses.
REFUSED = {int: 0, float: -1.0, str: "nope"}


def test_every_trainconfig_field_is_a_knob_and_every_knob_but_seeds_an_option():
    assert [f.name for f in dataclasses.fields(TrainConfig)] == [k.name for k in KNOBS]
    assert set(CONFIG_OPTIONS) == set(BY_NAME) - {"seeds"}
    for knob in KNOBS:
        if knob.name != "seeds":
            help = config_help(knob.name)
            assert knob.help in help and "(default: " in help, knob.name


@pytest.mark.parametrize("knob", [k for k in KNOBS if k.check or k.choices], ids=lambda k: k.name)
def test_a_knobs_default_passes_its_check_and_a_bad_value_is_refused_naming_it(knob):
    config = TrainConfig(n=10)
    assert knob.error(getattr(config, knob.name)) is None
    bad = REFUSED[knob.type]
    with pytest.raises(
        ValueError, match=re.escape(f"{knob.option} {bad!r} is not allowed; expected {knob.allows}")
    ):
        TrainConfig(**{knob.name: bad})


def test_the_options_that_had_no_flag_reach_the_config():
    argv = ["train", "--gamma", "0.5", "--ema-decay", "0.8", "--value-coef", "0.25", "--minibatch-size", "64"]
    args = build_parser().parse_args([*argv, "--inputs", "cycle", "--baseline", "ema", "--batch-size", "128"])
    config, _ = config_from_args(args)
    assert (config.gamma, config.ema_decay, config.value_coef) == (0.5, 0.8, 0.25)
    assert (config.minibatch_size, config.inputs) == (64, "cycle")
    args = build_parser().parse_args(["train", "--gamma", "1"])
    with pytest.raises(ValueError, match=r"^--gamma 1.0 is not allowed; expected a number in \[0, 1\)"):
        config_from_args(args)


def test_the_contracts_columns_and_the_study_axes_come_from_the_table():
    axes = tuple(k.name for k in KNOBS if k.role == AXIS)
    assert schema.AXIS_COLUMNS == axes == tuple(a.name for a in AXES)
    settings = {k.name for k in KNOBS if k.role != RUN}
    assert set(schema.DIAGNOSE_SETTINGS) == settings and set(schema.DIAGNOSE_SCHEMA.names) >= settings
    for name in settings & set(schema.TRIAL_SCHEMA.names):
        assert schema.TRIAL_SCHEMA.field(name).type == ARROW[BY_NAME[name].type], name
    assert set(schema.CATEGORICAL) == {c for c in schema.CONFIG_COLUMNS if BY_NAME[c].type is str}
    assert not set(schema.OLDER_VALUES) & schema.TRIAL_REQUIRED  # files from before them still load
