"""`banditune train`: one config, all its seeds, with a progress bar and a per-seed summary.

The trainer (torch) is imported inside the functions that build or run it: the command line
imports this module to build its options.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys

from cli.common import add_num_seeds, add_threads, apply_threads, check_num_seeds, check_threads
from contract.errors import BadValue, check
from contract.knobs import BY_NAME as KNOB
from contract.knobs import KNOBS
from experiments.progress import Progress
from study.axes import AXES
from study.space import progress_line
from study.tasks import parse_count
from trainable import defaults, piecewise
from trainable.config import PRESETS, TrainConfig, read_config_file
from trainable.piecewise import SCHEDULE_KEY, parse_schedule


def samples(text: str) -> int:
    """A count of samples as study and diagnose take it: 300000, 300k, 3M."""
    value = parse_count(text)
    if value is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not allowed; expected a positive integer (300000, 300k, 3M)"
        )
    return value


# One option per knob of contract.knobs but seeds (--seeds, --num-seeds): its name with dashes.
# Counts of samples also take 300k, 3M.
CONFIG_OPTIONS = {
    k.name: samples if k.name in ("sample_budget", "eval_every") else k.type
    for k in KNOBS
    if k.type is not tuple
}


def config_help(name: str) -> str:
    """A knob's meaning, allowed values and default (contract.knobs), as `--help` shows it."""
    knob = KNOB[name]
    text = f"{knob.help}: {knob.allows}" if knob.choices else f"{knob.help}; {knob.allows}"
    return f"{text} (default: {default_text(name)})"


def default_text(name: str) -> str:
    """A knob's default in words (a None default: its rule in n from trainable.defaults)."""
    if name == "sample_budget":
        return (
            f"{defaults.SAMPLES_PER_INPUT:,} per input, between {defaults.MIN_SAMPLE_BUDGET:,}"
            f" and {defaults.MAX_SAMPLE_BUDGET:,}; {defaults.CONTEXTS_SAMPLE_BUDGET:,} with --contexts"
        )
    if name == "lr":
        return (
            f"falling with n, {defaults.default_lr(10):.2g} at n=10, {defaults.default_lr(100):.2g} at"
            f" n=100, {defaults.default_lr(1000):.2g} at n=1000; {defaults.CONTEXTS_LR:g} with --contexts"
        )
    if name == "entropy_coef":
        return f"{defaults.ENTROPY_COEF:g}; {defaults.CONTEXTS_ENTROPY_COEF:g} with --contexts"
    knob = KNOB[name]
    return knob.default_text or str(knob.default)


def markdown_table() -> str:
    """`train`'s knob options as the Markdown table docs/trainer.md shows (`python -m cli.train`
    prints it): the same meaning, allowed values and default as `--help`."""
    lines = ["| option | default | allowed | what it is |", "|---|---|---|---|"]
    for name in CONFIG_OPTIONS:
        knob = KNOB[name]
        cells = (f"`{knob.option}`", default_text(name), knob.allows, knob.help)
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "train",
        help="train one config (all its seeds) and report",
        description="Train one config, all its seeds together; values come from the trainer's"
        " defaults < --preset < --config < the options.",
    )
    parser.add_argument(
        "--config", metavar="FILE", help="a JSON or YAML file of TrainConfig fields (default: none)"
    )
    parser.add_argument(
        "--preset",
        metavar="NAME",
        help=f"start from a preset: {', '.join(PRESETS)} (default: none, the trainer's defaults)",
    )
    for name, kind in CONFIG_OPTIONS.items():
        parser.add_argument(KNOB[name].option, dest=name, type=kind, default=None, help=config_help(name))
    seeds = parser.add_mutually_exclusive_group()
    seeds.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=None,
        metavar="SEED",
        help="seeds to train together, distinct integers >= 0 (default: 0)",
    )
    add_num_seeds(seeds, what="train seeds 0..S-1", shown="one seed, 0")
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the result as one JSON line, no progress (default: a table)",
    )
    add_threads(parser)
    parser.set_defaults(plan=plan)


def config_from_args(args: argparse.Namespace):
    """The TrainConfig that preset < config file < flags describe, and the config file's lr and
    entropy schedule (trainable.piecewise; None without one). ValueError if invalid."""
    values: dict = {}
    from_file: dict = {}
    if args.preset is not None:
        check(args.preset in PRESETS, "--preset", args.preset, f"one of {', '.join(PRESETS)}")
        values.update(PRESETS[args.preset])
    if args.config is not None:
        from_file = read_config_file(args.config)
        values.update(from_file)
    schedule = values.pop(SCHEDULE_KEY, None)
    flags = {k: getattr(args, k) for k in CONFIG_OPTIONS if getattr(args, k) is not None}
    values.update(flags)
    if args.num_seeds is not None:
        check_num_seeds(args.num_seeds)
        values["seeds"] = list(range(args.num_seeds))
    elif args.seeds is not None:
        values["seeds"] = args.seeds
    try:
        config = TrainConfig.from_dict(values)
        return config, None if schedule is None else parse_schedule(schedule)
    except BadValue as error:  # a value the config file gave: named as the file's field
        if args.config is not None and error.field in set(from_file) - set(flags):
            raise error.read_from(f"--config {args.config!r}") from None
        raise
    except ValueError as error:  # unknown keys: only a config file has them
        raise ValueError(f"--config {args.config!r}: {error}") from None


def budget_note(args: argparse.Namespace, config) -> str | None:
    """What a config file's fixed budget trains when --n moves it to another n, else None."""
    if args.config is None or args.sample_budget is not None:
        return None
    given = read_config_file(args.config)
    fixed = given.get("sample_budget")
    if "n" not in given or given["n"] == config.n or isinstance(fixed, dict) or fixed is None:
        return None
    return (
        f"note: --config {args.config} fixes sample_budget={fixed:,} for n={given['n']}; at n={config.n}"
        f" this trains {fixed:,} samples per seed ({fixed / config.n:,.0f} per input, against"
        f" {fixed / given['n']:,.0f} at n={given['n']}); --sample-budget sets another"
    )


def plan(args: argparse.Namespace):
    """Check every input (ValueError) and build the trainer; return the work."""
    from trainable import Trainer

    check_threads(args.threads)
    config, schedule = config_from_args(args)
    note = budget_note(args, config)
    if note:
        print(f"banditune train: {note}", file=sys.stderr)
    trainer = Trainer(config)
    return functools.partial(run, trainer, schedule=schedule, as_json=args.json, threads=args.threads)


def run(trainer, *, schedule=None, as_json: bool, threads: int) -> int:
    """Train to the budget (switching the lr and entropy bonus where `schedule`, segments of
    trainable.piecewise, says) with progress on stderr; print the summary or one JSON line."""
    apply_threads(threads)
    config = trainer.config
    metrics = None
    steps = piecewise.run_to_budget(trainer, schedule) if schedule else trainer.run_to_budget()
    with Progress(
        total=config.sample_budget, desc=_task_label(config), unit="sample", disable=as_json
    ) as progress:
        for metrics in steps:
            progress.update(
                trainer.samples,
                exact_match=float(metrics.exact_match.mean()),
                samples_per_s=f"{metrics.samples_per_s:,.0f}",
            )
    task = trainer.task
    result = _json_result(config, metrics, task)
    if schedule:
        result["schedule"] = piecewise.to_json(schedule)
    print(json.dumps(result) if as_json else _summary(config, metrics, task, schedule))
    return 0


RESULT_KEYS = (
    "exact_match",
    "p_correct",
    "mae",
    "distinct_actions",
    "stuck",
    "samples_to_95",
    "samples_to_99",
    "heldout_exact_match",
)


def _json_result(config, metrics, task) -> dict:
    from trainable.contexts import SPLIT_SEED

    d = metrics.to_dict()
    contexts = {} if config.contexts is None else {"holdout": config.holdout, "split_seed": SPLIT_SEED}
    return {
        "task": task.name,
        "n": task.num_actions,
        **contexts,
        "samples": metrics.samples,
        "seeds": list(config.seeds),
        **{k: d[k] for k in RESULT_KEYS},
        "samples_per_s": metrics.samples_per_s,
        "wall_s": metrics.wall_s,
    }


def _task_label(config) -> str:
    """'n=100' for the integer bandit, 'contexts=digits' for a context set."""
    return f"n={config.n}" if config.contexts is None else f"contexts={config.contexts}"


def _summary(config, metrics, task, schedule=None) -> str:
    from trainable.trainer import STUCK_PROB

    d = metrics.to_dict()
    contexts = config.contexts is not None
    inputs = (
        f"contexts={task.name} ({task.train_size} trained on, {task.num_contexts - task.train_size}"
        f" held out; {task.feature_dim} features, {task.num_actions} actions)"
        if contexts
        else f"n={config.n}"
    )
    settings = {a.name: getattr(config, a.name) for a in AXES if not (contexts and a.name == "encoding")}
    lines = [
        f"{inputs} reward={config.reward} {progress_line(settings)}",
        *([f"schedule: {piecewise.describe(schedule)}"] if schedule else []),
        f"{metrics.samples:,} samples per seed in {metrics.wall_s:.1f} s"
        f" ({metrics.samples_per_s:,.0f} samples/s per seed); stuck: inputs whose greedy"
        f" action is wrong with probability >= {STUCK_PROB:g}",
        f"{'seed':>6} {'exact_match':>12} {'p_correct':>10} {'mae':>8} {'distinct':>9}"
        f" {'stuck':>6} {'samples_to_95':>14} {'samples_to_99':>14}"
        + (f" {'heldout_exact':>14}" if contexts else ""),
    ]
    for i, seed in enumerate(config.seeds):
        lines.append(
            f"{seed:>6} {d['exact_match'][i]:>12.3f} {d['p_correct'][i]:>10.3f}"
            f" {d['mae'][i]:>8.3f} {d['distinct_actions'][i]:>9} {d['stuck'][i]:>6}"
            f" {_reached(d['samples_to_95'][i]):>14} {_reached(d['samples_to_99'][i]):>14}"
            + (f" {d['heldout_exact_match'][i]:>14.3f}" if contexts else "")
        )
    return "\n".join(lines)


def _reached(samples: int | None) -> str:
    return "never" if samples is None else f"{samples:,}"


if __name__ == "__main__":
    print(markdown_table())
