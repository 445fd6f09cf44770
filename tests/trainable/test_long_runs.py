"""The trainer's long-run guards (trainable/policy.py, issue #37): denormal floats flushed on the
threads that train, and logits floored at LOGIT_FLOOR below their input's largest."""

import math
import subprocess
import sys
import threading
from pathlib import Path

import torch

import trainable.policy as policy_module
from trainable import TrainConfig, Trainer, read_config_file
from trainable.policy import LOGIT_FLOOR

FAST_CONFIG = Path(__file__).resolve().parents[2] / "docs" / "fast_config.json"

SMALL = dict(n=10, sample_budget=2_048, eval_every=1_024, batch_size=256)


def keeps_denormals() -> bool:
    """Whether this thread computes 1e-30 * 1e-10 (a denormal float32) rather than flushing it to 0."""
    return (torch.tensor([1e-30]) * 1e-10).item() != 0


def test_training_thread_flushes_denormals():
    seen = {}

    def train_here():
        torch.set_flush_denormal(False)
        seen["before"] = keeps_denormals()
        Trainer(TrainConfig(**SMALL)).run(512)
        seen["after"] = keeps_denormals()

    thread = threading.Thread(target=train_here)  # a fresh thread, as a Ray trial's training thread
    thread.start()
    thread.join()
    assert seen == {"before": True, "after": False}


def test_torch_worker_threads_flush_denormals():
    """With 2 torch threads, the worker threads (started after the trainer) flush too."""
    code = (
        "import torch; from trainable import TrainConfig, Trainer\n"
        "torch.set_num_threads(2)\n"
        f"Trainer(TrainConfig(**{SMALL!r})).run(512)\n"
        "x = torch.full((1 << 20,), 1e-30)\n"  # large enough that both threads compute part of it
        "print(int(((x * 1e-10) != 0).sum()))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0"


def test_logits_are_floored_below_the_largest(monkeypatch):
    policy = Trainer(TrainConfig(**SMALL)).policy
    with torch.no_grad():
        policy.w2.mul_(2_000)  # a policy far sharper than the floor allows
    x = torch.arange(10).unsqueeze(0)
    with monkeypatch.context() as unguarded, torch.no_grad():
        unguarded.setattr(policy_module, "_LONG_RUN_GUARDS", False)
        raw, _ = policy(x)
    assert (raw.amax(-1) - raw.amin(-1)).max() > 2 * LOGIT_FLOOR
    logits, _ = policy(x)
    spread = logits.amax(-1) - logits.amin(-1)
    assert spread.max() <= LOGIT_FLOOR + 1e-3
    assert torch.equal(logits.argmax(-1), raw.argmax(-1))
    torch.log_softmax(logits, -1)[..., 0].sum().backward()
    assert policy.w2.grad.abs().sum() > 0


def test_a_converged_policy_keeps_every_log_probability_above_the_floor():
    """fast_config at n=30 with a constant lr keeps sharpening once converged (its log-probabilities
    reach -45 by 5x its budget without the floor); floored, none falls below -LOGIT_FLOOR - log(n)."""
    values = {**read_config_file(FAST_CONFIG), "n": 30, "lr_schedule": "constant"}
    budget = TrainConfig.from_dict(values).sample_budget
    trainer = Trainer(TrainConfig.from_dict({**values, "sample_budget": 5 * budget, "eval_every": budget}))
    *_, last = trainer.run_to_budget()
    assert last.exact_match[0] == 1.0
    with torch.no_grad():
        logits, _ = trainer.policy(torch.arange(30).unsqueeze(0))
    assert torch.log_softmax(logits.double(), -1).min() >= -LOGIT_FLOOR - math.log(30)
