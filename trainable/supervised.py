"""The supervised reference: the policy's network trained with cross-entropy on the labels.

What full supervision reaches on a context set, so a bandit result can be read against it: the
same network as `config`'s policy (Linear(d, hidden)-ReLU-Linear(hidden, A), the same initial
weights per seed), trained by Adam at `config.lr` on `config.batch_size` labelled training
contexts per step, one context per sample, for `config.sample_budget` samples.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
import torch.nn.functional as F

from trainable.config import TrainConfig
from trainable.policy import BatchedPolicy
from trainable.tasks import make_task
from trainable.trainer import resolve_device


def supervised_accuracy(config: TrainConfig) -> dict[str, np.ndarray]:
    """Greedy accuracy on each of the task's splits (`train`, and `heldout` for a context set):
    {split: (S,) over config.seeds}."""
    *_, (_, accuracy) = supervised_curve(config, every=config.sample_budget)
    return accuracy


def supervised_curve(config: TrainConfig, *, every: int) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
    """(samples so far, accuracy per split as in supervised_accuracy) after about every `every`
    samples (whole batches) and at the end of the budget."""
    device = resolve_device(config.device)
    task = make_task(config, device)
    policy = BatchedPolicy(config, task, device)
    optimizer = torch.optim.Adam(policy.parameters(), lr=config.lr)
    generators = [torch.Generator().manual_seed(s) for s in config.seeds]
    steps = -(-config.sample_budget // config.batch_size)
    per_report = max(1, every // config.batch_size)
    for step in range(1, steps + 1):
        x = torch.stack(
            [torch.randint(task.train_size, (config.batch_size,), generator=g) for g in generators]
        ).to(device)
        logits, _ = policy(x)
        loss = F.cross_entropy(logits.flatten(0, 1), task.keys(x).flatten(), reduction="none")
        optimizer.zero_grad(set_to_none=True)
        loss.view_as(x).mean(1).sum().backward()
        optimizer.step()
        if step % per_report == 0 or step == steps:
            yield step * config.batch_size, _accuracy(policy, task, len(config.seeds), device)


@torch.no_grad()
def _accuracy(policy, task, num_seeds: int, device) -> dict[str, np.ndarray]:
    accuracy = {}
    for name, (start, stop) in task.splits.items():
        xs = torch.arange(start, stop, device=device).expand(num_seeds, -1)
        greedy = policy(xs)[0].argmax(-1)
        accuracy[name] = (greedy == task.keys(xs)).double().mean(1).cpu().numpy()
    return accuracy
