"""Contexts: held-out exact match on a context set, bandit feedback against full supervision.

For each setting, every seed's final exact match on the training contexts and on the held-out
ones: the trainer's defaults with `exact` and `abs` rewards, the forum preset's settings, and the
supervised reference, the defaults' network (Linear(d, hidden)-ReLU-Linear(hidden, A), the same
initial weights per seed) trained with cross-entropy on the labels by Adam at the defaults' lr and
batch size, one labelled context per sample, for the same number of samples.

    python benchmarks/contexts.py [--contexts digits] [--seeds 0 1 2] [--samples 1000000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F

from trainable import TrainConfig, from_preset, train
from trainable.tasks import HELDOUT, TRAIN, ContextTask
from trainable.trainer import BatchedPolicy


def supervised(config: TrainConfig) -> dict[str, np.ndarray]:
    """Cross-entropy on the labels of `config`'s training contexts: accuracy per split, (S,) each."""
    device = torch.device("cpu")
    task = ContextTask(config.contexts, holdout=config.holdout, device=device)
    policy = BatchedPolicy(config, task, device)
    optimizer = torch.optim.Adam(policy.parameters(), lr=config.lr)
    generators = [torch.Generator().manual_seed(s) for s in config.seeds]
    for _ in range(-(-config.sample_budget // config.batch_size)):
        x = torch.stack(
            [torch.randint(task.train_size, (config.batch_size,), generator=g) for g in generators]
        )
        logits, _ = policy(x)
        loss = F.cross_entropy(logits.flatten(0, 1), task.keys(x).flatten(), reduction="none")
        optimizer.zero_grad(set_to_none=True)
        loss.view_as(x).mean(1).sum().backward()
        optimizer.step()
    accuracy = {}
    with torch.no_grad():
        for name, (start, stop) in task.splits.items():
            xs = torch.arange(start, stop).expand(len(config.seeds), -1)
            greedy = policy(xs)[0].argmax(-1)
            accuracy[name] = (greedy == task.keys(xs)).double().mean(1).numpy()
    return accuracy


def bandit(config: TrainConfig) -> dict[str, np.ndarray]:
    *_, m = train(config)
    return {TRAIN: m.exact_match, HELDOUT: m.heldout_exact_match}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contexts", default="digits")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--samples", type=int, default=1_000_000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    common = dict(contexts=args.contexts, seeds=tuple(args.seeds), sample_budget=args.samples)
    settings = [
        ("defaults, reward exact", bandit, TrainConfig(reward="exact", **common)),
        ("defaults, reward abs", bandit, TrainConfig(reward="abs", **common)),
        ("forum preset, reward exact", bandit, from_preset("forum", reward="exact", **common)),
        ("forum preset, reward abs", bandit, from_preset("forum", reward="abs", **common)),
        ("supervised reference (cross-entropy)", supervised, TrainConfig(**common)),
    ]
    print(f"contexts={args.contexts}, seeds {args.seeds}, {args.samples:,} samples per seed")
    print("| setting | held-out exact match per seed | mean | training exact match (mean) | wall |")
    print("|---|---|---|---|---|")
    for label, run, config in settings:
        start = time.perf_counter()
        result = run(config)
        held = ", ".join(f"{v:.3f}" for v in result[HELDOUT])
        print(
            f"| {label} | {held} | {result[HELDOUT].mean():.3f} | {result[TRAIN].mean():.3f}"
            f" | {time.perf_counter() - start:.0f} s |",
            flush=True,
        )


if __name__ == "__main__":
    main()
