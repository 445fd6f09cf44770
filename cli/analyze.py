"""`banditune analyze RESULTS/NAME [--threshold T] [--out DIR]`: score a study's configs, write its
report."""

from __future__ import annotations

import argparse
import functools
import sys

from contract.schema import THRESHOLD, is_integer_task, task_label
from study.mirror import Mirror
from study.storage import join


def register(subparsers) -> None:
    """Add the `analyze` subcommand to the `banditune` parser's subparsers."""
    parser = subparsers.add_parser(
        "analyze",
        help="score a study's configs and write report.md, figures, summary.json, best_config.json",
        description="Score every config of a study over its seeds (IQM with a bootstrap 95% interval) "
        "and write RESULTS/NAME/report/: report.md, PNG figures, summary.json, best_config.json.",
    )
    parser.add_argument(
        "results",
        metavar="RESULTS/NAME",
        help="a study folder (holds trials/), or a study in storage, read in place:"
        " s3://bucket/prefix/NAME (any URI of --storage)",
    )
    parser.add_argument(
        "--threshold",
        type=float,
        default=THRESHOLD,
        help="exact match a config's interval lower bound must reach to win, in (0, 1]"
        f" (default {THRESHOLD:g})",
    )
    parser.add_argument(
        "--out",
        default=None,
        help="output folder (default RESULTS/NAME/report; NAME-report here for a study in storage,"
        " which also gets a copy in URI/NAME/report)",
    )
    parser.set_defaults(plan=plan)


def plan(args: argparse.Namespace):
    """Check the inputs (ValueError); return the work."""
    from analysis.analyze import check_inputs

    _, out_dir = check_inputs(args.results, threshold=args.threshold, out=args.out)
    return functools.partial(run, args.results, threshold=args.threshold, out=args.out, out_dir=out_dir)


def run(results: str, *, threshold: float, out: str | None, out_dir) -> int:
    """Analyze; print where the report is and the headline."""
    from analysis.analyze import analyze
    from analysis.load import is_uri
    from analysis.scoring import ALL_TASKS

    summary = analyze(results, threshold=threshold, out=out)
    every = "every n" if all(map(is_integer_task, summary["tasks"])) else "every task"
    for key, found in summary["winners"].items():
        where = every if key == ALL_TASKS else task_label(key)
        print(f"above {summary['threshold']:g} at {where}: {len(found)} config(s)")
    if summary["best"] is not None:
        print(f"best: {summary['best']['trial_id']} ({summary['best']['reason']})")
    for skipped in summary["skipped_files"]:
        print(f"skipped: {skipped}", file=sys.stderr)
    print(f"report: {out_dir / 'report.md'}")
    if is_uri(results):  # the study in storage is then complete: `diagnose --study URI` reads it
        Mirror(out_dir, join(results, "report")).sync()
        print(f"copied to {join(results, 'report')}")
    return 0
