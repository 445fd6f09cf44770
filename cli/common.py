"""Options and checks that several subcommands share.

Like every module of cli/, it imports torch, Ray, Optuna and pandas (analysis) only inside the
functions that need them: building the parser, for any command or --help, loads none of them
(tests/test_imports.py)."""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from contract.errors import check
from study import mirror
from study import storage as storage_io
from study.spec import DEFAULT_NS
from trainable.defaults import DEFAULT_HOLDOUT

# One torch thread per process: the models are tiny, and with 2 threads each three trainings at
# once on 2 cores took 7.31x the wall time of one alone at n=100, 1.58x with 1 thread each
# (benchmarks/threads.py; docs/benchmarks.md, "Threads").
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
    check(threads >= 1, "--threads", threads, "an integer >= 1")


def add_num_seeds(parser, *, what: str, default: int | None = None, shown=None) -> None:
    """--num-seeds S (`what`: which seeds; `shown`: the default where it is None)."""
    parser.add_argument(
        "--num-seeds",
        type=int,
        default=default,
        metavar="S",
        help=f"{what}, an integer >= 1 (default: {default if shown is None else shown})",
    )


def check_num_seeds(num_seeds: int) -> None:
    check(num_seeds >= 1, "--num-seeds", num_seeds, "an integer >= 1")


def add_tasks(parser: argparse.ArgumentParser, *, defaults: str) -> None:
    """--n, --contexts and --holdout: the tasks a command trains on (`defaults`: what comes
    before the default sizes in the help, e.g. "the study's with --study, else ")."""
    parser.add_argument(
        "--n",
        type=int,
        nargs="+",
        default=None,
        metavar="N",
        help=f"bandit sizes, distinct integers >= 2 (default: {defaults}{' '.join(map(str, DEFAULT_NS))};"
        " none when --contexts is given alone)",
    )
    parser.add_argument(
        "--contexts",
        nargs="+",
        default=None,
        metavar="SPEC",
        help="context sets to train on as well: digits or package.module:function (imports and"
        " runs that code); judged by exact match on held-out contexts (default: none)",
    )
    parser.add_argument(
        "--holdout",
        type=float,
        default=None,
        metavar="F",
        help="share of each context set held out of training, a number in (0, 1)"
        f" (default: {DEFAULT_HOLDOUT:g})",
    )


def add_sample_budget(parser: argparse.ArgumentParser, *, default: str) -> None:
    parser.add_argument(
        "--sample-budget",
        default=None,
        metavar="SPEC",
        help=f"samples per seed: one count or per task, e.g. 10=200k,100=3M,digits=1M (default: {default})",
    )


class StoredStudy:
    """A study in storage (`URI/NAME`, study.mirror) that `confirm` or `diagnose` works on here:
    fetched into a temporary folder; `send_back` copies the files the work added to storage."""

    def __init__(self, uri: str, *, option: str):
        from analysis.load import study_name

        storage_io.check_writable(uri, option=option, shown=uri)  # the work's files go there
        check(mirror.stored_meta(uri) is not None, option, uri, "a study (no study.json there)")
        self.uri = uri
        self.folder = Path(tempfile.mkdtemp(prefix="banditune-")) / study_name(uri)
        mirror.fetch(uri, self.folder)
        self.copy = mirror.Mirror(self.folder, uri)
        self.copy.mark_sent()

    def send_back(self) -> None:
        self.copy.sync()

    def remove(self) -> None:
        shutil.rmtree(self.folder.parent, ignore_errors=True)
