"""scripts/fast_rules.py: its space writes configs the trainer reads, and its score ranks runs."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import optuna
import pytest

from trainable import TrainConfig

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "fast_rules.py"


@pytest.fixture(scope="module")
def fast_rules():
    spec = importlib.util.spec_from_file_location("fast_rules", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_rule_passes_through_its_value_at_n100(fast_rules):
    values = {"n": 100, "lr": fast_rules.rule(0.01, -0.5)}
    assert math.isclose(TrainConfig.from_dict(values).lr, 0.01)
    assert math.isclose(TrainConfig.from_dict({**values, "n": 400}).lr, 0.005)


def test_trial_zero_is_the_config_it_replaced(fast_rules):
    values = fast_rules.suggest(optuna.trial.FixedTrial(fast_rules.PREVIOUS))
    at_100 = TrainConfig.from_dict({**values, "n": 100})
    assert (at_100.lr, at_100.entropy_coef, at_100.batch_size) == (pytest.approx(0.019), 0.17, 255)
    assert at_100.sample_budget == 80_000 and at_100.update_epochs == 4
    assert TrainConfig.from_dict({**values, "n": 10}).batch_size == 64


def test_score_counts_failing_seeds_and_the_worst_seed(fast_rules):
    values = fast_rules.suggest(optuna.trial.FixedTrial(fast_rules.PREVIOUS))
    learns = fast_rules.score_task(values, n=10, seeds=(0, 1), aim=1_000)
    assert learns["failing"] == 0 and 0 < learns["worst"] <= 2_530
    assert learns["score"] == pytest.approx(learns["worst"] / 1_000)
    # too short to learn: both seeds never reach 0.99 and end below it
    starved = fast_rules.score_task({**values, "sample_budget": 128}, n=10, seeds=(0, 1), aim=1_000)
    assert starved["failing"] == 4 and starved["worst"] == 2 * 128
