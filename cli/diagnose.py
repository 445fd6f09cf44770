"""`banditune diagnose`: change the forum preset one axis at a time toward a target config (see
experiments.diagnose for what it trains and writes)."""

from __future__ import annotations

import argparse
import functools
import json
from pathlib import Path

import pyarrow as pa

from cli.common import (
    StoredStudy,
    add_num_seeds,
    add_sample_budget,
    add_tasks,
    add_threads,
    apply_threads,
    check_num_seeds,
    check_threads,
)
from contract.errors import BadValue, check
from contract.layout import StudyPaths
from contract.schema import DIAGNOSE_SCHEMA
from contract.study_file import StudyRecord, load_record
from contract.write import write_atomic
from experiments.diagnose import (
    DEFAULT_SEEDS,
    format_table,
    settings_of,
    target_settings,
    train_all,
    variants,
)
from study.spec import DEFAULT_RESULTS, NAME_PATTERN, check_writable
from study.tasks import resolve_tasks
from trainable.config import TrainConfig, read_config_file, run_config


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "diagnose",
        help="change the forum preset one axis at a time toward a target config",
        description="Start from the forum preset and change one axis at a time to the target config's"
        " value (--leave-one-out: start from the target and put one axis back at a time), train every"
        " variant on the same seeds, and print which change fixes what; the rows go to"
        " diagnose.parquet.",
    )
    add_tasks(p, defaults="the study's with --study, else ")
    add_num_seeds(p, what="seeds per variant, trained together", default=DEFAULT_SEEDS)
    p.add_argument("--results", default=DEFAULT_RESULTS, metavar="DIR", help="results root folder")
    target = p.add_mutually_exclusive_group()
    target.add_argument(
        "--study",
        metavar="NAME",
        help="target: RESULTS/NAME/report/best_config.json (from `banditune"
        " analyze`); the table goes to RESULTS/NAME/diagnose.parquet. A study in storage:"
        " --study s3://bucket/prefix/NAME (or any URI of --storage)",
    )
    target.add_argument(
        "--config",
        metavar="FILE",
        help="target: a JSON or YAML config file (default target: the"
        " trainer's defaults); the table goes to RESULTS/diagnose.parquet",
    )
    add_sample_budget(p, default="the trainer's default budget on each task")
    p.add_argument(
        "--policy",
        default=None,
        metavar="NAME",
        help="the network every variant trains: mlp, mlp2, package.module:function or"
        " path/to/file.py:function (imports and runs that code; default: the target's)",
    )
    p.add_argument(
        "--leave-one-out",
        action="store_true",
        help="also train all changes but one, for each axis: which changes are"
        " needed together (about 40%% more time)",
    )
    add_threads(p)
    p.set_defaults(plan=plan)


def plan(args: argparse.Namespace):
    """Check every input (ValueError); return the work. A study in storage (--study URI) is
    fetched here and its diagnose.parquet goes back to storage."""
    from analysis.load import is_uri  # pandas: only for this command

    check_threads(args.threads)
    stored = None
    if args.study is not None and is_uri(args.study):
        stored = StoredStudy(args.study, option="--study")
    try:
        if stored:
            check(
                StudyPaths(stored.folder).best_config.is_file(),
                "--study",
                stored.uri,
                f"a study with report/best_config.json (run `banditune analyze {stored.uri}` first)",
            )
            args = argparse.Namespace(
                **{**vars(args), "results": str(stored.folder.parent), "study": stored.folder.name}
            )
        planned = plan_from_args(args)
    except ValueError:
        if stored:
            stored.remove()
        raise
    return functools.partial(
        run, path=planned["path"], threads=args.threads, stored=stored, **planned["train"]
    )


def run(*, path: Path, threads: int, stored: StoredStudy | None = None, **train_kwargs) -> int:
    """Train every variant, write diagnose.parquet and print the table."""
    try:
        apply_threads(threads)
        rows = train_all(**train_kwargs)
        write_atomic(pa.Table.from_pylist(rows, schema=DIAGNOSE_SCHEMA), path)
        print(format_table(rows))
        if stored:
            stored.send_back()
        print(f"wrote {stored.uri}/{path.name}" if stored else f"wrote {path}")
        return 0
    finally:
        if stored:
            stored.remove()


def plan_from_args(args: argparse.Namespace) -> dict:
    """Everything checked before training: {"path": output file, "train": train_all kwargs}.
    ValueError (one line naming the option) for bad input."""
    results = Path(args.results).expanduser()
    if args.study is not None:
        root, target, meta = _study_target(results, args.study)
    else:
        # the defaults at the largest n asked for (their lr and entropy bonus follow n)
        largest = max(resolve_tasks(ns=args.n, contexts=(), study=False).ns)
        root, target, meta = results, _file_target(args.config, n=largest), StudyRecord(name="")
    if args.policy is not None:
        target = _named({**target, "policy": args.policy}, f"--policy {args.policy!r}")
    explicit = args.n is not None or args.contexts is not None
    tasks = resolve_tasks(
        ns=args.n if args.n is not None else None if explicit else meta.ns or None,
        contexts=args.contexts or (() if explicit else meta.contexts),
        holdout=next((h for h in (args.holdout, meta.holdout) if h is not None), None),
        budget=args.sample_budget,
        study=False,
    )
    check_num_seeds(args.num_seeds)
    all_variants = variants(target, leave_one_out=args.leave_one_out)
    seeds = tuple(range(args.num_seeds))
    for v in all_variants:  # every config valid before any training
        for task in tasks.ids:
            run_config(
                values=v.settings, task=task, holdout=tasks.holdout, seeds=seeds, budget=tasks.budgets[task]
            )
    encodings = sorted({v.settings["encoding"] for v in all_variants})
    tasks.check_code(rewards=(target["reward"],), policies=(target["policy"],), encodings=encodings)
    check_writable(
        root, *(("--study", args.study) if args.study is not None else ("--results", args.results))
    )
    return {
        "path": StudyPaths(root).diagnose,
        "train": {
            "variants": all_variants,
            "tasks": tasks.ids,
            "holdout": tasks.holdout,
            "seeds": seeds,
            "budgets": tasks.budgets,
        },
    }


def _study_target(results: Path, name: str) -> tuple[Path, dict, StudyRecord]:
    """(study folder, its best config's settings, its study.json or an empty record) for --study NAME."""
    check(bool(NAME_PATTERN.match(name)), "--study", name, "a study name: letters, digits, '_', '.' and '-'")
    paths = StudyPaths(results / name)
    root, best = paths.root, paths.best_config
    check(root.is_dir(), "--study", name, f"a study folder under {results} ({root} is missing)")
    check(
        best.is_file(),
        "--study",
        name,
        f"a study with {best.relative_to(results)} (run `banditune analyze {root}` first)",
    )
    try:
        values = json.loads(best.read_text())
    except ValueError as error:
        raise BadValue("--study", name, problem=f"{best} is not valid JSON ({error})") from None
    try:
        meta = load_record(paths.study_json)
    except (OSError, ValueError):
        meta = StudyRecord(name="")
    return root, _named(values, f"--study {name!r}: {best}"), meta


def _file_target(path: str | None, *, n: int) -> dict:
    """The settings of --config FILE; with no file, the trainer's defaults at `n` (the largest
    n diagnosed: their lr and entropy bonus follow n)."""
    if path is None:
        return settings_of(TrainConfig(n=n))
    return _named(read_config_file(path), f"--config {path!r}")


def _named(values, source: str) -> dict:
    """The settings of config fields; an error names where the fields came from."""
    if not isinstance(values, dict):
        raise ValueError(f"{source}: expected a mapping of config fields")  # noqa: TRY004
    try:
        return target_settings(values)
    except BadValue as error:
        raise error.read_from(source) from None
    except (ValueError, TypeError) as error:  # unknown keys, values of the wrong type
        raise ValueError(f"{source}: {error}") from None
