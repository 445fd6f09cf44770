"""From a config and a task to a run: the TrainConfig of config values on one task, and a task's
default sample budget.

A task is the integer bandit at n ("10") or a context set ("digits", "package.module:function"),
as contract.schema names them.
"""

from __future__ import annotations

from trainable import defaults
from trainable.config import TrainConfig


def task_fields(task: str, *, holdout: float) -> dict:
    """The TrainConfig fields that make a trainer train on `task` (`holdout`: the share of a
    context set held out)."""
    return {"n": int(task)} if task.isdigit() else {"contexts": task, "holdout": holdout}


def run_config(
    *,
    values: dict,
    task: str,
    holdout: float,
    seeds,
    budget: int,
    reward: str | None = None,
    device: str | None = None,
) -> TrainConfig:
    """`values` (TrainConfig fields but the task's, the seeds and the budget) trained on `task`
    on `seeds` for `budget` samples per seed; `reward` and `device`, where given, replace those
    of `values`. ValueError for a bad config."""
    given = {k: v for k, v in (("reward", reward), ("device", device)) if v is not None}
    run = {**task_fields(task, holdout=holdout), "seeds": tuple(seeds), "sample_budget": budget}
    return TrainConfig(**{**values, **given, **run})


def default_budget(task: str, *, study: bool) -> int:
    """Samples per seed on `task` unless told: the trainer's (what TrainConfig gives), or with
    `study` a study's, shorter on purpose (defaults.study_sample_budget)."""
    if not task.isdigit():
        return defaults.CONTEXTS_STUDY_BUDGET if study else defaults.CONTEXTS_SAMPLE_BUDGET
    rule = defaults.study_sample_budget if study else defaults.default_sample_budget
    return rule(int(task))
