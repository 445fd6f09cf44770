"""The trainer's defaults at large n: samples/s by torch threads, batch size and seeds.

One row per setting, all measured in this one run, with each rate as a ratio to the first row
(1 thread, the default batch, 1 seed). The defaults are TrainConfig's at --n; CUDA is used when
torch sees it (--device), with the device synchronised before each timing.

    python benchmarks/scale_n.py [--n 1000] [--samples 100000] [--threads 1 2] [--batches 256 512 1024 2048]
"""

from __future__ import annotations

import argparse
import time

import torch

from trainable import TrainConfig, Trainer


def rate(*, n: int, batch_size: int, num_seeds: int, samples: int, device: str) -> float:
    """Samples per second per seed, after a warm-up of a few batches."""
    config = TrainConfig(n=n, batch_size=batch_size, seeds=tuple(range(num_seeds)), device=device)
    trainer = Trainer(config)
    trainer.run(5 * batch_size)  # warm-up: allocations, kernels, Adam state
    trainer._sync()
    start = time.perf_counter()
    trainer.run(samples)
    trainer._sync()
    return (trainer.samples - 5 * batch_size) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=100_000, help="timed samples per seed")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--batches", type=int, nargs="+", default=[256, 512, 1024, 2048])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 3])
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    d = TrainConfig(n=args.n)
    print(
        f"n={args.n} defaults: lr={d.lr:.3g} lr_schedule={d.lr_schedule} entropy={d.entropy_coef:.3g}"
        f" batch={d.batch_size} hidden={d.hidden} baseline={d.baseline}; {args.samples:,} samples per seed"
    )
    print(f"{'threads':>7} {'batch':>6} {'seeds':>5} {'samples/s/seed':>15} {'total/s':>10} {'vs first':>9}")
    first = None
    for threads in args.threads:
        torch.set_num_threads(threads)
        for batch in args.batches:
            for seeds in args.seeds:
                r = rate(
                    n=args.n, batch_size=batch, num_seeds=seeds, samples=args.samples, device=args.device
                )
                total = r * seeds
                first = first or total
                print(
                    f"{threads:>7} {batch:>6} {seeds:>5} {r:>15,.0f} {total:>10,.0f} {total / first:>8.2f}x"
                )


if __name__ == "__main__":
    main()
