"""The Optuna search space (define-by-run) and how a sampled point becomes trainer settings.

Every parameter keeps one type: categorical strings or ints, floats on a log scale.
`entropy_coef` is log-uniform with no on/off flag: a flag for exactly zero spent half of a
pilot's trials on a value that never wins at n=100.
`group_size` is sampled only for the baselines that use groups (rloo, grpo).
"""

from __future__ import annotations

from trainable.config import GROUP_BASELINES

# Bounds from evidence: the first study's n=10 winners crowded its lr bound 3e-2, so lr now goes
# to 1e-1; in this round's five pilot studies (406 trials, 300k-500k samples at n=100) no lr
# below 1e-3 reached 0.6 at n=100, and no entropy bonus above 3 passed 0.65 there (winners sit at
# 0.3-1.2 in unit-scale advantages; below 0.01, none passed 0.4).
LR = (1e-3, 1e-1)
ENTROPY_COEF = (0.03, 3.0)
GROUP_SIZES = (2, 4, 8, 16)
BATCH_SIZES = (64, 128, 256, 512, 1024)
HIDDEN = (32, 64, 128, 256)
# The speed knobs (trainable.init, trainable.optimizer, trainable.epochs): categorical, each held
# at the trainer's default unless a study lists more values; a held one is not an Optuna parameter.
SPEED_AXES = {"output_init": 1.0, "adam_beta1": 0.9, "adam_beta2": 0.999, "update_epochs": 1}
# The numeric part of the space; a study may narrow it (`--lr-range`, `--batch-sizes`, ...).
DEFAULT_RANGES = {
    "lr": LR,
    "entropy_coef": ENTROPY_COEF,
    "batch_size": BATCH_SIZES,
    "hidden": HIDDEN,
    "group_size": GROUP_SIZES,
    **{key: (value,) for key, value in SPEED_AXES.items()},
}
# `--objective speed`'s space, from trials by hand at n=10 and 100 (docs/FINDINGS.md, "How fast"):
# batches of 8-64 with an lr of 0.02-0.1 reached 0.99 soonest at n=10, a uniform start
# (output_init 0) left fewer inputs stuck there, beta1 0 or beta2 0.99 passed 0.99 at n=100 in
# 60k samples where Adam's defaults did not (beta2 0.9 never learned, so it is left out), and
# 4 clipped steps per batch held at n=10 where one step left inputs stuck.
SPEED_RANGES = {
    **DEFAULT_RANGES,
    "lr": (3e-3, 0.3),
    "entropy_coef": (0.1, 3.0),
    "batch_size": (8, 16, 32, 64, 128, 256),
    "hidden": (64, 128, 256),
    "group_size": (2, 4, 8),
    "output_init": (0.0, 1.0),
    "adam_beta1": (0.0, 0.5, 0.9),
    "adam_beta2": (0.99, 0.999),
    "update_epochs": (1, 2, 4),
}


def search_space(
    trial, *, encodings, baselines, reward_scales, lr_schedules, entropy_schedules, ranges=DEFAULT_RANGES
) -> dict:
    """Define-by-run space for OptunaSearch (bind the choices with functools.partial); returns
    the speed knobs held at one value, as constants."""
    trial.suggest_categorical("encoding", list(encodings))
    baseline = trial.suggest_categorical("baseline", list(baselines))
    trial.suggest_categorical("reward_scale", list(reward_scales))
    trial.suggest_float("lr", *ranges["lr"], log=True)
    trial.suggest_categorical("lr_schedule", list(lr_schedules))
    trial.suggest_float("entropy_coef", *ranges["entropy_coef"], log=True)
    trial.suggest_categorical("entropy_schedule", list(entropy_schedules))
    trial.suggest_categorical("batch_size", list(ranges["batch_size"]))
    trial.suggest_categorical("hidden", list(ranges["hidden"]))
    if baseline in GROUP_BASELINES:
        trial.suggest_categorical("group_size", list(ranges["group_size"]))
    held = {}
    for key in SPEED_AXES:
        values = ranges.get(key, DEFAULT_RANGES[key])
        if len(values) > 1:
            trial.suggest_categorical(key, list(values))
        else:
            held[key] = values[0]
    return held


def default_point(
    *, n: int, encodings, baselines, reward_scales, lr_schedules, entropy_schedules, ranges=DEFAULT_RANGES
) -> dict | None:
    """The trainer's defaults at `n` (their lr and entropy bonus follow n) as a point of the
    space (the search's first trial), or None when the axes or ranges leave them out."""
    from trainable import TrainConfig

    d = TrainConfig(n=n)
    chosen = (
        (d.encoding, encodings),
        (d.baseline, baselines),
        (d.reward_scale, reward_scales),
        (d.lr_schedule, lr_schedules),
        (d.entropy_schedule, entropy_schedules),
    )
    numbers = ((d.lr, "lr"), (d.entropy_coef, "entropy_coef"))
    sizes = ((d.batch_size, "batch_size"), (d.hidden, "hidden"), (d.group_size, "group_size"))
    if (
        any(value not in values for value, values in chosen)
        or any(not ranges[key][0] <= value <= ranges[key][1] for value, key in numbers)
        or any(value not in ranges[key] for value, key in sizes)
    ):
        return None
    point = {
        "encoding": d.encoding,
        "baseline": d.baseline,
        "reward_scale": d.reward_scale,
        "lr": d.lr,
        "lr_schedule": d.lr_schedule,
        "entropy_coef": d.entropy_coef,
        "entropy_schedule": d.entropy_schedule,
        "batch_size": d.batch_size,
        "hidden": d.hidden,
    }
    if d.baseline in GROUP_BASELINES:
        point["group_size"] = d.group_size
    for key in SPEED_AXES:
        values = ranges.get(key, DEFAULT_RANGES[key])
        if getattr(d, key) not in values:
            return None
        if len(values) > 1:
            point[key] = getattr(d, key)
    return point


def with_defaults(axes: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """`axes` with the trainer's default value added to each axis that lacks it (so that the
    warm start, the defaults, is a point of the space)."""
    from trainable import TrainConfig

    d = TrainConfig()
    defaults = {
        "encodings": d.encoding,
        "baselines": d.baseline,
        "reward_scales": d.reward_scale,
        "lr_schedules": d.lr_schedule,
        "entropy_schedules": d.entropy_schedule,
    }
    return {
        axis: values if defaults[axis] in values else (*values, defaults[axis])
        for axis, values in axes.items()
    }


def describe(axes: dict[str, tuple[str, ...]], ranges: dict[str, tuple] = DEFAULT_RANGES) -> dict:
    """The space as plain JSON, for study.json."""
    return {
        "encoding": {"categorical": list(axes["encodings"])},
        "baseline": {"categorical": list(axes["baselines"])},
        "reward_scale": {"categorical": list(axes["reward_scales"])},
        "lr": {"log_uniform": list(ranges["lr"])},
        "lr_schedule": {"categorical": list(axes["lr_schedules"])},
        "entropy_coef": {"log_uniform": list(ranges["entropy_coef"])},
        "entropy_schedule": {"categorical": list(axes["entropy_schedules"])},
        "batch_size": {"categorical": list(ranges["batch_size"])},
        "hidden": {"categorical": list(ranges["hidden"])},
        "group_size": {
            "categorical": list(ranges["group_size"]),
            "when": "baseline in " + ", ".join(GROUP_BASELINES),
            "otherwise": 1,
        },
        **{key: {"categorical": list(ranges.get(key, DEFAULT_RANGES[key]))} for key in SPEED_AXES},
    }


def axis_values(point: dict) -> dict:
    """A sampled point (or a preset) -> the trainer fields of AXIS_COLUMNS.

    `group_size` is 1 where the baseline does not use groups (the trainer ignores it there);
    `output_init`, `adam_beta1`, `adam_beta2` and `update_epochs` are the trainer's defaults where
    the point lacks them (a preset, a study from before their axes).
    """
    uses_groups = point["baseline"] in GROUP_BASELINES
    entropy = point.get("entropy_coef", 0.0)
    return {
        "encoding": point["encoding"],
        "baseline": point["baseline"],
        "reward_scale": point["reward_scale"],
        "lr": float(point["lr"]),
        "lr_schedule": point.get("lr_schedule", "constant"),
        "entropy_coef": float(entropy),
        "entropy_schedule": point.get("entropy_schedule", "constant"),
        "batch_size": int(point["batch_size"]),
        "hidden": int(point["hidden"]),
        "group_size": int(point["group_size"]) if uses_groups else 1,
        "output_init": float(point.get("output_init", SPEED_AXES["output_init"])),
        "adam_beta1": float(point.get("adam_beta1", SPEED_AXES["adam_beta1"])),
        "adam_beta2": float(point.get("adam_beta2", SPEED_AXES["adam_beta2"])),
        "update_epochs": int(point.get("update_epochs", SPEED_AXES["update_epochs"])),
    }


def train_kwargs(values: dict) -> dict:
    """AXIS_COLUMNS values -> TrainConfig keyword arguments (group_size left at its default
    where unused, since TrainConfig wants >= 2)."""
    kwargs = dict(values)
    if kwargs["group_size"] == 1:
        del kwargs["group_size"]
    return kwargs
