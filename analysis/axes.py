"""The study's axes: which config columns vary, and how their values are grouped for tables.

Categorical axes keep their values; numeric axes with many values are cut into log-spaced bins
(linear when a value is not positive) so that each group holds several configs.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from contract.knobs import KNOBS
from contract.schema import AXIS_COLUMNS, CATEGORICAL, CONFIG_COLUMNS

LOG_SCALE = tuple(k.name for k in KNOBS if k.log)
MAX_DISTINCT = 8
BINS = 4


def varying_axes(configs: pd.DataFrame) -> list[str]:
    """Config columns that take more than one value in `configs` (one row per config)."""
    return [c for c in CONFIG_COLUMNS if configs[c].nunique(dropna=True) > 1]


def fixed_axes(configs: pd.DataFrame) -> dict[str, object]:
    """{axis: its one value} for the axes every config in `configs` shares: the study held them."""
    return {c: configs[c].dropna().tolist()[0] for c in AXIS_COLUMNS if configs[c].nunique(dropna=True) == 1}


def format_value(value) -> str:
    """A config value as short text: 0.001 -> '0.001', 3e-05 -> '3e-05', 64.0 -> '64'."""
    if isinstance(value, (float, np.floating)):
        return str(int(value)) if value.is_integer() and abs(value) < 1e6 else f"{value:.3g}"
    return str(value)


def search_orders(space: dict) -> dict[str, list]:
    """{axis: its values in the order the study searched them} from study.json's search_space
    (which the study derives from the trainer's own lists); {} when study.json lacks it."""
    return {
        axis: list(spec["categorical"])
        for axis, spec in space.items()
        if isinstance(spec, dict) and isinstance(spec.get("categorical"), list)
    }


def axis_labels(
    configs: pd.DataFrame, *, axes: list[str], orders: dict[str, list] | None = None
) -> pd.DataFrame:
    """One ordered categorical column per axis: the value (or its bin) of every config row;
    categorical values in `orders` (see search_orders) where given."""
    orders = orders or {}
    return pd.DataFrame(
        {axis: _labels(configs[axis], axis=axis, order=orders.get(axis, ())) for axis in axes},
        index=configs.index,
    )


def category_order(values, *, order=()) -> list:
    """The distinct `values` in display order: those in `order` as ordered there, then the
    others sorted."""
    seen = sorted(pd.Series(list(values)).dropna().unique())
    first = [v for v in order if v in seen]
    return first + [v for v in seen if v not in first]


def _labels(values: pd.Series, *, axis: str, order) -> pd.Categorical:
    if axis in CATEGORICAL:
        return pd.Categorical(values, categories=category_order(values, order=order), ordered=True)
    distinct = np.sort(values.dropna().unique())
    if len(distinct) <= MAX_DISTINCT:
        names = {v: format_value(v) for v in distinct}
        # values that print alike (0.07718 and 0.07719 as 0.0772) share their label
        labels = list(dict.fromkeys(names.values()))
        return pd.Categorical(values.map(names), categories=labels, ordered=True)
    zero = log_floor(values, axis=axis) is not None  # 0 (e.g. no entropy bonus) is its own group
    binned = distinct[distinct > 0] if zero else distinct
    low, high = float(binned[0]), float(binned[-1])
    log = axis in LOG_SCALE and low > 0
    edges = np.geomspace(low, high, BINS + 1) if log else np.linspace(low, high, BINS + 1)
    names = [
        f"[{format_value(a)}, {format_value(b)}{']' if i == BINS - 1 else ')'}"
        for i, (a, b) in enumerate(itertools.pairwise(edges))
    ]
    index = np.clip(np.searchsorted(edges, values.to_numpy(dtype=float), side="right") - 1, 0, BINS - 1)
    labels = pd.Series([names[i] for i in index], index=values.index).where(values.notna())
    if zero:
        labels[values == 0] = "0"
        names = ["0", *names]
    return pd.Categorical(labels, categories=names, ordered=True)


def log_floor(values: pd.Series, *, axis: str) -> float | None:
    """Where 0 goes on a log-scale axis whose other values are positive: a tenth of the smallest
    positive value. None when the axis is not log-scale or has no zero."""
    if axis not in LOG_SCALE or values.min() != 0 or values.max() <= 0:
        return None
    return float(values[values > 0].min()) / 10


def short_label(trial_id: str, config: pd.Series, *, axes: list[str]) -> str:
    """'t07 onehot/rloo/standardize lr=0.003 entropy_coef=0.001': the trial and its varying axes."""
    categorical = "/".join(str(config[a]) for a in axes if a in CATEGORICAL)
    numeric = " ".join(f"{a}={format_value(config[a])}" for a in axes if a in ("lr", "entropy_coef"))
    return " ".join(part for part in (trial_id, categorical, numeric) if part)
