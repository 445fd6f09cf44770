"""Torch threads per training process: one `banditune train` alone against three at once, and
1 against 2 threads alone, at n=100 and n=1000, all measured in this one run.

Each training is a real `banditune train ... --json` process (3 seeds, the trainer's defaults);
a row's wall time is from the first start to the last exit. The figures to read are the ratios:
three at once / one alone (1.0 would be free parallelism; 3.0 is one core's worth each on a
machine with one core to spare) and the lone cost of the default, 1 thread / 2 threads.

    python benchmarks/threads.py [--ns 100 1000] [--samples 100=600k,1000=300k]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

# benchmarks/study.py would shadow the study package: keep this folder off the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

DEFAULT_SAMPLES = {100: 600_000, 1000: 300_000}


def wall_s(*, n: int, samples: int, threads: int, copies: int) -> float:
    """Seconds from starting `copies` trainings at once to the last one's exit."""
    command = [
        sys.executable,
        "-m",
        "cli.main",
        "train",
        "--n",
        str(n),
        "--seeds",
        "0",
        "1",
        "2",
        "--sample-budget",
        str(samples),
        "--threads",
        str(threads),
        "--json",
    ]
    start = time.perf_counter()
    runs = [
        subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in range(copies)
    ]
    for run in runs:
        _, err = run.communicate()
        if run.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {err.decode()[-500:]}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ns", type=int, nargs="+", default=list(DEFAULT_SAMPLES))
    parser.add_argument("--samples", default=None, help="per n, e.g. 100=600k,1000=300k (default: that)")
    args = parser.parse_args()
    samples = dict(DEFAULT_SAMPLES)
    if args.samples:
        from study.tasks import parse_budget

        given = parse_budget(args.samples, tuple(map(str, args.ns)), study=True)
        samples.update({int(n): count for n, count in given.items()})
    print(
        f"{os.cpu_count()} CPUs; 3 seeds per training; wall seconds (start of the first to"
        " the end of the last)"
    )
    print(f"{'n':>5} {'samples':>9} {'threads':>7} {'alone':>8} {'3 at once':>10} {'3 at once / alone':>18}")
    alone_by_threads = {}
    for n in args.ns:
        for threads in (1, 2):
            alone = wall_s(n=n, samples=samples[n], threads=threads, copies=1)
            together = wall_s(n=n, samples=samples[n], threads=threads, copies=3)
            alone_by_threads[(n, threads)] = alone
            print(
                f"{n:>5} {samples[n]:>9,} {threads:>7} {alone:>8.1f} {together:>10.1f}"
                f" {together / alone:>17.2f}x",
                flush=True,
            )
        print(
            f"{'':>5} lone train, 1 thread / 2 threads:"
            f" {alone_by_threads[(n, 1)] / alone_by_threads[(n, 2)]:.2f}x",
            flush=True,
        )


if __name__ == "__main__":
    main()
