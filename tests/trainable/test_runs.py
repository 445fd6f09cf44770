import pytest

from trainable import TrainConfig, Trainer, defaults
from trainable.runs import default_budget, run_config


def test_a_run_config_puts_the_values_on_the_task_with_the_runs_seeds_and_budget():
    values = {"encoding": "binary", "reward": "squared", "device": "cpu"}
    on_n = run_config(values=values, task="30", holdout=0.5, seeds=[2, 3], budget=1000)
    assert (on_n.n, on_n.contexts, on_n.encoding, on_n.reward) == (30, None, "binary", "squared")
    assert (on_n.seeds, on_n.sample_budget, on_n.device) == ((2, 3), 1000, "cpu")
    on_digits = run_config(values=values, task="digits", holdout=0.5, seeds=(0,), budget=50, reward="abs")
    assert (on_digits.contexts, on_digits.holdout, on_digits.reward) == ("digits", 0.5, "abs")


def test_a_run_config_refuses_bad_values():
    with pytest.raises(ValueError, match="--encoding 'ascii'"):
        run_config(values={"encoding": "ascii"}, task="10", holdout=0.25, seeds=(0,), budget=10)


def test_the_trainers_default_budget_is_a_configs_own_and_a_studys_is_shorter():
    assert default_budget("100", study=False) == TrainConfig(n=100).sample_budget
    assert default_budget("digits", study=False) == TrainConfig(contexts="digits").sample_budget
    for task in ("10", "100", "1000", "digits"):
        assert default_budget(task, study=True) < default_budget(task, study=False)
    assert default_budget("10", study=True) == defaults.study_sample_budget(10)


def test_run_to_budget_reports_every_eval_every_samples_up_to_the_budget():
    config = TrainConfig(n=5, batch_size=64, group_size=8, sample_budget=640, eval_every=256, device="cpu")
    trainer = Trainer(config)
    assert [m.samples for m in trainer.run_to_budget()] == [256, 512, 640]
    assert list(trainer.run_to_budget()) == []
