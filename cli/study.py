"""`banditune study`: run or resume a Ray Tune + Optuna study over the trainer's axes.

Everything is validated here, before Ray starts; the study (study.ray_runner) tells what
happens (study.events) and cli.study_lines prints it. Ray, pandas and torch are imported inside
the functions that run the study or check user code (cli/: building the parser stays light).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import shlex

from cli.common import add_num_seeds, add_sample_budget, add_tasks, check_num_seeds
from cli.study_lines import Lines, print_outcome  # Lines: also what older studies' tuner.pkl names
from contract.errors import as_option
from study import storage as storage_io
from study.axes import AXES, BY_NAME, LOG, default_space, shown
from study.objective import OBJECTIVES
from study.shipping import on_cluster, user_code
from study.space import check_space, with_defaults
from study.spec import (
    DEFAULT_NAME,
    DEFAULT_NUM_SEEDS,
    DEFAULT_RESULTS,
    SAMPLERS,
    SCHEDULERS,
    Study,
    StudySpec,
    check,
    check_resources,
    default,
    load_saved_spec,
    prepare_folder,
)
from study.tasks import resolve_tasks

# Laptop-sized: about 10 minutes on 2 CPU cores. Scale up with --trials, --sample-budget and
# --num-seeds on a bigger machine or cluster.


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "study", help="run or resume a Ray Tune + Optuna study", description=__doc__.splitlines()[0]
    )
    p.add_argument(
        "--name",
        default=DEFAULT_NAME,
        help=f"study folder name under --results (default: {DEFAULT_NAME})",
    )
    p.add_argument(
        "--results",
        default=DEFAULT_RESULTS,
        metavar="DIR",
        help=f"results root folder (default: {DEFAULT_RESULTS})",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue the study --name (its settings come from its study.json)",
    )
    # The study's definition: None means "the default" (or, with --resume, "as saved").
    add_tasks(p, defaults="")
    _add_search_options(p)
    _add_space_options(p)
    _add_where_options(p)
    p.set_defaults(plan=plan)


def _add_search_options(p: argparse.ArgumentParser) -> None:
    """How much the study trains: trials, seeds, budgets, reports, the reward, the sampler's seed."""
    p.add_argument(
        "--trials",
        type=int,
        default=None,
        help=f"Optuna trials, an integer >= 1 (default: {default('trials')})",
    )
    add_num_seeds(p, what="seeds per config, trained together", shown=DEFAULT_NUM_SEEDS)
    add_sample_budget(p, default="3000*n and at least 30k: 30k at n=10, 300k at n=100; 300k per context set")
    p.add_argument(
        "--reports",
        type=int,
        default=None,
        metavar="R",
        help=f"reports per trial; each advances every n by 1/R of its budget (default: {default('reports')})",
    )
    p.add_argument(
        "--reward",
        default=None,
        help="abs, squared, exact or package.module:function (imports and runs"
        f" that code; default: {default('reward')})",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=None,
        metavar="SEARCH_SEED",
        help=f"seed of the sampler, an integer >= 0 (default: {default('search_seed')})",
    )
    p.add_argument(
        "--sampler",
        default=None,
        choices=SAMPLERS,
        help="Optuna's sampler: tpe (random for its first trials), random, qmc"
        f" (scrambled Sobol), gp (Gaussian process; random for its first 10 trials); default:"
        f" {default('sampler')}",
    )


def _add_space_options(p: argparse.ArgumentParser) -> None:
    """The space (one option per axis of study.axes), the objective, the scheduler, the warm start."""
    for axis in AXES:
        add_axis_option(p, axis)
    p.add_argument(
        "--objective",
        default=None,
        choices=OBJECTIVES,
        help="hold: exact match held over the last third of the budget, and the area"
        " under its curve; speed: reaching 0.99 early and staying there, searched over small"
        " batches, larger lrs and the speed knobs unless the options above narrow it"
        f" (default: {default('objective')})",
    )
    p.add_argument(
        "--scheduler",
        default=None,
        choices=SCHEDULERS,
        help="asha: Tune's ASHA lets a third of the trials go on at reports 1, 3,"
        " 9, ...; fifo: every trial trains its whole budget (a sweep: every config counts); pbt:"
        " Tune's population-based training, the trials (the population, from the sampler) train"
        " their whole budget and every 2 reports the bottom quarter continues from a top-quarter"
        " trial's checkpoint with its lr and entropy bonus perturbed"
        f" (default: {default('scheduler')})",
    )
    p.add_argument(
        "--warm-start",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="--warm-start: the first trial is the trainer's defaults, and the space also holds"
        " their values (such as the scale range); --no-warm-start (the default): the search"
        " finds its winners on its own",
    )


def _add_where_options(p: argparse.ArgumentParser) -> None:
    """Where and how wide the study runs (may change on --resume)."""
    p.add_argument(
        "--max-concurrent",
        type=int,
        default=None,
        metavar="K",
        help="trials in flight at most, an integer >= 1 (default: as many as the cluster holds at"
        " the start, its GPUs or CPUs over one trial's share; printed when the study starts)",
    )
    p.add_argument(
        "--gpus-per-trial",
        type=float,
        default=default("gpus_per_trial"),
        metavar="F",
        help="GPU share per trial when the cluster has GPUs"
        f" (default: {default('gpus_per_trial'):g}; 0 runs CPU trials)",
    )
    p.add_argument(
        "--cpus-per-trial",
        type=float,
        default=default("cpus_per_trial"),
        metavar="C",
        help=f"CPUs per trial (default: {default('cpus_per_trial'):g})",
    )
    p.add_argument(
        "--address",
        default=None,
        help="an existing Ray cluster: auto or HOST:PORT (default: RAY_ADDRESS if set, else an embedded Ray)",
    )
    p.add_argument(
        "--storage",
        default=None,
        metavar="URI",
        help="Ray's experiment storage for multi-node clusters, e.g."
        " s3://bucket/prefix (default: inside the study folder)",
    )


OPTION_OF = {
    "ns": "--n",
    "contexts": "--contexts",
    "holdout": "--holdout",
    "seeds": "--num-seeds",
    "sample_budget": "--sample-budget",
    "reports": "--reports",
    "trials": "--trials",
    "reward": "--reward",
    "search_seed": "--seed",
    "space": "/".join(axis.knob.option for axis in AXES),
    "warm_start": "--warm-start/--no-warm-start",
    "scheduler": "--scheduler",
    "objective": "--objective",
    "sampler": "--sampler",
}


def add_axis_option(parser: argparse.ArgumentParser, axis) -> None:
    """`--AXIS` (and its older plural name) from the table of axes."""
    names = [axis.knob.option, *([axis.alias] if axis.alias else [])]
    default, speed = shown(axis.default), shown(axis.speed or ())
    with_speed = f"; with --objective speed: {speed}" if speed else ""
    if axis.kind == LOG:
        parser.add_argument(
            *names,
            dest=axis.name,
            type=float,
            nargs=2,
            default=None,
            metavar=("LOW", "HIGH"),
            help=f"search {axis.knob.help} log-uniformly in [LOW, HIGH]; LOW = HIGH holds it"
            f" (default: {default}{with_speed})",
        )
        return
    allowed = f"from {axis.names}; " if axis.names else ""
    parser.add_argument(
        *names,
        dest=axis.name,
        type=int if axis.knob.type is int else float if axis.valid else str,
        nargs="+",
        default=None,
        metavar="V",
        help=f"search {axis.knob.help} over these values ({allowed}one value holds it;"
        f" default: {default}{with_speed})",
    )


def spec_from_args(args: argparse.Namespace, base: StudySpec | None = None) -> StudySpec:
    """The StudySpec of the flags given, else `base`'s values (on --resume), else the
    defaults (study.spec). ValueError for a bad value."""

    def pick(option, field):
        value = getattr(args, option)
        if value is not None:
            return value
        if base is not None:
            return getattr(base, field)
        return default(field)

    tasks = resolve_tasks(
        ns=args.n if args.n is not None else base.ns if base else None,
        contexts=pick("contexts", "contexts"),
        holdout=pick("holdout", "holdout"),
        budget=args.sample_budget,
        saved=base.sample_budget if base else None,
        study=True,
    )
    num_seeds = (
        args.num_seeds if args.num_seeds is not None else len(base.seeds) if base else DEFAULT_NUM_SEEDS
    )
    trials, reports, seed = pick("trials", "trials"), pick("reports", "reports"), pick("seed", "search_seed")
    check(trials >= 1, "--trials", trials, "an integer >= 1")
    check_num_seeds(num_seeds)
    check(reports >= 1, "--reports", reports, "an integer >= 1")
    check(seed >= 0, "--seed", seed, "an integer >= 0")
    warm_start = pick("warm_start", "warm_start")
    objective = pick("objective", "objective")
    space = _space(args, base, objective=objective, warm_start=warm_start)
    scheduler, sampler = pick("scheduler", "scheduler"), pick("sampler", "sampler")
    if scheduler == "pbt":
        _check_pbt(space, warm_start=warm_start)
    reward = pick("reward", "reward")
    _check_policy_knobs(space)
    tasks.check_code(rewards=(reward,), policies=space["policy"], encodings=space["encoding"])
    return StudySpec(
        ns=tasks.ns,
        seeds=tuple(range(num_seeds)),
        sample_budget=tasks.budgets,
        reports=reports,
        trials=trials,
        reward=reward,
        search_seed=seed,
        space=space,
        warm_start=warm_start,
        contexts=tasks.contexts,
        holdout=tasks.holdout,
        scheduler=scheduler,
        objective=objective,
        sampler=sampler,
    )


def _space(args: argparse.Namespace, base: StudySpec | None, *, objective: str, warm_start: bool) -> dict:
    """The space the axis options give (each one not given: its default), else `base`'s."""
    given = {axis.name: getattr(args, axis.name) for axis in AXES}
    if base is not None and all(v is None for v in given.values()):
        return base.space
    space = check_space(given, defaults=default_space(objective))
    if warm_start:  # the warm start, the trainer's defaults, must be a point of the space
        space = {**with_defaults(space), **{k: v for k, v in space.items() if given[k] is not None}}
    return space


def _check_pbt(space: dict, *, warm_start: bool) -> None:
    """PBT's population is the sampler's (no warm start) and it perturbs the lr or the entropy bonus."""
    check(
        not warm_start,
        "--warm-start",
        True,
        "no warm start with --scheduler pbt (its population is the sampler's)",
    )
    mutable = [a for a in ("lr", "entropy_coef") if len(set(space[a])) > 1]
    check(bool(mutable), "--scheduler", "pbt", "asha or fifo when --lr and --entropy-coef are both held")


def _check_policy_knobs(space: dict) -> None:
    """A policy other than mlp has no output layer for output_init and a fourier action encoding
    to shape (trainable.policy): ValueError naming the knob's option."""
    others = [p for p in space["policy"] if p != "mlp"]
    for name, value in (("output_init", 1.0), ("action_encoding", "onehot")):
        values = space[name]
        check(
            not others or tuple(values) == (value,),
            BY_NAME[name].knob.option,
            " ".join(map(str, values)),
            f"only {value} with --policy {' '.join(others)} (it shapes the built-in mlp's output layer)",
        )


def plan(args: argparse.Namespace):
    """Check every input and prepare the study folder (ValueError); return the work."""
    resources = check_resources(
        gpus_per_trial=args.gpus_per_trial,
        cpus_per_trial=args.cpus_per_trial,
        address=args.address,
        storage=args.storage,
        max_concurrent=args.max_concurrent,
    )
    if args.resume:
        paths, fetched = prepare_folder(args.results, args.name, resume=True, storage=args.storage)
        if fetched:
            copy = storage_io.join(args.storage, args.name)
            where = f"{paths.root.parent}: fetched its {fetched} files from {copy}"
            print(f"study {args.name!r} was not in {where}", flush=True)
        saved, meta = load_saved_spec(paths)
        spec = spec_from_args(args, base=saved)
        if args.storage is not None:
            check(
                meta.ray_storage == storage_io.join(args.storage, args.name),
                "--storage",
                args.storage,
                f"the saved study's Ray storage ({meta.ray_storage}), or none",
            )
        for field, option in OPTION_OF.items():
            check(
                getattr(spec, field) == getattr(saved, field),
                option,
                _shown(getattr(spec, field)),
                f"the saved study's value {_shown(getattr(saved, field))} (drop the option"
                " to resume, or start a new --name)",
            )
    else:
        spec = spec_from_args(args)
    if args.storage is not None:
        storage_io.check_writable(args.storage, option="--storage", shown=args.storage)
    if on_cluster(args.address):  # the nodes share no files with this machine
        shipped = user_code(reward=spec.reward, contexts=spec.contexts, policies=spec.space["policy"])
        resources = dataclasses.replace(resources, py_modules=shipped)
    if not args.resume:
        paths, _ = prepare_folder(args.results, args.name, resume=False)
    study = Study(args.name, spec, paths, resources, resume=args.resume, command=_command(args))
    return functools.partial(run, study)


def run(study: Study) -> int:
    """Run the study, printing what happens (cli.study_lines); its exit status."""
    from study.ray_runner import run_study

    return print_outcome(study, run_study(study, on_event=Lines(study)))


def _command(args: argparse.Namespace) -> str:
    """The command line as given (every option that was set), for study.json."""
    parts = ["banditune", "study"]
    for key, value in vars(args).items():
        if key == "warm_start" and value is not None:
            parts.append("--warm-start" if value else "--no-warm-start")
            continue
        if key in ("plan", "command") or value is None or value is False:
            continue
        parts.append(as_option(key))
        if isinstance(value, list):
            parts.extend(map(str, value))
        elif value is not True:
            parts.append(str(value))
    return shlex.join(parts)


def _shown(value):
    """A spec value as the user would type it."""
    if isinstance(value, (tuple, list)):
        return " ".join(map(str, value))
    if isinstance(value, dict):
        return ",".join(
            f"{k}={' '.join(map(str, v)) if isinstance(v, tuple) else v}" for k, v in value.items()
        )
    return value
