"""Contexts: held-out exact match on a context set, bandit feedback against full supervision.

For each setting, every seed's final exact match on the training contexts and on the held-out
ones: the trainer's defaults with `exact` and `abs` rewards, the forum preset's settings, and the
supervised reference (`trainable.supervised`: the defaults' network trained with cross-entropy
on the labels, for the same number of samples).

    python benchmarks/contexts.py [--contexts digits] [--seeds 0 1 2] [--samples 1000000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from trainable import TrainConfig, from_preset, train
from trainable.supervised import supervised_accuracy
from trainable.tasks import HELDOUT, TRAIN


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
        ("supervised reference (cross-entropy)", supervised_accuracy, TrainConfig(**common)),
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
