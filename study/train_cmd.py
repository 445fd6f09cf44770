"""`banditune train`: one config, all its seeds, with a progress bar and a per-seed summary."""

from __future__ import annotations

import argparse
import json
import re
import sys

# Options that map one-to-one onto TrainConfig fields (option name -> type).
CONFIG_OPTIONS = {
    "n": int,
    "reward": str,
    "encoding": str,
    "baseline": str,
    "reward_scale": str,
    "lr": float,
    "entropy_coef": float,
    "batch_size": int,
    "hidden": int,
    "group_size": int,
    "sample_budget": int,
    "eval_every": int,
    "device": str,
}


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("train", help="train one config (all its seeds) and report")
    parser.add_argument("--config", metavar="FILE", help="JSON or YAML file of config fields")
    parser.add_argument("--preset", metavar="NAME", help="forum or forum-original")
    for name, kind in CONFIG_OPTIONS.items():
        parser.add_argument("--" + name.replace("_", "-"), dest=name, type=kind, default=None)
    seeds = parser.add_mutually_exclusive_group()
    seeds.add_argument("--seeds", type=int, nargs="+", default=None, metavar="SEED")
    seeds.add_argument("--num-seeds", type=int, default=None, metavar="S")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON line")
    parser.set_defaults(handler=run)


def config_from_args(args: argparse.Namespace):
    """The TrainConfig that preset < config file < flags describe (ValueError if invalid)."""
    from trainable import PRESETS, TrainConfig, read_config_file

    values: dict = {}
    if args.preset is not None:
        if args.preset not in PRESETS:
            raise ValueError(f"--preset {args.preset!r} is not allowed; expected one of"
                             f" {', '.join(PRESETS)}")
        values.update(PRESETS[args.preset])
    if args.config is not None:
        values.update(read_config_file(args.config))
    values.update({k: getattr(args, k) for k in CONFIG_OPTIONS if getattr(args, k) is not None})
    if args.num_seeds is not None:
        if args.num_seeds < 1:
            raise ValueError(f"--num-seeds {args.num_seeds} is not allowed; expected an integer"
                             " >= 1")
        values["seeds"] = list(range(args.num_seeds))
    elif args.seeds is not None:
        values["seeds"] = args.seeds
    try:
        return TrainConfig.from_dict(values)
    except ValueError as error:
        raise ValueError(as_option(str(error))) from None


def as_option(message: str) -> str:
    """'entropy_coef=-1 is ...' -> '--entropy-coef=-1 is ...': name the option the user typed."""
    match = re.match(r"^([a-z_0-9]+)=", message)
    if not match or match.group(1) not in {*CONFIG_OPTIONS, "seeds"}:
        return message
    return "--" + match.group(1).replace("_", "-") + message[len(match.group(1)):]


def run(args: argparse.Namespace) -> int:
    from trainable import Trainer

    config = config_from_args(args)
    try:
        trainer = Trainer(config)
    except ValueError as error:
        raise ValueError(as_option(str(error))) from None
    metrics = _train_with_progress(trainer, quiet=args.json)
    if args.json:
        print(json.dumps(_json_result(config, metrics)))
    else:
        print(_summary(config, metrics))
    return 0


def _train_with_progress(trainer, *, quiet: bool):
    from tqdm import tqdm

    config = trainer.config
    metrics = None
    with tqdm(total=config.sample_budget, unit="sample", unit_scale=True, file=sys.stderr,
              disable=quiet, desc=f"n={config.n}") as bar:
        while trainer.samples < config.sample_budget:
            before = trainer.samples
            metrics = trainer.run(min(config.eval_every, config.sample_budget - trainer.samples))
            bar.update(trainer.samples - before)
            bar.set_postfix(exact_match=f"{metrics.exact_match.mean():.3f}",
                            samples_per_s=f"{metrics.samples_per_s:,.0f}")
    return metrics


def _json_result(config, metrics) -> dict:
    d = metrics.to_dict()
    keys = ("exact_match", "p_correct", "mae", "distinct_actions", "samples_to_95")
    return {"n": config.n, "samples": metrics.samples, "seeds": list(config.seeds),
            **{k: d[k] for k in keys},
            "samples_per_s": metrics.samples_per_s, "wall_s": metrics.wall_s}


def _summary(config, metrics) -> str:
    d = metrics.to_dict()
    lines = [
        f"n={config.n} reward={config.reward} encoding={config.encoding}"
        f" baseline={config.baseline} reward_scale={config.reward_scale} lr={config.lr:g}"
        f" entropy_coef={config.entropy_coef:g} batch_size={config.batch_size}",
        f"{metrics.samples:,} samples per seed in {metrics.wall_s:.1f} s"
        f" ({metrics.samples_per_s:,.0f} samples/s per seed)",
        f"{'seed':>6} {'exact_match':>12} {'p_correct':>10} {'mae':>8} {'distinct':>9}"
        f" {'samples_to_95':>14}",
    ]
    for i, seed in enumerate(config.seeds):
        reached = d["samples_to_95"][i]
        lines.append(
            f"{seed:>6} {d['exact_match'][i]:>12.3f} {d['p_correct'][i]:>10.3f}"
            f" {d['mae'][i]:>8.3f} {d['distinct_actions'][i]:>9}"
            f" {'never' if reached is None else f'{reached:,}':>14}")
    return "\n".join(lines)
