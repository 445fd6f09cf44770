"""Study overhead: a small study's wall time against the training time of its trials.

Starts an embedded Ray with --cpus CPUs (one trial per CPU), runs `banditune study` on it and
prints the study's wall time (Ray's start apart), the sum of its trials' training time (the
`wall_s` of each trial at each n, from the Parquet rows, reference included) and the share of the
wall time the CPUs spent on anything else: Ray Tune, worker start-up, evaluation, checkpoints,
export. With one CPU the trials run one at a time, so the share is 1 - training / wall.

    python benchmarks/study.py [--trials 12] [--cpus 1] [--sample-budget 10=200k,100=1M]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

# This file is named study.py: keep its folder off the path so `import study` is the package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")


def _study_argv(args: argparse.Namespace, *, results: str) -> list[str]:
    argv = ["study", "--results", results, "--name", "bench", "--n", "10", "100"]
    argv += ["--trials", str(args.trials), "--num-seeds", str(args.num_seeds)]
    argv += ["--sample-budget", args.sample_budget, "--reports", str(args.reports)]
    return argv + ["--gpus-per-trial", "0", "--max-concurrent", str(args.cpus)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--cpus", type=int, default=1, help="Ray CPUs = trials at once")
    parser.add_argument("--sample-budget", default="10=200k,100=1M")
    parser.add_argument("--reports", type=int, default=10)
    parser.add_argument("--num-seeds", type=int, default=3)
    args = parser.parse_args()

    import pyarrow.parquet as pq
    import ray

    from cli import main as cli

    with tempfile.TemporaryDirectory(prefix="bt-bench-", dir="/tmp") as temp:
        start = time.perf_counter()
        ray.init(
            address="local",
            num_cpus=args.cpus,
            include_dashboard=False,
            _temp_dir=os.path.join(temp, "ray"),
            log_to_driver=False,
        )
        ray_start = time.perf_counter() - start
        try:
            start = time.perf_counter()
            status = cli.main(_study_argv(args, results=temp))
            wall = time.perf_counter() - start
        finally:
            ray.shutdown()
        assert status == 0, f"the study exited with {status}"
        rows = [
            r
            for p in sorted(Path(temp, "bench", "trials").glob("*.parquet"))
            for r in pq.read_table(p).to_pylist()
        ]

    per_run = {(r["trial_id"], r["task"]): r["wall_s"] for r in rows if r["wall_s"] is not None}
    training = sum(per_run.values())
    trials = len({r["trial_id"] for r in rows})
    samples = sum(r["samples"] for r in rows if r["samples"] is not None)
    share = 1 - training / (wall * args.cpus)
    print(
        f"\n{trials} trials (reference included) x n 10, 100 x {args.num_seeds} seeds on"
        f" {args.cpus} CPU(s), {samples:,} samples in all"
    )
    print(f"Ray start (ray.init)             {ray_start:8.1f} s")
    print(f"study wall time                  {wall:8.1f} s")
    print(f"sum of trials' training time     {training:8.1f} s")
    print(f"everything else (Ray's share)    {share:8.1%}  of {args.cpus} CPU(s) x wall time")
    print(f"  with Ray's start counted       {1 - training / ((wall + ray_start) * args.cpus):8.1%}")


if __name__ == "__main__":
    main()
