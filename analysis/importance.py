"""Hyperparameter importance from Optuna's evaluators on a study rebuilt from the Parquet rows.

Each search trial with an objective becomes a COMPLETE Optuna trial whose params are the axes
that vary; distributions span the observed values (log scale for lr, entropy_coef, batch_size
and hidden; a 0, e.g. no entropy bonus, sits at `axes.log_floor` on that scale).
"""

from __future__ import annotations

import warnings
from functools import partial

import pandas as pd

from analysis.axes import CATEGORICAL, LOG_SCALE, log_floor
from analysis.scoring import plain

EVALUATORS = ("PED-ANOVA", "fANOVA")
MIN_TRIALS = 10  # PED-ANOVA contrasts the top 10% of trials with the rest


def rebuild_study(objectives: pd.Series, configs: pd.DataFrame, *, axes: list[str], direction: str):
    """An in-memory optuna.Study with one trial per objective (indexed by trial_id)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    points = configs[axes].copy()
    for axis in axes:
        floor = log_floor(points[axis], axis=axis)
        if floor is not None:
            points[axis] = points[axis].replace(0, floor)
    distributions = {axis: _distribution(points[axis], axis=axis) for axis in axes}
    study = optuna.create_study(direction=direction)
    for trial_id, value in objectives.items():
        params = {axis: plain(points.at[trial_id, axis]) for axis in axes}
        study.add_trial(
            optuna.trial.create_trial(params=params, distributions=distributions, value=float(value))
        )
    return study


def param_importances(
    objectives: pd.Series, configs: pd.DataFrame, *, axes: list[str], direction: str
) -> dict[str, dict]:
    """{evaluator: {"importances": {axis: share}} or {"error": one line}} for PED-ANOVA and fANOVA.

    objectives: the search objective per trial_id (failed trials left out).
    """
    if len(objectives) < MIN_TRIALS or not axes:
        note = (
            f"needs >= {MIN_TRIALS} trials with an objective and a varying axis "
            f"(have {len(objectives)} trials, {len(axes)} varying axes)"
        )
        return {name: {"error": note} for name in EVALUATORS}
    from optuna.importance import (
        FanovaImportanceEvaluator,
        PedAnovaImportanceEvaluator,
        get_param_importances,
    )

    study = rebuild_study(objectives, configs, axes=axes, direction=direction)
    evaluators = {
        "PED-ANOVA": PedAnovaImportanceEvaluator,
        "fANOVA": partial(FanovaImportanceEvaluator, seed=0),
    }
    result = {}
    for name, make in evaluators.items():
        try:  # fANOVA needs scikit-learn, which it imports when constructed
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                importances = get_param_importances(study, evaluator=make())
            result[name] = {"importances": {k: float(v) for k, v in importances.items()}}
        except Exception as error:  # noqa: BLE001 - an evaluator's failure is a note in the report
            message = str(error).strip().splitlines()[0] if str(error).strip() else ""
            result[name] = {"error": f"{type(error).__name__}: {message}"}
    return result


def _distribution(values: pd.Series, *, axis: str):
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    if axis in CATEGORICAL:
        return CategoricalDistribution(sorted(values.dropna().unique()))
    low, high = values.min(), values.max()
    log = axis in LOG_SCALE and low > 0
    if pd.api.types.is_integer_dtype(values):
        return IntDistribution(int(low), int(high), log=log)
    return FloatDistribution(float(low), float(high), log=log)
