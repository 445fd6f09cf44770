"""Long runs: training samples per CPU-second per evaluation interval, without and with the
trainer's long-run guards (trainable/policy.py: the logit floor and flushing denormal floats), in
one run.

Each config trains one seed for `--factor` times its budget, evaluated every tenth of its budget
(so 10 * factor intervals): docs/fast_config.json at n=1000 (where long runs crawled, issue #37),
docs/best_config.json and the trainer's defaults at n=100. An interval's rate is its samples over
the CPU time of the thread that trains (evaluation included), so other work on a shared machine
does not count. Without the guards fast_config at n=1000 would take hours, so its "before" stops
after `--before-intervals` intervals; its last interval is then measured on the "after" run's final
weights with the guards off (one more interval at the end of the lr schedule, where the lr is 0),
and the intervals between are projected by interpolating the rate linearly, marked as such.

    python benchmarks/long_horizon.py [--factor 5] [--seed 42] [--before-intervals 14]
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import torch

import trainable.policy as policy_module
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


def interval_rates(config: TrainConfig, *, guards: bool, max_intervals: int | None = None) -> dict:
    """Samples per CPU-second of each interval (at most `max_intervals`), the final exact match,
    whether the budget was cut short, and the trainer."""
    trainer = Trainer(config)
    rates, exact = [], float("nan")
    while trainer.samples < config.sample_budget and (max_intervals is None or len(rates) < max_intervals):
        rate, exact = timed_interval(trainer, guards=guards)
        rates.append(rate)
        print(f"  {'after' if guards else 'before'} interval {len(rates) - 1}: {rate:,.0f}", flush=True)
    return {
        "rates": rates,
        "exact": exact,
        "capped": trainer.samples < config.sample_budget,
        "trainer": trainer,
    }


def timed_interval(trainer: Trainer, *, guards: bool) -> tuple[float, float]:
    """Samples per CPU-second of the training thread over one more interval (evaluation included),
    and the exact match after it."""
    policy_module._LONG_RUN_GUARDS = guards
    before, start = trainer.samples, time.thread_time()
    metrics = trainer.run(trainer.config.eval_every)
    return (trainer.samples - before) / (time.thread_time() - start), float(metrics.exact_match[0])


def interpolated(measured: list[float], end: float, count: int) -> list[float]:
    """`count` rates: the measured ones, then a straight line from the last of them to `end`."""
    k, last = len(measured), measured[-1]
    return measured + [last + (end - last) * (i - k + 1) / (count - k) for i in range(k, count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--factor", type=int, default=5, help="budget multiple (default 5)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--before-intervals", type=int, default=14, help="cap on fast_config n=1000's before")
    parser.add_argument("--only", choices=[name for name, _ in CONFIGS], nargs="+", default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(
        f"torch {torch.__version__}, 1 thread, {platform.machine()}, seed {args.seed}; samples per CPU-second"
    )
    summary = []
    for name, n in CONFIGS:
        if args.only and name not in args.only:
            continue
        config = config_at(name, n, seed=args.seed, factor=args.factor)
        print(f"{name} n={n}: {config.sample_budget:,} samples, an interval every {config.eval_every:,}")
        cap = args.before_intervals if (name, n) == SLOW else None
        before = interval_rates(config, guards=False, max_intervals=cap)
        after = interval_rates(config, guards=True)
        measured = len(before["rates"])
        if before["capped"]:
            end, _ = timed_interval(after["trainer"], guards=False)
            print(f"  before at the end (the after run's final weights, guards off): {end:,.0f}")
            before["rates"] = interpolated(before["rates"], end, len(after["rates"]))
        print_table(name, n, before["rates"], after["rates"], measured=measured)
        for label, run in (("before", before), ("after", after)):
            rates = run["rates"]
            cpu = sum(config.eval_every / r for r in rates)
            end, total, exact = (
                (" (end)", " (projected)", "-") if run["capped"] else ("", "", f"{run['exact']:.3f}")
            )
            summary.append(
                f"| {name} | {n} | {label} | {rates[0]:,.0f} | {rates[-1]:,.0f}{end} |"
                f" {rates[-1] / rates[0]:.2f} | {cpu / 60:.1f}{total} | {exact} |"
            )
    print("\n| config | n | run | first | last | last/first | CPU min | exact match at the end |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(summary))
    policy_module._LONG_RUN_GUARDS = True


def print_table(name: str, n: int, before: list[float], after: list[float], *, measured: int) -> None:
    """Per-interval rates, before and after; interpolated ones in parentheses, the measured end
    of a capped run marked."""
    print(
        f"\n{name} n={n}: samples per CPU-second per interval\n| interval | before | after |\n|---|---|---|"
    )
    for i, (old, new) in enumerate(zip(before, after, strict=True)):
        if i < measured:
            old_text = f"{old:,.0f}"
        elif i == len(after) - 1:
            old_text = f"{old:,.0f} (end)"
        else:
            old_text = f"({old:,.0f})"
        print(f"| {i} | {old_text} | {new:,.0f} |")


if __name__ == "__main__":
    main()
