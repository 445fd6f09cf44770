"""`banditune scale RESULTS/NAME ... --out DIR`: how the best lr and entropy bonus move with n."""

from __future__ import annotations

import argparse
import functools

from contract.errors import check

DEFAULT_TOP = 5  # configs per n behind `banditune scale`'s point and interval


def register(subparsers) -> None:
    """Add the `scale` subcommand to the `banditune` parser's subparsers."""
    scale = subparsers.add_parser(
        "scale",
        help="fit how the best lr and entropy bonus move with n, from studies at several n",
        description="Take the top configs at each n of the studies, and fit lr and entropy_coef"
        " against n as power laws; write scale.md, scale.json and scale.png.",
    )
    scale.add_argument(
        "results", nargs="+", metavar="RESULTS/NAME", help="study folders, or studies in storage (s3://...)"
    )
    scale.add_argument("--out", required=True, metavar="DIR", help="output folder")
    scale.add_argument(
        "--top",
        type=int,
        default=DEFAULT_TOP,
        help=f"configs per n that give the point and interval, an integer >= 1 (default {DEFAULT_TOP})",
    )
    scale.set_defaults(plan=plan)


def plan(args: argparse.Namespace):
    """Check the studies and --top (ValueError); return the work."""
    from analysis.scale import study_ns

    check(args.top >= 1, "--top", args.top, "an integer >= 1")
    ns = study_ns(args.results)
    if len(ns) < 2:
        raise ValueError(f"the studies hold n = {ns}; a trend needs at least two distinct n")
    return functools.partial(run, args.results, out=args.out, top=args.top)


def run(results: list[str], *, out: str, top: int) -> int:
    from analysis.scale import write_scale

    summary = write_scale(results, out=out, top=top)
    for name, rule in summary["rule"].items():
        print(f"{name} = {rule['coef']:.3g} * n^{rule['exponent']:.3f}")
    for name, value in summary["held"].items():
        print(f"{name} = {value:.3g}, held by the studies")
    print(f"scale: {out}/scale.md")
    return 0
