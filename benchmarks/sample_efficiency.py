"""Sample efficiency: the forum setups against the trainer's defaults, per seed.

Prints, for each setting, every seed's final exact match, distinct greedy outputs and the samples
it took to reach 95% exact match (what the trainer issue asks to show).

    python benchmarks/sample_efficiency.py [--seeds 0 1 2] [--only forum|defaults]
"""

from __future__ import annotations

import argparse
import time

from trainable import TrainConfig, from_preset, train

SETTINGS = {
    "forum": [
        ("forum preset, n=10", lambda seeds: from_preset("forum", n=10, seeds=seeds, sample_budget=500_000)),
        (
            "forum preset, n=100",
            lambda seeds: from_preset("forum", n=100, seeds=seeds, sample_budget=2_000_000),
        ),
    ],
    "defaults": [
        ("defaults, n=10, abs", lambda seeds: TrainConfig(n=10, seeds=seeds, sample_budget=200_000)),
        ("defaults, n=100, abs", lambda seeds: TrainConfig(n=100, seeds=seeds, sample_budget=3_000_000)),
        (
            "defaults, n=100, squared",
            lambda seeds: TrainConfig(n=100, reward="squared", seeds=seeds, sample_budget=3_000_000),
        ),
    ],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--only", choices=sorted(SETTINGS))
    args = parser.parse_args()
    groups = [args.only] if args.only else list(SETTINGS)
    for group in groups:
        for label, make in SETTINGS[group]:
            config = make(tuple(args.seeds))
            start = time.perf_counter()
            *_, m = train(config)
            d = m.to_dict()
            print(f"{label}: {m.samples:,} samples, {time.perf_counter() - start:.0f} s")
            print(
                f"  exact_match      {[f'{v:.3f}' for v in d['exact_match']]}"
                f"  mean {m.exact_match.mean():.3f}"
            )
            print(f"  distinct_actions {d['distinct_actions']}")
            print(f"  samples_to_95    {d['samples_to_95']}", flush=True)


if __name__ == "__main__":
    main()
