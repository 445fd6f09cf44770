"""The table printed at the end of a study: its best configs, the reference, and where it all is."""

from __future__ import annotations

import shlex
import sys

import pandas as pd
import pyarrow.parquet as pq

from contract.layout import StudyPaths
from contract.schema import AXIS_COLUMNS, FAILED, REFERENCE, SEARCH, scored, task_label
from study.objective import OBJECTIVE_NAMES
from study.spec import StudySpec

TOP = 5


def watch_command(paths: StudyPaths) -> str:
    """The command that shows the study live in a browser (optuna-dashboard reads its journal)."""
    return f"optuna-dashboard {shlex.quote(str(paths.journal))}"


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
        name = task_label(task).replace(" ", "")
        table[f"exact_match {name}"] = score[at].groupby(trials.loc[at, "trial_id"]).mean()
        table[f"stuck {name}"] = trials[at].groupby("trial_id")["stuck"].mean()
    search = table[table["phase"] == SEARCH].sort_values("objective", ascending=False, na_position="last")
    return pd.concat([search.head(top), table[table["phase"] == REFERENCE]])


def print_summary(paths: StudyPaths, spec: StudySpec) -> int:
    """Print the best configs, the trials' statuses and where the results are; return the study's
    exit status: 1 when no search trial succeeded (naming the most common error), else 0."""
    trials = trials_frame(paths)
    search = trials[trials["phase"] == SEARCH].drop_duplicates("trial_id")
    counts = search["status"].value_counts().to_dict()
    table = best_table(trials, spec.tasks)
    with pd.option_context(
        "display.width", 200, "display.max_columns", 30, "display.float_format", "{:.4g}".format
    ):
        print(
            f"\nBest configs by the objective ({OBJECTIVE_NAMES[spec.objective]}), over"
            f" {', '.join(map(task_label, spec.tasks))} and {len(spec.seeds)} seeds (held-out exact"
            " match on a context set); stuck: inputs stuck on a wrong action, per seed:"
        )
        print(table.drop(columns=["phase"]).to_string())
    print(f"\n{len(search)} trials: " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())))
    print(f"Results: {paths.root}  (trials/ and curves/ Parquet, study.json, optuna.journal)")
    failed = search[search["status"] == FAILED]
    if failed.empty:
        return 0
    if len(failed) < len(search):
        print(f"{len(failed)} of {len(search)} trials failed (their rows hold the error)", flush=True)
        return 0
    errors = failed["error"].fillna("no error recorded").value_counts()
    print(
        f"banditune study: failed during work: all {len(search)} trials failed; the most common error"
        f" ({int(errors.iloc[0])} of {len(search)}): {errors.index[0]}",
        file=sys.stderr,
        flush=True,
    )
    return 1
