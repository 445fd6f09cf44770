import json
from pathlib import Path

import pytest

from contract.errors import as_option
from trainable import PRESETS, TrainConfig, defaults, from_preset, read_config_file
from trainable.config import default_budget, run_config


@pytest.mark.parametrize(
    "field, value, allowed",
    [
        ("n", 1, "an integer >= 2"),
        ("n", 2.5, "an integer >= 2"),
        ("encoding", "ascii", "one of scalar, scalar01, onehot, embedding, fourier, binary"),
        ("baseline", "critic", "one of none, ema, batch_mean, rloo, grpo, value"),
        ("reward_scale", "log", "one of raw, range, gap, standardize"),
        ("lr", 0.0, "a finite number > 0"),
        ("lr", -1e-3, "a finite number > 0"),
        ("lr", float("nan"), "a finite number > 0"),
        ("entropy_coef", -0.1, "a finite number >= 0"),
        ("batch_size", 0, "an integer >= 1"),
        ("hidden", 0, "an integer >= 1"),
        ("group_size", 0, "an integer >= 1"),
        ("seeds", (), "a non-empty list of distinct integers >= 0"),
        ("seeds", (1, 1), "a non-empty list of distinct integers >= 0"),
        ("sample_budget", 0, "an integer >= 1"),
        ("eval_every", -5, "an integer >= 1"),
        ("device", "tpu", "one of auto, cpu, cuda"),
        ("inputs", "sorted", "one of uniform, cycle"),
        ("gamma", 1.0, "a number in [0, 1)"),
    ],
)
def test_bad_values_name_the_field_the_value_and_what_is_allowed(field, value, allowed):
    with pytest.raises(ValueError) as error:
        TrainConfig(**{field: value})
    message = str(error.value)
    assert message.startswith(f"{as_option(field)} {value!r}") and allowed in message


def test_cuda_trains_where_torch_sees_it_and_is_refused_elsewhere():
    import torch

    from trainable import Trainer

    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="--device 'cuda'.*no CUDA device"):
            TrainConfig(device="cuda")
        return
    trainer = Trainer(TrainConfig(device="cuda", n=10, seeds=(0, 1), batch_size=256, sample_budget=1024))
    metrics = trainer.run(1024)
    assert trainer.device.type == "cuda" and next(trainer.policy.parameters()).is_cuda
    assert metrics.samples == 1024 and metrics.exact_match.shape == (2,)


def test_auto_is_the_device_torch_sees():
    import torch

    from trainable import Trainer

    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert Trainer(TrainConfig(n=10, batch_size=256, sample_budget=256)).device.type == expected


def test_group_baselines_need_whole_groups_in_a_batch():
    with pytest.raises(ValueError, match="--batch-size 510 .*multiple of group_size=4"):
        TrainConfig(baseline="rloo", group_size=4, batch_size=510)
    assert TrainConfig(baseline="batch_mean", group_size=4, batch_size=510).batch_size == 510
    with pytest.raises(ValueError, match="--group-size 1 .*>= 2 for baseline grpo"):
        TrainConfig(baseline="grpo", group_size=1)


def test_budget_and_eval_interval_resolve_by_n():
    assert TrainConfig(n=10).sample_budget == 200_000
    assert TrainConfig(n=100).sample_budget == 1_000_000
    assert TrainConfig(n=1000).sample_budget == TrainConfig(n=5000).sample_budget == 10_000_000
    assert TrainConfig(contexts="tests.synthetic_contexts:blobs").sample_budget == 1_000_000
    config = TrainConfig(n=10, sample_budget=100_000)
    assert config.eval_every == 2_000 and config.minibatch_size == config.batch_size


def test_presets_and_overrides():
    forum = from_preset("forum", n=100, seeds=[0, 1])
    assert (forum.encoding, forum.baseline, forum.entropy_coef, forum.batch_size) == (
        "scalar",
        "none",
        1e-4,
        50,
    )
    assert forum.n == 100 and forum.seeds == (0, 1)
    original = from_preset("forum-original", lr=0.01)
    assert original.gamma == 0.99 and original.minibatch_size == 1 and original.lr == 0.01
    assert set(PRESETS) == {"forum", "forum-original"}
    with pytest.raises(ValueError, match="--preset 'nope' is not allowed; expected one of forum"):
        from_preset("nope")


def test_config_round_trips_through_json_and_yaml(tmp_path):
    config = TrainConfig(n=20, baseline="grpo", group_size=8, seeds=(3, 4), lr=0.01)
    (tmp_path / "c.json").write_text(json.dumps(config.to_dict()))
    assert TrainConfig.from_dict(read_config_file(tmp_path / "c.json")) == config
    (tmp_path / "c.yaml").write_text("n: 20\nbaseline: grpo\ngroup_size: 8\nseeds: [3, 4]\nlr: 0.01\n")
    assert TrainConfig.from_dict(read_config_file(tmp_path / "c.yaml")) == config


def test_config_files_that_cannot_be_used(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        read_config_file(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{n: 10")
    with pytest.raises(ValueError, match="not valid JSON or YAML"):
        read_config_file(tmp_path / "bad.json")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(ValueError, match="expected a mapping"):
        read_config_file(tmp_path / "list.yaml")
    with pytest.raises(ValueError, match=r"unknown config key\(s\) \['colour'\]"):
        TrainConfig.from_dict({"colour": "red"})


def test_the_default_lr_falls_with_n_the_bonus_is_flat_and_explicit_values_are_kept():
    from trainable.defaults import CONTEXTS_ENTROPY_COEF, CONTEXTS_LR, ENTROPY_COEF, default_lr

    lrs = [TrainConfig(n=n).lr for n in (10, 30, 100, 300, 1000)]
    assert lrs == sorted(lrs, reverse=True) and lrs[0] > 2 * lrs[-1]
    assert lrs[2] == pytest.approx(default_lr(100))
    assert {TrainConfig(n=n).entropy_coef for n in (10, 100, 1000)} == {ENTROPY_COEF}
    explicit = TrainConfig(n=1000, lr=0.02, entropy_coef=0.2)
    assert (explicit.lr, explicit.entropy_coef) == (0.02, 0.2)
    contexts = TrainConfig(contexts="tests.synthetic_contexts:blobs", n=500)
    assert (contexts.lr, contexts.entropy_coef) == (CONTEXTS_LR, CONTEXTS_ENTROPY_COEF)


def test_the_default_lr_is_half_the_fastest_lr_that_the_published_sweep_fitted():
    from trainable import defaults

    rule = json.loads((Path(__file__).parents[2] / "docs/scale/lr/scale.json").read_text())["rule"]["lr"]
    assert defaults.FASTEST_LR == pytest.approx((rule["coef"], rule["exponent"]), rel=5e-3)
    for n in (10, 1000):
        assert defaults.default_lr(n) == pytest.approx(
            defaults.LR_MARGIN * rule["coef"] * n ** rule["exponent"], rel=1e-2
        )


def test_the_defaults_anneal_lr_and_bonus_and_the_forum_preset_keeps_both_constant():
    d, forum = TrainConfig(n=1000), from_preset("forum", n=100)
    assert (d.lr_schedule, d.entropy_schedule, d.sample_budget) == ("cosine", "cosine", 10_000_000)
    assert (forum.lr_schedule, forum.entropy_schedule, forum.entropy_coef) == ("constant", "constant", 1e-4)


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
