"""The supervised reference: the policy's network trained on the labels learns what it can."""

from __future__ import annotations

import pytest

from trainable import TrainConfig
from trainable.supervised import supervised_accuracy
from trainable.tasks import HELDOUT, TRAIN

BLOBS = "tests.synthetic_contexts:blobs"


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_cross_entropy_learns_the_blobs_and_scores_both_splits_per_seed():
    config = TrainConfig(contexts=BLOBS, seeds=(0, 1), sample_budget=20_000, batch_size=128, device="cpu")
    accuracy = supervised_accuracy(config)
    assert set(accuracy) == {TRAIN, HELDOUT}
    assert accuracy[TRAIN].shape == accuracy[HELDOUT].shape == (2,)
    assert (accuracy[HELDOUT] >= 0.9).all() and (accuracy[TRAIN] >= 0.9).all()


def test_on_the_integer_bandit_it_scores_the_training_inputs_only():
    accuracy = supervised_accuracy(TrainConfig(n=10, seeds=(0,), sample_budget=20_000, device="cpu"))
    assert set(accuracy) == {TRAIN} and accuracy[TRAIN][0] == 1.0
