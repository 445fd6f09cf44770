import math

import pytest
import torch

from trainable import TrainConfig, Trainer
from trainable.update import schedule_factor


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        ("constant", [1.0, 1.0, 1.0]),
        ("linear", [1.0, 0.5, 0.0]),
        ("cosine", [1.0, 0.5, 0.0]),
    ],
)
def test_factor_at_start_middle_and_end_of_the_budget(schedule, expected):
    got = [schedule_factor(schedule, p) for p in (0.0, 0.5, 1.0)]
    assert got == pytest.approx(expected, abs=1e-12)


def test_cosine_anneals_slower_than_linear_early_and_faster_late():
    assert schedule_factor("cosine", 0.25) > schedule_factor("linear", 0.25)
    assert schedule_factor("cosine", 0.75) < schedule_factor("linear", 0.75)


def test_progress_past_the_budget_stays_at_the_end_value():
    assert schedule_factor("linear", 1.5) == 0.0 and schedule_factor("cosine", -1.0) == 1.0


@pytest.mark.parametrize("schedule", ["linear", "cosine"])
def test_trainer_anneals_lr_over_its_sample_budget(schedule):
    config = TrainConfig(n=10, lr=0.01, lr_schedule=schedule, batch_size=256, sample_budget=256 * 40)
    trainer = Trainer(config)
    trainer.run(256 * 20)
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(0.005, rel=1e-9)
    trainer.run(256 * 20)
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize(
    ("schedule", "factor"), [("linear", 0.75), ("cosine", 0.5 * (1 + math.cos(math.pi / 4)))]
)
def test_a_quarter_into_the_budget_cosine_keeps_more_lr_than_linear(schedule, factor):
    """At 0.25 of the budget: linear 0.75 of the base lr, cosine 0.5 (1 + cos(pi / 4)) = 0.854."""
    config = TrainConfig(n=10, lr=0.01, lr_schedule=schedule, batch_size=256, sample_budget=256 * 40)
    trainer = Trainer(config)
    trainer.run(256 * 10)
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(0.01 * factor, rel=1e-9)


def test_the_entropy_bonus_follows_its_schedule_in_the_gradient():
    """One batch from the same state, a quarter into the budget, with the bonus scheduled
    constant, linear and cosine and without a bonus: every gradient is the bonus-free one plus
    the schedule's factor (1, 0.75, 0.854) times the constant bonus's part."""
    budget = 256 * 40

    def gradients(schedule, coef, state):
        config = TrainConfig(
            n=10, seeds=(0, 1), lr=0.01, entropy_coef=coef, entropy_schedule=schedule,
            baseline="batch_mean", batch_size=256, sample_budget=budget,
        )  # fmt: skip
        trainer = Trainer(config)
        if state is None:
            trainer.run(256 * 10)
            state = trainer.state_dict()
        trainer.load_state_dict(state)
        trainer.run(256)
        return [p.grad.clone() for p in trainer.policy.parameters()], state

    constant, state = gradients("constant", 3.0, None)
    none, _ = gradients("constant", 0.0, state)
    for schedule, factor in (("linear", 0.75), ("cosine", 0.5 * (1 + math.cos(math.pi / 4)))):
        grads, _ = gradients(schedule, 3.0, state)
        for g, g_const, g_none in zip(grads, constant, none, strict=True):
            bonus = g_const - g_none
            assert bonus.abs().max() > 1e-3  # the bonus's part is not lost in the rounding
            torch.testing.assert_close(
                g - g_none, factor * bonus, rtol=0, atol=1e-4 * bonus.abs().max().item()
            )


def test_constant_schedule_keeps_lr():
    config = TrainConfig(n=10, lr=0.01, lr_schedule="constant", batch_size=256, sample_budget=256 * 8)
    trainer = Trainer(config)
    trainer.run(256 * 8)
    assert trainer.optimizer.param_groups[0]["lr"] == 0.01


def test_unknown_schedule_is_refused_naming_the_choices():
    with pytest.raises(ValueError, match=r"--lr-schedule 'step'.*constant, linear, cosine"):
        TrainConfig(lr_schedule="step")


def test_unknown_entropy_schedule_is_refused_naming_the_choices():
    with pytest.raises(ValueError, match=r"--entropy-schedule 'step'.*constant, linear, cosine"):
        TrainConfig(entropy_schedule="step")


def test_an_annealed_entropy_bonus_lets_the_policy_sharpen_where_a_constant_one_keeps_it_broad():
    """A large bonus (3.0) held to the end keeps the policy spread; annealed to 0 it is gone by
    the end, so the same run ends with a sharper policy (lower entropy, more mass on the answer)."""
    common = dict(n=10, seeds=(0, 1), entropy_coef=3.0, lr=0.01, batch_size=256, sample_budget=256 * 200)
    final = {}
    for schedule in ("constant", "linear"):
        trainer = Trainer(TrainConfig(entropy_schedule=schedule, **common))
        final[schedule] = trainer.run(common["sample_budget"])
    assert (final["linear"].entropy < final["constant"].entropy - 0.2).all()
    assert (final["linear"].p_correct > final["constant"].p_correct).all()
