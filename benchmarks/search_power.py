"""Search power: configs above the threshold at every n against wall time, for the default
study with and without the warm start (the trainer's defaults as the first trial), in one run.

Each variant is a real `banditune study` (embedded Ray, the study's defaults unless given)
followed by the analysis' own winner rule (IQM interval lower bound >= 0.95 at every n). A
winner counts from the moment its trial file was written, so the table shows how many winners
the search had found by each quarter of its wall time.

    python benchmarks/search_power.py [--seed 0] [--reward abs] [--trials N] [--only no-warm-start]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")
VARIANTS = {"warm-start": ["--warm-start"], "no-warm-start": ["--no-warm-start"]}


def run_study(root: Path, name: str, extra: list[str]) -> tuple[float, float]:
    """(start time, wall seconds) of one study."""
    command = [sys.executable, "-m", "cli.main", "study", "--name", name, "--results", str(root), *extra]
    start = time.time()
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {result.returncode}: {result.stderr[-2000:]}")
    return start, time.time() - start


def winners_by_time(folder: Path, start: float) -> tuple[dict[str, int], list[float]]:
    """Winners per task and at every task, and the seconds after `start` each winner at every task
    was written."""
    from analysis.analyze import analyze
    from analysis.scoring import ALL_TASKS

    summary = analyze(folder, out=folder / "report")
    counts = {key: len(found) for key, found in summary["winners"].items()}
    times = sorted(
        (folder / "trials" / f"{w['trial_id']}.parquet").stat().st_mtime - start
        for w in summary["winners"][ALL_TASKS]
    )
    return counts, times


def main() -> None:
    from analysis.scoring import ALL_TASKS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="the TPE sampler's seed")
    parser.add_argument("--reward", default="abs")
    parser.add_argument("--trials", type=int, default=None, help="(default: the study's)")
    parser.add_argument("--only", choices=list(VARIANTS), default=None)
    parser.add_argument("--results", default=None, help="keep the studies here")
    args = parser.parse_args()
    extra = ["--seed", str(args.seed), "--reward", args.reward]
    if args.trials:
        extra += ["--trials", str(args.trials)]
    root = Path(args.results or tempfile.mkdtemp(prefix="search-power-"))
    print(f"{os.cpu_count()} CPUs; study defaults {' '.join(extra)}; results in {root}")
    print(
        f"{'variant':<14} {'wall s':>7} {'winners per n':>22} {'at every n':>10}"
        f" {'by 25/50/75/100% of the wall':>30}"
    )
    rows = {}
    for variant, flags in VARIANTS.items():
        if args.only and variant != args.only:
            continue
        start, wall = run_study(root, variant, extra + flags)
        counts, times = winners_by_time(root / variant, start)
        per_task = ", ".join(f"{k}: {v}" for k, v in counts.items() if k != ALL_TASKS)
        by = "/".join(str(sum(t <= q * wall for t in times)) for q in (0.25, 0.5, 0.75, 1.0))
        print(f"{variant:<14} {wall:>7.0f} {per_task:>22} {counts[ALL_TASKS]:>10} {by:>30}", flush=True)
        rows[variant] = {"wall_s": wall, "winners": counts, "winner_times_s": times}
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
