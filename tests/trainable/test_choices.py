"""Every choice list is run in full: each check on every encoding, baseline and reward scale."""

import numpy as np
import pytest

from cli.train import config_help
from contract.errors import as_option
from contract.knobs import ACTION_ENCODINGS, BASELINES, ENCODINGS, REWARD_SCALES
from study.axes import BY_NAME
from trainable import TrainConfig, Trainer
from trainable.update import BASELINES as BASELINE_TABLE

SMALL = dict(n=10, seeds=(0, 1), sample_budget=2048, eval_every=2048, batch_size=256)
LISTS = {
    "encoding": ENCODINGS,
    "action_encoding": ACTION_ENCODINGS,
    "baseline": BASELINES,
    "reward_scale": REWARD_SCALES,
}
CASES = [(field, value) for field, values in LISTS.items() for value in values]


@pytest.mark.parametrize(("field", "value"), CASES, ids=[f"{f}={v}" for f, v in CASES])
def test_every_choice_trains_with_finite_metrics(field, value):
    m = Trainer(TrainConfig(**{**SMALL, field: value})).run(2048)
    for metric in ("exact_match", "p_correct", "entropy", "reward_mean"):
        assert np.isfinite(getattr(m, metric)).all(), metric
    assert (m.stuck >= 0).all() and (m.stuck <= 10).all()


@pytest.mark.parametrize(("field", "value"), CASES, ids=[f"{f}={v}" for f, v in CASES])
def test_every_choice_is_searched_and_listed_in_the_help(field, value):
    assert value in BY_NAME[field].knob.choices
    assert value in config_help(field)


@pytest.mark.parametrize("field", list(LISTS))
def test_an_unknown_choice_is_refused_naming_the_allowed_ones(field):
    with pytest.raises(ValueError, match=f"{as_option(field)} 'nope' is not allowed; expected one of"):
        TrainConfig(**{field: "nope"})


def test_the_baseline_list_is_the_dispatch_table():
    assert BASELINES == tuple(BASELINE_TABLE)
