"""What a study found, for the lines printed at its end (cli.study): its best configs, the
reference, its trials' statuses and the most common error."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pyarrow.parquet as pq

from contract.layout import StudyPaths
from contract.schema import AXIS_COLUMNS, FAILED, REFERENCE, SEARCH, scored, task_label
from study.spec import Study

TOP = 5


def trials_frame(paths: StudyPaths) -> pd.DataFrame:
    """The rows of the study's search trials and its reference (not `confirm` re-runs, which
    share their search trial's id)."""
    files = sorted(paths.trials.glob("*.parquet"))
    rows = pd.concat([pq.read_table(f).to_pandas() for f in files], ignore_index=True)
    return rows[rows["phase"].isin([SEARCH, REFERENCE])]


def best_table(trials: pd.DataFrame, tasks, top: int = TOP) -> pd.DataFrame:
    """One line per trial: config, status, objective and mean exact match per task (held out on a
    context set); the best `top` search trials by objective, then the reference."""
    config = ["phase", "status", "objective", *AXIS_COLUMNS]
    per_trial = trials.groupby("trial_id", sort=False)
    table = per_trial[config].first()
    score = scored(trials)
    for task in tasks:
        at = trials["task"] == task
        name = task_label(task, compact=True)
        table[f"exact_match {name}"] = score[at].groupby(trials.loc[at, "trial_id"]).mean()
        table[f"stuck {name}"] = trials[at].groupby("trial_id")["stuck"].mean()
    search = table[table["phase"] == SEARCH].sort_values("objective", ascending=False, na_position="last")
    return pd.concat([search.head(top), table[table["phase"] == REFERENCE]])


@dataclass(frozen=True)
class Summary:
    table: str  # the best configs and the reference (best_table), printed
    counts: dict[str, int]  # search trials by status
    failed: int  # search trials that failed
    common_error: tuple[int, str] | None  # (how many, the error) of the failed trials


def summarize(study: Study) -> Summary:
    """The best configs, the search trials' statuses and their most common error."""
    trials = trials_frame(study.paths)
    search = trials[trials["phase"] == SEARCH].drop_duplicates("trial_id")
    with pd.option_context(
        "display.width", 200, "display.max_columns", 30, "display.float_format", "{:.4g}".format
    ):
        table = best_table(trials, study.spec.tasks).drop(columns=["phase"]).to_string()
    failed = search[search["status"] == FAILED]
    errors = failed["error"].fillna("no error recorded").value_counts()
    return Summary(
        table=table,
        counts=search["status"].value_counts().to_dict(),
        failed=len(failed),
        common_error=(int(errors.iloc[0]), str(errors.index[0])) if len(errors) else None,
    )
