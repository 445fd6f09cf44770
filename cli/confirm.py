"""`banditune confirm RESULTS/NAME`: re-train a study's top configs on fresh seeds, at the search's
budget and at a longer horizon (see experiments.confirm)."""

from __future__ import annotations

import argparse
import functools

from cli.common import StoredStudy, add_num_seeds, add_threads, apply_threads, check_threads
from contract.schema import CONFIRM_PREFIX, task_label
from experiments.confirm import (
    DEFAULT_LONG,
    DEFAULT_SEEDS,
    DEFAULT_TOP,
    Plan,
    comparison,
    confirm_one,
    make_plan,
)


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "confirm",
        help="re-train a study's top configs on fresh seeds",
        description="Re-train a study's top configs on fresh seeds, at the search's budget and at a"
        " longer horizon, and add the runs to the study folder: the best of many configs is optimistic,"
        " and only the long run shows inputs that get stuck late. `banditune analyze` then picks the"
        " config that held.",
    )
    p.add_argument(
        "results",
        metavar="RESULTS/NAME",
        help="a study folder (holds trials/), or a study in storage (s3://bucket/prefix/NAME, ...)",
    )
    p.add_argument(
        "--top",
        type=int,
        default=DEFAULT_TOP,
        metavar="K",
        help=f"how many of the best search configs to confirm (default: {DEFAULT_TOP})",
    )
    add_num_seeds(p, what="fresh seeds per config", default=DEFAULT_SEEDS)
    p.add_argument(
        "--long-horizon",
        type=int,
        default=DEFAULT_LONG,
        metavar="F",
        help="also report each config at F times its search budget, an integer >= 1"
        f" (1: the search budget only; default: {DEFAULT_LONG})",
    )
    p.add_argument(
        "--policy",
        default=None,
        metavar="NAME",
        help="confirm the top configs of those that use this network, one the study searched"
        " (default: the top configs whatever their network)",
    )
    add_threads(p)
    p.set_defaults(plan=plan)


def plan(args: argparse.Namespace):
    """Check every input (ValueError); return the work. A study in storage is fetched here and
    its new files go back to storage after each config."""
    from analysis.load import is_uri

    check_threads(args.threads)
    stored = StoredStudy(args.results, option="RESULTS/NAME") if is_uri(args.results) else None
    try:
        planned = make_plan(
            stored.folder if stored else args.results,
            top=args.top,
            num_seeds=args.num_seeds,
            long=args.long_horizon,
            policy=args.policy,
        )
    except ValueError:
        if stored:
            stored.remove()
        raise
    return functools.partial(run, planned, threads=args.threads, stored=stored)


def run(plan: Plan, *, threads: int, stored: StoredStudy | None = None) -> int:
    """Confirm every job of `plan`, then print the comparison table."""
    try:
        return _confirm_all(plan, threads=threads, stored=stored)
    finally:
        if stored:
            stored.remove()


def _confirm_all(plan: Plan, *, threads: int, stored: StoredStudy | None) -> int:
    apply_threads(threads)
    print(
        f"confirming {len(plan.jobs)} config(s) on {', '.join(map(task_label, plan.tasks))} on"
        f" seeds {plan.seeds[0]}..{plan.seeds[-1]} ({len(plan.seeds)} seeds), to"
        f" {plan.long}x the search budget",
        flush=True,
    )
    for i, job in enumerate(plan.jobs, start=1):
        confirm_one(job, plan, label=f"[{i}/{len(plan.jobs)}]")
        if stored:
            stored.send_back()
    print(comparison(plan.root))
    where = stored.uri if stored else plan.root
    print(f"rows in {where}/trials/{CONFIRM_PREFIX}*.parquet; run `banditune analyze {where}` for the report")
    return 0
