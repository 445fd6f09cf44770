"""Long runs: training samples/s per evaluation interval, without and with the trainer's long-run
guards (trainable/trainer.py: the logit floor and flushing denormal floats), in one run.

Each config trains one seed for `--factor` times its budget, evaluated every tenth of its budget
(so 10 * factor intervals): docs/fast_config.json at n=1000 (where long runs crawled, issue #37),
docs/best_config.json and the trainer's defaults at n=100. The rate of an interval counts training
only (Trainer.train_s), not evaluation. Without the guards fast_config at n=1000 would take hours,
so its "before" stops after `--before-intervals` intervals and the rest is projected at its last
interval's rate (a lower bound: the rate was still falling), marked as such in the output.

    python benchmarks/long_horizon.py [--factor 5] [--seed 42] [--before-intervals 14]
"""

from __future__ import annotations

import argparse
import platform
from pathlib import Path

import torch

import trainable.trainer as trainer_module
from trainable import TrainConfig, Trainer, read_config_file

DOCS = Path(__file__).resolve().parents[1] / "docs"
CONFIGS = (("fast_config", 1000), ("best_config", 100), ("defaults", 100))
SLOW = ("fast_config", 1000)  # the one whose "before" is capped


def config_at(name: str, n: int, *, seed: int, factor: int) -> TrainConfig:
    """`name` at n on one seed for `factor` times its budget, evaluated every tenth of that budget."""
    values = {} if name == "defaults" else read_config_file(DOCS / f"{name}.json")
    base = TrainConfig.from_dict({**values, "n": n, "device": "cpu"})
    budget = base.sample_budget
    return TrainConfig.from_dict(
        {**base.to_dict(), "seeds": (seed,), "sample_budget": factor * budget, "eval_every": budget // 10}
    )


def interval_rates(
    config: TrainConfig, *, guards: bool, max_intervals: int | None
) -> tuple[list[float], float]:
    """Samples/s of each interval (at most `max_intervals`) and the final exact match."""
    trainer_module._LONG_RUN_GUARDS = guards
    trainer = Trainer(config)
    rates, last_samples, last_s, exact = [], 0, 0.0, float("nan")
    while trainer.samples < config.sample_budget and (max_intervals is None or len(rates) < max_intervals):
        metrics = trainer.run(min(config.eval_every, config.sample_budget - trainer.samples))
        rates.append((metrics.samples - last_samples) / (metrics.wall_s - last_s))
        last_samples, last_s, exact = metrics.samples, metrics.wall_s, float(metrics.exact_match[0])
        print(
            f"  {'after' if guards else 'before'} interval {len(rates) - 1}: {rates[-1]:,.0f} samples/s",
            flush=True,
        )
    return rates, exact


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--factor", type=int, default=5, help="budget multiple (default 5)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--before-intervals", type=int, default=14, help="cap on fast_config n=1000's before")
    parser.add_argument("--only", choices=[name for name, _ in CONFIGS], nargs="+", default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(
        f"torch {torch.__version__}, 1 thread, {platform.processor() or platform.machine()}, seed {args.seed}"
    )
    summary = []
    for name, n in CONFIGS:
        if args.only and name not in args.only:
            continue
        config = config_at(name, n, seed=args.seed, factor=args.factor)
        intervals = -(-config.sample_budget // config.eval_every)
        print(
            f"{name} n={n}: {config.sample_budget:,} samples, {intervals} intervals of {config.eval_every:,}"
        )
        cap = args.before_intervals if (name, n) == SLOW else None
        rows = {}
        for guards in (False, True):
            rates, exact = interval_rates(config, guards=guards, max_intervals=cap if not guards else None)
            wall = sum(config.eval_every / r for r in rates)
            projected = len(rates) < intervals
            if projected:
                wall += (config.sample_budget - len(rates) * config.eval_every) / rates[-1]
            rows["after" if guards else "before"] = (rates, exact, wall, projected)
        print_table(name, n, rows)
        summary += [(name, n, label, *row) for label, row in rows.items()]
    print("\n| config | n | run | first | last | last/first | wall | exact match at the end |")
    print("|---|---|---|---|---|---|---|---|")
    for name, n, label, rates, exact, wall, projected in summary:
        last = f"{rates[-1]:,.0f}" + (f" (interval {len(rates) - 1})" if projected else "")
        wall_text = f">= {wall / 60:.0f} min (projected)" if projected else f"{wall / 60:.1f} min"
        exact_text = "not reached (capped)" if projected else f"{exact:.3f}"
        print(
            f"| {name} | {n} | {label} | {rates[0]:,.0f} | {last} | {rates[-1] / rates[0]:.2f} |"
            f" {wall_text} | {exact_text} |"
        )
    trainer_module._LONG_RUN_GUARDS = True


def print_table(name: str, n: int, rows: dict) -> None:
    """Per-interval samples/s, before and after, one line per interval."""
    print(f"\n{name} n={n}: samples/s per interval\n| interval | before | after |\n|---|---|---|")
    before, after = rows["before"][0], rows["after"][0]
    for i in range(len(after)):
        old = f"{before[i]:,.0f}" if i < len(before) else "(capped)"
        print(f"| {i} | {old} | {after[i]:,.0f} |")


if __name__ == "__main__":
    main()
