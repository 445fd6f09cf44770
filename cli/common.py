"""Options and checks that several subcommands share (argparse only; no torch, no Ray)."""

from __future__ import annotations

import argparse

DEFAULT_NS = (10, 100)
# One torch thread per process: the models are tiny, and with torch's default threads three
# trainings at once on 2 cores ran 20x slower than one alone (benchmarks/threads.py).
DEFAULT_THREADS = 1


def add_threads(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--threads",
        type=int,
        default=DEFAULT_THREADS,
        metavar="T",
        help=f"torch CPU threads in this process, an integer >= 1 (default: {DEFAULT_THREADS},"
        " which lets several trainings share a small machine; see benchmarks/threads.py)",
    )


def apply_threads(threads: int) -> None:
    """Set torch's CPU threads (checked by check_threads first)."""
    import torch

    torch.set_num_threads(threads)


def check_threads(threads: int) -> None:
    from study.spec import check

    check(threads >= 1, "--threads", threads, "an integer >= 1")


def check_ns(ns) -> tuple[int, ...]:
    """Bandit sizes: integers >= 2, distinct."""
    from study.spec import check

    ns = tuple(ns)
    for n in ns:
        check(n >= 2, "--n", n, "integers >= 2")
    check(len(set(ns)) == len(ns), "--n", " ".join(map(str, ns)), "distinct values")
    return ns
