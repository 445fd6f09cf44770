"""The supervised reference: the policy's network trained with cross-entropy on the labels.

What full supervision reaches on a context set, so a bandit result can be read against it: the
same network as `config`'s policy (Linear(d, hidden)-ReLU-Linear(hidden, A), the same initial
weights per seed), trained by Adam at `config.lr` on `config.batch_size` labelled training
contexts per step, one context per sample, for `config.sample_budget` samples.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from trainable.config import TrainConfig
from trainable.tasks import make_task
from trainable.trainer import BatchedPolicy, resolve_device


def supervised_accuracy(config: TrainConfig) -> dict[str, np.ndarray]:
    """Greedy accuracy on each of the task's splits (`train`, and `heldout` for a context set):
    {split: (S,) over config.seeds}."""
    device = resolve_device(config.device)
    task = make_task(config, device)
    policy = BatchedPolicy(config, task, device)
    optimizer = torch.optim.Adam(policy.parameters(), lr=config.lr)
    generators = [torch.Generator().manual_seed(s) for s in config.seeds]
    for _ in range(-(-config.sample_budget // config.batch_size)):
        x = torch.stack(
            [torch.randint(task.train_size, (config.batch_size,), generator=g) for g in generators]
        ).to(device)
        logits, _ = policy(x)
        loss = F.cross_entropy(logits.flatten(0, 1), task.keys(x).flatten(), reduction="none")
        optimizer.zero_grad(set_to_none=True)
        loss.view_as(x).mean(1).sum().backward()
        optimizer.step()
    accuracy = {}
    with torch.no_grad():
        for name, (start, stop) in task.splits.items():
            xs = torch.arange(start, stop, device=device).expand(len(config.seeds), -1)
            greedy = policy(xs)[0].argmax(-1)
            accuracy[name] = (greedy == task.keys(xs)).double().mean(1).cpu().numpy()
    return accuracy
