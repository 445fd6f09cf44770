"""Writing a study's files: a trial's rows from its curve rows, atomic Parquet and JSON writes.

A trial's rows are built from its curve rows (one per report, task and seed): the final metrics
are the last report's, `samples_to_95` / `samples_to_99` the first report's samples with exact
match at or above 0.95 / 0.99, `best_exact_match` the best report, `auc_exact_match` the mean
over the reports of the run's score (`scored`: held-out exact match on a context set).
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from statistics import fmean

import pyarrow as pa
import pyarrow.parquet as pq

from contract.layout import StudyPaths
from contract.schema import (
    AXIS_COLUMNS,
    CURVE_SCHEMA,
    FAILED,
    FINAL_METRICS,
    HELDOUT_METRIC,
    PHASES,
    SPEED_COLUMNS,
    STATUSES,
    TRIAL_SCHEMA,
    integer_task,
    is_integer_task,
)


def scored(row: dict) -> float:
    """What a run is judged by at one report: held-out exact match on a context set, exact match
    on the integer bandit."""
    heldout = row.get(HELDOUT_METRIC)
    return row["exact_match"] if heldout is None else heldout


def task_of(row: dict) -> str:
    """A curve row's task (rows checkpointed before tasks existed hold only n)."""
    return row.get("task") or integer_task(row["n"])


def auc_by_run(curves: list[dict]) -> dict[tuple[str, int], float]:
    """(task, seed) -> mean score over that run's reports (the auc_exact_match column)."""
    runs: dict[tuple[str, int], list[float]] = {}
    for row in curves:
        runs.setdefault((task_of(row), row["seed"]), []).append(scored(row))
    return {key: fmean(values) for key, values in runs.items()}


def samples_to(run: list[dict], level: float) -> int | None:
    """Samples at the first report of `run` (one run's curve rows) with exact match >= level."""
    return next((r["samples"] for r in run if r["exact_match"] >= level), None)


def trial_rows(
    *,
    study: str,
    trial_id: str,
    phase: str,
    status: str,
    error: str | None,
    values: dict,
    reward: str,
    tasks,
    seeds,
    sample_budget: dict[str, int],
    curves: list[dict],
    device: str,
    provenance: dict,
    objective: float | None,
    horizon: str = "search",
) -> list[dict]:
    """One row per (task, seed); metric columns null when the trial failed (n too, for a
    context set that never reported).

    `values` holds AXIS_COLUMNS (the speed knobs default to the trainer's where missing);
    `provenance` the version columns and git_commit (the writer's); `device` the trial worker's;
    `objective` the study's score of these curves.
    """
    if phase not in PHASES or status not in STATUSES:
        raise ValueError(
            f"phase={phase!r}, status={status!r}; expected one of {PHASES} and one of {STATUSES}"
        )
    failed = status == FAILED
    aucs = auc_by_run(curves)
    rows = []
    for task in tasks:
        for seed in seeds:
            run = [r for r in curves if task_of(r) == task and r["seed"] == seed]
            last = run[-1] if run and not failed else None
            n = run[0]["n"] if run else (int(task) if is_integer_task(task) else None)
            row = {
                "study": study,
                "trial_id": trial_id,
                "phase": phase,
                "horizon": horizon,
                "status": status,
                "error": error if failed else None,
                "task": task,
                "n": n,
                "seed": seed,
                "reward": reward,
                **{k: values[k] for k in AXIS_COLUMNS if k not in SPEED_COLUMNS},
                **{k: values.get(k, default) for k, default in SPEED_COLUMNS.items()},
                "sample_budget": sample_budget[task],
                **{k: (last[k] if last else None) for k in FINAL_METRICS},
                HELDOUT_METRIC: last.get(HELDOUT_METRIC) if last else None,
                "samples_to_95": samples_to(run, 0.95) if last else None,
                "samples_to_99": samples_to(run, 0.99) if last else None,
                "best_exact_match": max(r["exact_match"] for r in run) if last else None,
                "auc_exact_match": aucs[(task, seed)] if last else None,
                "objective": None if failed else objective,
                "device": device,
                **provenance,
            }
            rows.append(row)
    return rows


def curve_table(
    *, study: str, trial_id: str, phase: str, curves: list[dict], horizon: str = "search"
) -> pa.Table:
    rows = [
        {"study": study, "trial_id": trial_id, "phase": phase, "horizon": horizon, **r, "task": task_of(r)}
        for r in curves
    ]
    return pa.Table.from_pylist(rows, schema=CURVE_SCHEMA)


def trial_table(rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=TRIAL_SCHEMA)


def write_trial(paths: StudyPaths, *, file_id: str, rows: list[dict], curves: pa.Table) -> None:
    """Curves first, then the trial rows: a trial counts as done once its trial file exists."""
    write_atomic(curves, paths.curve_file(file_id))
    write_atomic(trial_table(rows), paths.trial_file(file_id))


def write_atomic(table: pa.Table, path: Path) -> None:
    """Write `table` to a temp file beside `path`, then rename it: never a half-written file
    under the final name (temp names start with '.', which pyarrow.dataset skips)."""
    _replace(path, lambda tmp: pq.write_table(table, tmp))


def write_json_atomic(data: dict, path: Path) -> None:
    _replace(path, lambda tmp: tmp.write_text(json.dumps(data, indent=2) + "\n"))


def _replace(path: Path, write) -> None:
    tmp = path.with_name(f".{path.stem}-{uuid.uuid4().hex[:8]}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
