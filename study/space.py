"""What the table of axes (study.axes) becomes: the Optuna space (define-by-run), the warm-start
point, the checks of a study's space, study.json's description, and a point as trainer fields.

A space is {axis: values}: the categories or numbers searched, or (low, high) for a LOG axis.
Every parameter keeps one type: strings, ints, floats (LOG: on a log scale). An axis with one
value is held, not an Optuna parameter. `entropy_coef` is log-uniform with no on/off flag: a
flag for exactly zero spent half of a pilot's trials on a value that never wins at n=100.
"""

from __future__ import annotations

from contract.errors import check
from study.axes import AXES, BY_NAME, CATEGORY, LOG, shown
from trainable.config import TrainConfig


def search_space(trial, *, space: dict[str, tuple]) -> dict:
    """Define-by-run space for OptunaSearch (bind `space` with functools.partial); returns the
    axes held at one value (CHOICE, policy), as constants (not Optuna parameters)."""
    held = {}
    for axis in AXES:
        values = space[axis.name]
        if axis.knob.when_baseline_in and trial.params["baseline"] not in axis.knob.when_baseline_in:
            continue
        if axis.kind == LOG:
            trial.suggest_float(axis.name, *values, log=True)
        elif axis.held_alone and len(values) == 1:
            held[axis.name] = values[0]
        else:
            trial.suggest_categorical(axis.name, list(values))
    return held


def default_point(*, n: int, space: dict[str, tuple]) -> dict | None:
    """The trainer's defaults at `n` (their lr and entropy bonus follow n) as a point of the
    space (the search's first trial), or None when the space leaves them out."""
    defaults, point = TrainConfig(n=n), {}
    for axis in AXES:
        value, values = getattr(defaults, axis.name), space[axis.name]
        if axis.knob.when_baseline_in and defaults.baseline not in axis.knob.when_baseline_in:
            continue
        inside = values[0] <= value <= values[1] if axis.kind == LOG else value in values
        if not inside:
            return None
        if not (axis.held_alone and len(values) == 1):  # held: not a parameter
            point[axis.name] = value
    return point


def with_defaults(space: dict[str, tuple]) -> dict[str, tuple]:
    """`space` with the trainer's default added to each category axis that lacks it (so that the
    warm start, the defaults, is a point of the space)."""
    defaults = TrainConfig()
    out = dict(space)
    for axis in AXES:
        value = getattr(defaults, axis.name)
        if axis.kind == CATEGORY and value not in out[axis.name]:
            out[axis.name] = (*out[axis.name], value)
    return out


def check_space(given: dict[str, list | None], *, defaults: dict[str, tuple]) -> dict[str, tuple]:
    """The space of a study: `defaults` where an axis is not `given`. ValueError (one line naming
    the option) for a value the axis does not allow, repeated values, LOW > HIGH, or a group size
    that does not divide every batch size (a batch is whole groups)."""
    out = {}
    for axis in AXES:
        chosen = given.get(axis.name)
        if chosen is None:
            out[axis.name] = tuple(defaults[axis.name])
            continue
        values = shown(chosen)
        if axis.kind == CATEGORY:
            code = " or package.module:function or path/to/file.py:function" if axis.knob.user_code else ""
            for value in chosen:
                ok = axis.knob.error(value) is None
                check(ok, axis.knob.option, value, "one of " + ", ".join(axis.knob.choices) + code)
        else:
            ok, allowed = axis.valid
            check(all(ok(v) for v in chosen), axis.knob.option, values, allowed)
        if axis.kind == LOG:
            low, high = chosen
            check(low <= high, axis.knob.option, values, "LOW HIGH with 0 < LOW <= HIGH (log scale)")
        else:
            check(len(set(chosen)) == len(chosen), axis.knob.option, values, "distinct values")
        out[axis.name] = tuple(chosen)
    groups, batches = out["group_size"], out["batch_size"]
    check(
        not [g for g in groups if any(b % g for b in batches)],
        BY_NAME["group_size"].knob.option,
        " ".join(map(str, groups)),
        "divisors of every batch size (" + " ".join(map(str, batches)) + ")",
    )
    return out


def describe(space: dict[str, tuple]) -> dict:
    """The space as plain JSON, for study.json."""
    out = {}
    for axis in AXES:
        kind = "log_uniform" if axis.kind == LOG else "categorical"
        out[axis.name] = {kind: list(space[axis.name])}
        if axis.knob.when_baseline_in:
            out[axis.name] |= {"when": "baseline in " + ", ".join(axis.knob.when_baseline_in), "otherwise": 1}
    return out


def axis_values(point: dict) -> dict:
    """A sampled point (or a preset) -> the trainer fields of AXIS_COLUMNS: an axis the point
    lacks takes the table's `absent` value (the forum preset has no entropy bonus, an older study
    held its schedules constant); an axis used only with some baselines is 1 where the baseline
    does not use it (the trainer ignores it there)."""
    out = {}
    for axis in AXES:
        if axis.knob.when_baseline_in and point["baseline"] not in axis.knob.when_baseline_in:
            value = 1
        else:
            value = point[axis.name] if axis.knob.older is None else point.get(axis.name, axis.knob.older)
        out[axis.name] = (
            value if axis.kind == CATEGORY else int(value) if axis.knob.type is int else float(value)
        )
    return out


def train_kwargs(values: dict) -> dict:
    """AXIS_COLUMNS values (and any other TrainConfig fields, such as a preset's `inputs`) ->
    TrainConfig keyword arguments: an axis the baseline does not use is left at its default,
    since TrainConfig checks it."""
    unused = {
        a.name for a in AXES if a.knob.when_baseline_in and values["baseline"] not in a.knob.when_baseline_in
    }
    return {k: v for k, v in values.items() if k not in unused}


def progress_line(values: dict) -> str:
    """A trial's axes, for the line printed when it starts."""
    return " ".join(
        f"{name}={value:.3g}" if isinstance(value, float) else f"{name}={value}"
        for name, value in values.items()
    )
