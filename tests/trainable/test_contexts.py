"""Context sets: loading, the bad-context table, the stratified split, learning, held-out metrics."""

import json

import numpy as np
import pytest
import torch

from cli.main import main
from trainable import TrainConfig, Trainer, train
from trainable.contexts import SPLIT_SEED, load_contexts, split

BLOBS = "tests.synthetic_contexts:blobs"
SMALL = dict(
    contexts=BLOBS, sample_budget=20_480, eval_every=10_240, batch_size=256, device="cpu"
)  # bit-identical


def final(config: TrainConfig):
    *_, last = train(config)
    return last


def shifted(x, a, n):
    """Best action (x + 1) mod n: with contexts, x is the label."""
    return -((x + 1) % n - a).abs().float()


def test_digits_is_sklearns_8x8_digits_scaled_to_unit_range():
    digits = load_contexts("digits")
    assert digits.features.shape == (1797, 64) and digits.features.dtype == torch.float32
    assert digits.labels.dtype == torch.int64 and digits.num_actions == 10
    assert digits.features.min() == 0 and digits.features.max() == 1
    assert torch.bincount(digits.labels).min() >= 170  # about 180 images per digit


def test_the_split_is_stratified_disjoint_and_fixed():
    digits = load_contexts("digits")
    parts = split(digits, 0.25)
    assert len(parts.heldout) == 450 and len(parts.train) == 1347
    assert sorted(np.concatenate([parts.train, parts.heldout]).tolist()) == list(range(1797))
    labels = digits.labels.numpy()
    share = np.bincount(labels[parts.heldout], minlength=10) / np.bincount(labels, minlength=10)
    assert np.all(np.abs(share - 0.25) < 0.01)  # every class held out in proportion
    again = split(digits, 0.25)
    np.testing.assert_array_equal(parts.heldout, again.heldout)
    assert SPLIT_SEED == 0


def test_a_users_context_set_learns_and_is_judged_on_held_out_contexts():
    last = final(TrainConfig(seeds=(0, 1, 2), **SMALL))
    assert np.all(last.heldout_exact_match >= 0.9), last.heldout_exact_match
    assert np.all(last.exact_match >= 0.9)
    assert np.all(last.distinct_actions == 4)  # one action per class, nothing collapsed


def test_the_reward_sees_the_label_and_exact_match_follows_the_reward():
    last = final(TrainConfig(seeds=(0, 1), reward=f"{__name__}:shifted", **SMALL))
    assert np.all(last.heldout_exact_match >= 0.9), last.heldout_exact_match
    trainer = Trainer(TrainConfig(reward=f"{__name__}:shifted", **SMALL))
    start, stop = trainer.task.splits["heldout"]
    labels_shown = trainer.task.keys(torch.arange(start, stop))
    assert torch.equal(torch.bincount(labels_shown), torch.full((4,), 15))  # 60 held out, 15 per class


def test_the_integer_bandit_has_no_held_out_contexts():
    last = final(TrainConfig(n=10, sample_budget=2048, batch_size=256))
    assert np.all(np.isnan(last.heldout_exact_match))


@pytest.mark.parametrize(
    "overrides",
    [dict(baseline="ema"), dict(baseline="value"), dict(baseline="rloo"), dict(inputs="cycle")],
)
def test_every_baseline_and_input_order_runs_on_contexts_bit_identically(overrides):
    config = TrainConfig(seeds=(0, 1), **{**SMALL, "sample_budget": 4096}, **overrides)
    a, b = final(config), final(config)
    np.testing.assert_array_equal(a.heldout_exact_match, b.heldout_exact_match)
    np.testing.assert_array_equal(a.entropy, b.entropy)


def test_the_encoding_does_not_change_a_context_set_run():
    a = final(TrainConfig(encoding="onehot", **{**SMALL, "sample_budget": 4096}))
    b = final(TrainConfig(encoding="scalar", **{**SMALL, "sample_budget": 4096}))
    np.testing.assert_array_equal(a.entropy, b.entropy)


def test_train_json_reports_the_task_the_split_and_held_out_exact_match(capsys):
    code = main(["train", "--contexts", BLOBS, "--num-seeds", "2", "--sample-budget", "2048", "--json"])
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == 0
    assert result["task"] == BLOBS and result["n"] == 4
    assert result["holdout"] == 0.25 and result["split_seed"] == SPLIT_SEED
    assert len(result["heldout_exact_match"]) == 2
    assert all(0 <= v <= 1 for v in result["heldout_exact_match"])


def test_the_table_shows_held_out_exact_match(capsys):
    code = main(["train", "--contexts", BLOBS, "--holdout", "0.5", "--sample-budget", "2048"])
    out = capsys.readouterr().out
    assert code == 0
    assert "120 trained on, 120 held out; 8 features, 4 actions" in out and "heldout_exact" in out


M = "tests.synthetic_contexts"
BAD_CONTEXTS = [
    (["--contexts", f"{M}:nan_features"], "nan_features': features hold nan at row 5, column 2"),
    (["--contexts", f"{M}:inf_features"], "features hold inf at row 7, column 0; expected finite features"),
    (["--contexts", f"{M}:flat_features"], "features are a torch.float32 tensor of shape (240,)"),
    (["--contexts", f"{M}:int_features"], "features are a torch.int64 tensor of shape (240, 8)"),
    (["--contexts", f"{M}:float_labels"], "labels are a torch.float32 tensor of shape (240,)"),
    (["--contexts", f"{M}:short_labels"], "240 feature rows but 239 labels"),
    (["--contexts", f"{M}:negative_label"], "label -1 is out of range; expected labels in 0..A-1"),
    (["--contexts", f"{M}:one_class"], "labels hold 1 class; expected at least 2"),
    (["--contexts", f"{M}:a_single_tensor"], "returned Tensor, not a pair (features, labels)"),
    (["--contexts", f"{M}:raises"], "raised FileNotFoundError: features.npy missing"),
    (["--contexts", f"{M}:not_callable"], f"{M}.not_callable is not a callable"),
    (["--contexts", f"{M}:no_such_fn"], f"{M}.no_such_fn is not a callable"),
    (["--contexts", "no_such_pkg:load"], "--contexts 'no_such_pkg:load': cannot import 'no_such_pkg'"),
    (["--contexts", "mnist"], "--contexts 'mnist' is not allowed; expected digits or package.module"),
    (["--contexts", ""], "--contexts '' is not allowed"),
    (["--contexts", "digits", "--holdout", "0"], "--holdout 0.0 is not allowed; expected a number in (0, 1)"),
    (["--contexts", "digits", "--holdout", "1"], "--holdout 1.0 is not allowed"),
    (["--contexts", "digits", "--holdout", "nan"], "--holdout nan is not allowed"),
    (["--contexts", "digits", "--holdout", "0.001"], "--holdout 0.001: cannot split contexts='digits'"),
]


@pytest.mark.parametrize(("argv", "expected"), BAD_CONTEXTS, ids=[" ".join(a) for a, _ in BAD_CONTEXTS])
def test_bad_contexts_exit_2_with_one_line_before_any_training(capsys, monkeypatch, argv, expected):
    def no_training(self, samples):
        raise AssertionError("trained on bad contexts")

    monkeypatch.setattr(Trainer, "run", no_training)
    code = main(["train", *argv, "--sample-budget", "1024"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("banditune train: error: ") and expected in err


@pytest.mark.slow
def test_the_defaults_learn_digits_on_held_out_images():
    last = final(TrainConfig(contexts="digits", reward="exact", seeds=(0, 1), sample_budget=300_000))
    assert np.all(last.heldout_exact_match >= 0.93), last.heldout_exact_match
