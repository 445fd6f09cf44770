"""Your own networks with the trainer's defaults: final exact match, samples to 0.99 and samples/s
per seed, for each policy at each n, on fresh seeds, in one run (docs/trainer.md, Your own policy
network). The speed of 1, 8 and 32 seeds at once is benchmarks/trainer.py --policies.

    python benchmarks/policies.py [--ns 10 100] [--seeds 2000 2001 2002 2003 2004]
        [--policies mlp mlp2 examples/my_policy.py:layernorm_mlp examples/my_policy.py:bilinear]
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from trainable import TrainConfig, Trainer

POLICIES = ["mlp", "mlp2", "examples/my_policy.py:layernorm_mlp", "examples/my_policy.py:bilinear"]


def run(policy: str, n: int, seeds: list[int]) -> dict:
    """The defaults at `n` with `policy`, all `seeds` at once, to the default budget."""
    trainer = Trainer(TrainConfig(n=n, policy=policy, seeds=tuple(seeds)))
    final = list(trainer.run_to_budget())[-1]
    return {
        "policy": policy,
        "n": n,
        "seeds": seeds,
        "samples": final.samples,
        "exact_match": final.exact_match.tolist(),
        "stuck": final.stuck.tolist(),
        "samples_to_99": [None if np.isnan(s) else int(s) for s in final.samples_to_99],
        "samples_per_s": final.samples_per_s,
        "wall_s": final.wall_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ns", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--seeds", type=int, nargs="+", default=[2000, 2001, 2002, 2003, 2004])
    parser.add_argument("--policies", nargs="+", default=POLICIES)
    parser.add_argument("--json", metavar="FILE", help="also write the rows to FILE")
    args = parser.parse_args()
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads; the defaults, seeds {args.seeds}"
    )
    print(
        f"{'policy':>36} {'n':>4} {'exact match per seed':>32} {'samples to 0.99 per seed':>40}"
        f" {'samples/s/seed':>14}"
    )
    rows = []
    for n in args.ns:
        mlp_rate = None
        for policy in args.policies:
            row = run(policy, n, args.seeds)
            rows.append(row)
            mlp_rate = row["samples_per_s"] if policy == "mlp" else mlp_rate
            versus = f" ({row['samples_per_s'] / mlp_rate:.2f}x mlp)" if mlp_rate and policy != "mlp" else ""
            exact = " ".join(f"{e:.2f}" for e in row["exact_match"])
            reached = " ".join("never" if s is None else f"{s / 1000:.0f}k" for s in row["samples_to_99"])
            print(
                f"{policy:>36} {n:>4} {exact:>32} {reached:>40} {row['samples_per_s']:>14,.0f}{versus}",
                flush=True,
            )
    if args.json:
        with open(args.json, "w") as out:
            json.dump(rows, out, indent=1)


if __name__ == "__main__":
    main()
