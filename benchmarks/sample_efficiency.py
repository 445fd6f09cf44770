"""Sample efficiency: samples to 0.95 and 0.99 exact match, and as multiples of N², in one run.

On the same fresh seeds at each N: the forum preset, the trainer's defaults, docs/best_config.json
(at a study's budget, 3000·N and at least 30k, the budget it was found and confirmed with),
docs/fast_config.json, the supervised reference (the defaults' network trained with
cross-entropy on the labels, trainable/supervised.py) and a tabular learner that knows nothing of
the reward's structure: per-input UCB1 over the N actions (untried actions first, in random order).
Every learner is evaluated every min(N²/10, its budget/50) samples (whole batches) and stops once
every seed has passed 0.99 or at its budget. The reward is `abs`, -|x - a|.

    python benchmarks/sample_efficiency.py [--n 10 100] [--seeds 13000 ... 13009] [--with-1000]
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from trainable import TrainConfig, Trainer, from_preset, read_config_file
from trainable.defaults import default_sample_budget
from trainable.supervised import supervised_curve

DOCS = Path(__file__).resolve().parents[1] / "docs"
LEVELS = (0.95, 0.99)
FORUM_CAP = 1_000_000  # the forum preset never passes 0.95 at n=100 (docs/FINDINGS.md)
UCB_BUDGET = 5  # the tabular learner's budget, in multiples of N²
DEFAULT_SEEDS = tuple(range(13000, 13010))  # fresh: never used by a search or by hand


def reinforce_config(name: str, n: int, seeds: tuple[int, ...]) -> TrainConfig:
    """The config `name` at n on `seeds`, on the CPU."""
    common = {"n": n, "seeds": seeds, "device": "cpu"}
    if name == "forum preset":
        return from_preset("forum", **common, sample_budget=min(default_sample_budget(n), FORUM_CAP))
    if name == "defaults":
        return TrainConfig(**common)
    if name == "best_config":
        values = {**read_config_file(DOCS / "best_config.json"), **common}
        return TrainConfig.from_dict({**values, "sample_budget": max(30_000, 3_000 * n)})
    values = {**read_config_file(DOCS / "fast_config.json"), **common}
    return TrainConfig.from_dict(values)


def every(n: int, budget: int) -> int:
    return max(1, min(n * n // 10, budget // 50))


def run_reinforce(name: str, n: int, seeds: tuple[int, ...]) -> tuple[np.ndarray, int]:
    """Samples to each level per seed (NaN: never) and the budget."""
    config = reinforce_config(name, n, seeds)
    trainer = Trainer(config)
    step = max(config.batch_size, every(n, config.sample_budget))
    while trainer.samples < config.sample_budget:
        metrics = trainer.run(min(step, config.sample_budget - trainer.samples))
        if not np.isnan(metrics.samples_to_99).any():
            break
    reached = np.stack([trainer.reached["samples_to_95"], trainer.reached["samples_to_99"]])
    return reached, config.sample_budget


def run_supervised(n: int, seeds: tuple[int, ...]) -> tuple[np.ndarray, int]:
    config = TrainConfig(n=n, seeds=seeds, device="cpu")
    reached = np.full((len(LEVELS), len(seeds)), np.nan)
    for samples, accuracy in supervised_curve(config, every=every(n, config.sample_budget)):
        for i, level in enumerate(LEVELS):
            reached[i, np.isnan(reached[i]) & (accuracy["train"] >= level)] = samples
        if not np.isnan(reached).any():
            break
    return reached, config.sample_budget


def run_ucb(n: int, seeds: tuple[int, ...]) -> tuple[np.ndarray, int]:
    """Per-input UCB1 on rewards scaled to [0, 1], a batch of max(1, n/10) inputs at a time."""
    budget, batch = UCB_BUDGET * n * n, max(1, n // 10)
    reached = np.full((len(LEVELS), len(seeds)), np.nan)
    for k, seed in enumerate(seeds):
        rng = np.random.default_rng(seed)
        counts, sums = np.zeros((n, n)), np.zeros((n, n))
        samples, next_eval = 0, every(n, budget)
        while samples < budget and np.isnan(reached[:, k]).any():
            x = rng.integers(n, size=batch)
            visits = counts[x].sum(1, keepdims=True)
            with np.errstate(divide="ignore", invalid="ignore"):
                score = sums[x] / counts[x] + np.sqrt(2 * np.log(np.maximum(visits, 1)) / counts[x])
            score[counts[x] == 0] = np.inf
            a = np.argmax(score + rng.random(score.shape) * 1e-9, axis=1)  # ties in random order
            np.add.at(counts, (x, a), 1)
            np.add.at(sums, (x, a), 1 - np.abs(x - a) / (n - 1))
            samples += batch
            if samples >= next_eval:
                next_eval += every(n, budget)
                with np.errstate(divide="ignore", invalid="ignore"):
                    means = np.where(counts > 0, sums / counts, -np.inf)
                exact = (means.argmax(1) == np.arange(n)).mean()
                for i, level in enumerate(LEVELS):
                    if np.isnan(reached[i, k]) and exact >= level:
                        reached[i, k] = samples
    return reached, budget


LEARNERS: dict[str, Callable[[int, tuple[int, ...]], tuple[np.ndarray, int]]] = {
    **{
        name: (lambda n, seeds, name=name: run_reinforce(name, n, seeds))
        for name in ("forum preset", "defaults", "best_config", "fast_config")
    },
    "supervised reference": run_supervised,
    "tabular UCB1": run_ucb,
}


def shown(values: np.ndarray, n: int) -> str:
    """'median [worst]' samples and N² multiples, or how many seeds never got there."""
    never = int(np.isnan(values).sum())
    if never == len(values):
        return "never"
    med, worst = np.nanmedian(values), np.nanmax(values)
    text = f"{_count(med)} [{_count(worst)}] = {med / n**2:.3g} [{worst / n**2:.3g}] N²"
    return text + (f", never on {never} of {len(values)}" if never else "")


def _count(v: float) -> str:
    if v >= 1e6:
        return f"{v / 1e6:.3g}M"
    return f"{v / 1e3:.3g}k" if v >= 1e3 else f"{int(v)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[10, 100], help="bandit sizes (default: 10 100)")
    parser.add_argument("--with-1000", action="store_true", help="also n=1000 (about an hour on one core)")
    parser.add_argument(
        "--seeds", type=int, nargs="+", default=list(DEFAULT_SEEDS), help="default: 13000-13009"
    )
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default: 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    ns = [*args.n, *([1000] if args.with_1000 and 1000 not in args.n else [])]
    seeds = tuple(args.seeds)
    print(f"seeds {seeds[0]}-{seeds[-1]} ({len(seeds)}), {args.threads} torch thread(s); median [worst]")
    print("| N | learner | budget | samples to 0.95 | samples to 0.99 | wall |")
    print("|---|---|---|---|---|---|")
    for n in ns:
        for name, learn in LEARNERS.items():
            start = time.perf_counter()
            reached, budget = learn(n, seeds)
            wall = time.perf_counter() - start
            row = f"| {n} | {name} | {_count(budget)} | {shown(reached[0], n)} | {shown(reached[1], n)}"
            print(f"{row} | {math.ceil(wall)} s |", flush=True)


if __name__ == "__main__":
    main()
