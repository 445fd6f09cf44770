"""`banditune diagnose`: from the forum preset, change one axis at a time to a target config's
value (and all at once), train each on every task (each n, each context set), and write a table
of what each change fixes.

The target is a study's best config (RESULTS/NAME/report/best_config.json, written by
`banditune analyze`), a config file, or the trainer's defaults. With --leave-one-out, each
changed axis also gets "all but AXIS": the target with that axis back at the preset's value,
which shows the changes that are needed together. Every variant uses the target's
reward and device; tasks, seeds and budgets are diagnose's own. A variant that sets a group baseline
on a batch that is not a multiple of its group size rounds the batch to the nearest multiple
(its name says so). The rows go to diagnose.parquet (temp file, then rename): one per
(variant, task, seed), the columns analysis.load reads first, then the variant's settings.
"""

from __future__ import annotations

import argparse
import functools
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from contract.layout import StudyPaths
from contract.schema import DIAGNOSE_SCHEMA
from contract.schema import DIAGNOSE_SETTINGS as SETTINGS  # COMMON and every AXES field
from contract.write import write_atomic
from study.options import DEFAULT_NS, add_threads, apply_threads, check_ns, check_threads

DEFAULT_SEEDS = 3
REFERENCE = "forum"
ALL = "all changes"
# Each axis: the TrainConfig fields one variant sets together (a baseline with its settings).
AXES = {
    "encoding": ("encoding",),
    "baseline": ("baseline", "group_size", "ema_decay", "value_coef"),
    "reward_scale": ("reward_scale",),
    "lr": ("lr", "lr_schedule"),
    "entropy_coef": ("entropy_coef", "entropy_schedule"),
    "batch_size": ("batch_size", "minibatch_size"),
    "hidden": ("hidden",),
    "inputs": ("inputs",),
    "gamma": ("gamma",),
    "output_init": ("output_init",),
    "adam": ("adam_beta1", "adam_beta2"),
    "update_epochs": ("update_epochs", "clip"),
}
COMMON = ("reward", "device")  # the target's, in every variant
PER_RUN = ("n", "contexts", "holdout", "seeds", "sample_budget", "eval_every")  # diagnose's own


@dataclass(frozen=True)
class Variant:
    name: str  # "forum", "+lr=0.003", "all changes", "all but lr"
    changed: str  # the axis it changes: "" for the preset, "all" or "all but AXIS"
    settings: dict  # the TrainConfig fields of SETTINGS


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "diagnose",
        help="change the forum preset one axis at a time toward a target config",
        description=__doc__.splitlines()[0],
    )
    p.add_argument(
        "--n",
        type=int,
        nargs="+",
        default=None,
        metavar="N",
        help="bandit sizes (default: the study's with --study, else 10 100; none when"
        " --contexts is given alone)",
    )
    p.add_argument(
        "--contexts",
        nargs="+",
        default=None,
        metavar="SPEC",
        help="context sets to train on as well: digits or package.module:function (imports and"
        " runs that code; default: the study's with --study, else none)",
    )
    p.add_argument(
        "--holdout",
        type=float,
        default=None,
        metavar="F",
        help="share of each context set held out, a number in (0, 1) (default: the study's, else 0.25)",
    )
    p.add_argument(
        "--num-seeds",
        type=int,
        default=DEFAULT_SEEDS,
        metavar="S",
        help=f"seeds per variant, trained together (default: {DEFAULT_SEEDS})",
    )
    p.add_argument("--results", default="results", metavar="DIR", help="results root folder")
    target = p.add_mutually_exclusive_group()
    target.add_argument(
        "--study",
        metavar="NAME",
        help="target: RESULTS/NAME/report/best_config.json (from `banditune"
        " analyze`); the table goes to RESULTS/NAME/diagnose.parquet",
    )
    target.add_argument(
        "--config",
        metavar="FILE",
        help="target: a JSON or YAML config file (default target: the"
        " trainer's defaults); the table goes to RESULTS/diagnose.parquet",
    )
    p.add_argument(
        "--sample-budget",
        default=None,
        metavar="SPEC",
        help="samples per seed: one count or per task, e.g. 10=200k,100=3M,digits=1M"
        " (default: the trainer's default budget on each task)",
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
    """Check every input (ValueError); return the work."""
    check_threads(args.threads)
    planned = plan_from_args(args)
    return functools.partial(run, path=planned["path"], threads=args.threads, **planned["train"])


def run(*, path: Path, threads: int, **train_kwargs) -> int:
    """Train every variant, write diagnose.parquet and print the table."""
    apply_threads(threads)
    rows = train_all(**train_kwargs)
    write_atomic(pa.Table.from_pylist(rows, schema=DIAGNOSE_SCHEMA), path)
    print(format_table(rows))
    print(f"wrote {path}")
    return 0


def plan_from_args(args: argparse.Namespace) -> dict:
    """Everything checked before training: {"path": output file, "train": train_all kwargs}.
    ValueError (one line naming the option) for bad input."""
    from study.spec import check, check_writable, parse_budget
    from study.study_cmd import check_contexts, check_reward
    from trainable.contexts import DEFAULT_HOLDOUT
    from trainable.runs import default_budget, run_config

    results = Path(args.results).expanduser()
    if args.study is not None:
        root, target, meta = _study_target(results, args.study)
    else:
        # the defaults at the largest n asked for (their lr and entropy bonus follow n)
        largest = max(check_ns(args.n or DEFAULT_NS))
        root, target, meta = results, _file_target(args.config, n=largest), {}
    explicit = args.n is not None or args.contexts is not None
    study_ns = tuple(int(n) for n in meta.get("n") or ())
    ns = check_ns(
        args.n or (() if explicit else study_ns or (DEFAULT_NS if not meta.get("contexts") else ()))
    )
    contexts = tuple(args.contexts or (() if explicit else meta.get("contexts") or ()))
    holdout = args.holdout if args.holdout is not None else meta.get("holdout", DEFAULT_HOLDOUT)
    check(0 < holdout < 1, "--holdout", holdout, "a number in (0, 1)")
    tasks = (*map(str, ns), *contexts)
    check(args.num_seeds >= 1, "--num-seeds", args.num_seeds, "an integer >= 1")
    budgets = (
        {t: default_budget(t, study=False) for t in tasks}
        if args.sample_budget is None
        else parse_budget(args.sample_budget, tasks, study=False)
    )
    all_variants = variants(target, leave_one_out=args.leave_one_out)
    seeds = tuple(range(args.num_seeds))
    for v in all_variants:  # every config valid before any training
        for task in tasks:
            run_config(values=v.settings, task=task, holdout=holdout, seeds=seeds, budget=budgets[task])
    actions = check_contexts(contexts, holdout)
    check_reward(target["reward"], (*ns, *actions))
    check_writable(
        root, *(("--study", args.study) if args.study is not None else ("--results", args.results))
    )
    return {
        "path": StudyPaths(root).diagnose,
        "train": {
            "variants": all_variants,
            "tasks": tasks,
            "holdout": holdout,
            "seeds": seeds,
            "budgets": budgets,
        },
    }


def target_settings(values: dict):
    """The SETTINGS of a target given as config fields (any PER_RUN fields are dropped)."""
    from trainable import TrainConfig

    kept = {k: v for k, v in values.items() if k not in PER_RUN}
    return settings_of(TrainConfig.from_dict(kept))


def settings_of(config) -> dict:
    """A TrainConfig's SETTINGS; minibatch_size None where it is the whole batch (so that a
    variant that changes the batch size keeps one update per batch)."""
    s = {f: getattr(config, f) for f in SETTINGS}
    if s["minibatch_size"] == s["batch_size"]:
        s["minibatch_size"] = None
    return s


def variants(target: dict, *, leave_one_out: bool = False) -> list[Variant]:
    """The forum preset, one variant per axis on which `target` differs, all changes, and
    (leave_one_out) all changes but one axis, for each of those axes.
    ValueError when the target trains like the forum preset (nothing to diagnose)."""
    from trainable import from_preset

    forum = settings_of(from_preset(REFERENCE, **{k: target[k] for k in COMMON}))
    base, goal = _effective(forum), _effective(target)
    changed = {axis: [f for f in fields if base[f] != goal[f]] for axis, fields in AXES.items()}
    changed = {axis: differ for axis, differ in changed.items() if differ}
    if not changed:
        raise ValueError(
            "the target config trains like the forum preset: nothing to diagnose;"
            " expected a target (--study or --config) that differs from it"
        )
    out = [Variant(REFERENCE, "", forum)]
    for axis, differ in changed.items():
        settings, fitted = _fit_groups({**forum, **{f: target[f] for f in AXES[axis]}})
        label = ",".join(f"{f}={_show(settings[f])}" for f in differ + fitted)
        out.append(Variant(f"+{label}", axis, settings))
    out.append(Variant(ALL, "all", dict(target)))
    for axis in changed if leave_one_out else ():
        settings, fitted = _fit_groups({**target, **{f: forum[f] for f in AXES[axis]}})
        note = "".join(f" ({f}={_show(settings[f])})" for f in fitted)
        out.append(Variant(f"all but {axis}{note}", f"all but {axis}", settings))
    return out


def _effective(settings: dict) -> dict:
    """The settings that change training: a baseline's own settings only where it uses them."""
    from trainable.config import GROUP_BASELINES

    e = dict(settings)
    for field, used in (
        ("group_size", e["baseline"] in GROUP_BASELINES),
        ("ema_decay", e["baseline"] == "ema"),
        ("value_coef", e["baseline"] == "value"),
        ("clip", e["update_epochs"] > 1),
    ):
        if not used:
            e[field] = None
    return e


def _fit_groups(settings: dict) -> tuple[dict, list[str]]:
    """Round the batch to the nearest multiple of a group baseline's group size; the settings
    and the fields so changed."""
    from trainable.config import GROUP_BASELINES

    group, batch = settings["group_size"], settings["batch_size"]
    if settings["baseline"] not in GROUP_BASELINES or batch % group == 0:
        return settings, []
    fitted = max(group, group * round(batch / group))
    return {**settings, "batch_size": fitted, "minibatch_size": None}, ["batch_size"]


def train_all(
    *, variants: list[Variant], tasks, seeds, budgets: dict[str, int], holdout: float
) -> list[dict]:
    """Train every variant on every task (seeds together); one row per (variant, task, seed)."""
    from contract.schema import task_label
    from study.export import git_commit

    rows, total, start = [], len(variants) * len(tasks), time.perf_counter()
    for i, (v, task) in enumerate(((v, t) for v in variants for t in tasks), start=1):
        t0 = time.perf_counter()
        new = train_variant(v, task=task, holdout=holdout, seeds=seeds, budget=budgets[task])
        rows += [{**r, "git_commit": git_commit()} for r in new]
        shown = _means(new)
        print(
            f"[{i}/{total}] {v.name} {task_label(task).replace(' ', '')}: {shown}"
            f" ({time.perf_counter() - t0:.0f} s,"
            f" {time.perf_counter() - start:.0f} s in all)",
            file=sys.stderr,
            flush=True,
        )
    return rows


def train_variant(variant: Variant, *, task: str, holdout: float, seeds, budget: int) -> list[dict]:
    """Rows of one variant on one task; a run that diverges gives null metrics and its error."""
    from trainable import Trainer, TrainingDiverged
    from trainable.runs import run_config

    config = run_config(values=variant.settings, task=task, holdout=holdout, seeds=seeds, budget=budget)
    trainer, last, error = Trainer(config), None, None
    try:
        *_, last = trainer.run_to_budget()
    except TrainingDiverged as diverged:
        last, error = None, str(diverged)
    base = {
        "variant": variant.name,
        "changed": variant.changed,
        "task": task,
        "n": trainer.task.num_actions,
        "sample_budget": budget,
        "error": error,
        **{f: getattr(config, f) for f in SETTINGS},
    }
    return [{**base, "seed": seed, **_final(last, i)} for i, seed in enumerate(config.seeds)]


def _final(m, i: int) -> dict:
    if m is None:
        return dict.fromkeys(
            (
                "exact_match",
                "heldout_exact_match",
                "p_correct",
                "distinct_actions",
                "stuck",
                "samples_to_95",
                "best_exact_match",
                "mae",
                "samples",
                "wall_s",
            )
        )
    reached, heldout = m.samples_to_95[i], m.heldout_exact_match[i]
    return {
        "exact_match": float(m.exact_match[i]),
        "heldout_exact_match": None if math.isnan(heldout) else float(heldout),
        "p_correct": float(m.p_correct[i]),
        "distinct_actions": int(m.distinct_actions[i]),
        "stuck": int(m.stuck[i]),
        "samples_to_95": None if math.isnan(reached) else int(reached),
        "best_exact_match": float(m.best_exact_match[i]),
        "mae": float(m.mae[i]),
        "samples": int(m.samples),
        "wall_s": float(m.wall_s),
    }


def format_table(rows: list[dict]) -> str:
    """Variant x task: mean exact match (held out on a context set) and p_correct over the seeds
    (diverged runs: nan)."""
    import pandas as pd

    from analysis.breakdown import diagnosis_table
    from contract.schema import task_label

    table = diagnosis_table(pd.DataFrame(rows))
    tasks = list(dict.fromkeys(r["task"] for r in rows))
    names = {t: task_label(t).replace(" ", "") for t in tasks}
    width = max(len(v) for v in table.index)
    head = f"{'variant':<{width}}  {'changed':<12}" + "".join(
        f"  {f'exact {names[t]}':>12}  {f'p_corr {names[t]}':>12}" for t in tasks
    )
    lines = [head]
    for variant, r in table.iterrows():
        cells = "".join(f"  {r[('exact_match', t)]:>12.3f}  {r[('p_correct', t)]:>12.3f}" for t in tasks)
        lines.append(f"{variant:<{width}}  {r[('changed', '')]:<12}{cells}")
    return "\n".join(lines)


def _means(rows: list[dict]) -> str:
    if rows[0]["error"]:
        return f"diverged ({rows[0]['error']})"
    exact, p_correct = (sum(r[k] for r in rows) / len(rows) for k in ("exact_match", "p_correct"))
    return f"exact_match {exact:.3f}, p_correct {p_correct:.3f}"


def _study_target(results: Path, name: str) -> tuple[Path, dict, dict]:
    """(study folder, its best config's settings, its study.json or {}) for --study NAME."""
    import json

    from study.spec import NAME_PATTERN, check

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
        raise ValueError(f"--study {name!r}: {best} is not valid JSON ({error})") from None
    try:
        meta = json.loads(paths.study_json.read_text())
    except (OSError, ValueError):
        meta = {}
    return root, _named(values, f"--study {name!r}: {best}"), meta if isinstance(meta, dict) else {}


def _file_target(path: str | None, *, n: int) -> dict:
    """The settings of --config FILE; with no file, the trainer's defaults at `n` (the largest
    n diagnosed: their lr and entropy bonus follow n)."""
    from trainable import TrainConfig, read_config_file

    if path is None:
        return settings_of(TrainConfig(n=n))
    return _named(read_config_file(path), f"--config {path!r}")


def _named(values, source: str) -> dict:
    """The settings of config fields; an error names where the fields came from."""
    if not isinstance(values, dict):
        raise ValueError(f"{source}: expected a mapping of config fields")  # noqa: TRY004
    try:
        return target_settings(values)
    except (ValueError, TypeError) as error:
        raise ValueError(f"{source}: {error}") from None


def _show(value) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)
