"""Trainer throughput: samples/s per seed and in total, by n, seeds and device.

Prints one row per setting, and beside them a forum-style loop (one sample, one optimizer step at a
time with torch.distributions), all measured in this one run. CUDA rows appear when CUDA is present;
every timing synchronises the device first.

    python benchmarks/trainer.py [--samples 200000] [--ns 10 100 1000] [--seeds 1 8]
        [--policies mlp mlp2 examples/my_policy.py:bilinear]
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn

from trainable import TrainConfig, Trainer

SETTING = dict(
    encoding="onehot", baseline="batch_mean", reward_scale="raw", entropy_coef=2.0, lr=3e-3, batch_size=512
)


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def trainer_rate(*, n: int, num_seeds: int, device: str, samples: int, policy: str = "mlp") -> float:
    """Samples per second per seed, after a warm-up of a few batches."""
    config = TrainConfig(
        n=n, seeds=tuple(range(num_seeds)), device=device, sample_budget=samples, policy=policy, **SETTING
    )
    trainer = Trainer(config)
    trainer.run(5 * config.batch_size)  # warm-up: allocations, kernels, Adam state
    sync(device)
    start = time.perf_counter()
    trainer.run(samples)
    sync(device)
    return (trainer.samples - 5 * config.batch_size) / (time.perf_counter() - start)


def forum_loop_rate(*, n: int, samples: int) -> float:
    """The forum post's loop: scalar x, one sample, one Adam step per sample, on the CPU."""
    torch.manual_seed(0)
    policy = nn.Sequential(nn.Linear(1, 128), nn.ReLU(), nn.Linear(128, n), nn.Softmax(-1))
    optimizer = torch.optim.Adam(policy.parameters(), lr=1e-3)
    start = time.perf_counter()
    for step in range(samples):
        x = step % n
        dist = torch.distributions.Categorical(policy(torch.tensor([[float(x)]])))
        action = dist.sample()
        reward = -abs(x - action.item())
        loss = -(dist.log_prob(action) * reward).sum() - 1e-4 * dist.entropy().sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return samples / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=200_000, help="timed samples per seed")
    parser.add_argument("--ns", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--policies", nargs="+", default=["mlp"], help="networks (trainable.policy)")
    parser.add_argument("--forum-samples", type=int, default=3_000, help="0: no forum-style loop")
    args = parser.parse_args()
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads"
        + (f", {torch.cuda.get_device_name()}" if torch.cuda.is_available() else "")
    )
    print(f"setting: {SETTING}")
    print(
        f"{'device':>6} {'policy':>32} {'n':>5} {'seeds':>5} {'samples/s/seed':>15}"
        f" {'samples/s total':>16} {'wall(S)/wall(1)':>16}"
    )
    for device in devices:
        for policy in args.policies:
            for n in args.ns:
                single = None
                for num_seeds in args.seeds:
                    rate = trainer_rate(
                        n=n, num_seeds=num_seeds, device=device, samples=args.samples, policy=policy
                    )
                    single = single or rate
                    print(
                        f"{device:>6} {policy:>32} {n:>5} {num_seeds:>5} {rate:>15,.0f}"
                        f" {rate * num_seeds:>16,.0f} {single / rate:>16.2f}",
                        flush=True,
                    )
    for n in args.ns if args.forum_samples else ():
        rate = forum_loop_rate(n=n, samples=args.forum_samples)
        print(f"forum-style loop (one sample, one step), cpu, n={n}: {rate:,.0f} samples/s")


if __name__ == "__main__":
    main()
