"""`banditune analyze RESULTS/NAME [--threshold T] [--out DIR]`."""

from __future__ import annotations

import argparse
import functools
import sys

from contract.schema import THRESHOLD, is_integer_task, task_label

DEFAULT_TOP = 5  # configs per n behind `banditune scale`'s point and interval


def register(subparsers) -> None:
    """Add the `analyze` subcommand to the `banditune` parser's subparsers."""
    parser = subparsers.add_parser(
        "analyze",
        help="score a study's configs and write report.md, figures, summary.json, best_config.json",
        description="Score every config of a study over its seeds (IQM with a bootstrap 95% interval) "
        "and write RESULTS/NAME/report/: report.md, PNG figures, summary.json, best_config.json.",
    )
    parser.add_argument("results", metavar="RESULTS/NAME", help="a study folder (holds trials/)")
    parser.add_argument(
        "--threshold",
        type=float,
        default=THRESHOLD,
        help="exact match a config's interval lower bound must reach to win, in (0, 1]"
        f" (default {THRESHOLD:g})",
    )
    parser.add_argument("--out", default=None, help="output folder (default RESULTS/NAME/report)")
    parser.set_defaults(plan=plan)
    scale = subparsers.add_parser(
        "scale",
        help="fit how the best lr and entropy bonus move with n, from studies at several n",
        description="Take the top configs at each n of the studies, and fit lr and entropy_coef"
        " against n as power laws; write scale.md, scale.json and scale.png.",
    )
    scale.add_argument("results", nargs="+", metavar="RESULTS/NAME", help="study folders")
    scale.add_argument("--out", required=True, metavar="DIR", help="output folder")
    scale.add_argument(
        "--top",
        type=int,
        default=DEFAULT_TOP,
        help=f"configs per n that give the point and interval, an integer >= 1 (default {DEFAULT_TOP})",
    )
    scale.set_defaults(plan=plan_scale)


def plan(args: argparse.Namespace):
    """Check the inputs (ValueError); return the work."""
    from analysis.analyze import check_inputs

    _, out_dir = check_inputs(args.results, threshold=args.threshold, out=args.out)
    return functools.partial(run, args.results, threshold=args.threshold, out=args.out, out_dir=out_dir)


def run(results: str, *, threshold: float, out: str | None, out_dir) -> int:
    """Analyze; print where the report is and the headline."""
    from analysis.analyze import analyze

    summary = analyze(results, threshold=threshold, out=out)
    every = "every n" if all(map(is_integer_task, summary["tasks"])) else "every task"
    for key, found in summary["winners"].items():
        where = every if key == "both" else task_label(key)
        print(f"above {summary['threshold']:g} at {where}: {len(found)} config(s)")
    if summary["best"] is not None:
        print(f"best: {summary['best']['trial_id']} ({summary['best']['reason']})")
    for skipped in summary["skipped_files"]:
        print(f"skipped: {skipped}", file=sys.stderr)
    print(f"report: {out_dir / 'report.md'}")
    return 0


def plan_scale(args: argparse.Namespace):
    """Check the studies and --top (ValueError); return the work."""
    from analysis.scale import study_ns

    if args.top < 1:
        raise ValueError(f"--top {args.top} is not allowed; expected an integer >= 1")
    ns = study_ns(args.results)
    if len(ns) < 2:
        raise ValueError(f"the studies hold n = {ns}; a trend needs at least two distinct n")
    return functools.partial(run_scale, args.results, out=args.out, top=args.top)


def run_scale(results: list[str], *, out: str, top: int) -> int:
    from analysis.scale import write_scale

    summary = write_scale(results, out=out, top=top)
    for name, rule in summary["rule"].items():
        print(f"{name} = {rule['coef']:.3g} * n^{rule['exponent']:.3f}")
    for name, value in summary["held"].items():
        print(f"{name} = {value:.3g}, held by the studies")
    print(f"scale: {out}/scale.md")
    return 0
