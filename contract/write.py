"""Writing a study's files: a trial's rows from its curve rows, atomic Parquet and JSON writes.

A trial's rows are built from its curve rows (one per report, task and seed): the final metrics
and `samples_to_95` / `samples_to_99` (the trainer's, REACHED) are the last report's,
`best_exact_match` the best report, `auc_exact_match` the mean
over the reports of the run's score (`contract.schema.scored`: held-out exact match on a context set).
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
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
    LATER_COLUMNS,
    PHASES,
    REACHED,
    STATUSES,
    TRIAL_SCHEMA,
    integer_task,
    is_integer_task,
    scored,
)


def task_of(row: dict) -> str:
    """A curve row's task (rows checkpointed before tasks existed hold only n)."""
    return row.get("task") or integer_task(row["n"])


def auc_by_run(curves: list[dict]) -> dict[tuple[str, int], float]:
    """(task, seed) -> mean score over that run's reports (the auc_exact_match column)."""
    runs: dict[tuple[str, int], list[float]] = {}
    for row in curves:
        runs.setdefault((task_of(row), row["seed"]), []).append(scored(row))
    return {key: fmean(values) for key, values in runs.items()}


def reached(run: list[dict]) -> dict[str, int | None]:
    """samples_to_95 and samples_to_99 of `run` (one run's curve rows): the trainer's, carried
    by its last report. Rows written before they carried them: the first report's samples with
    exact match at REACHED's levels."""
    if all(name in run[-1] for name in REACHED):
        return {name: run[-1][name] for name in REACHED}
    return {
        name: next((r["samples"] for r in run if r["exact_match"] >= level), None)
        for name, level in REACHED.items()
    }


@dataclass(frozen=True)
class TrialRecord:
    """One trial's outcome, what its trial and curve files are written from: its curve rows (one
    per report, task and seed) and what they were trained with. `values` holds AXIS_COLUMNS (the
    speed knobs default to the trainer's); `device` is the trial worker's."""

    study: str
    trial_id: str
    phase: str  # one of PHASES
    status: str  # one of STATUSES
    error: str | None
    values: dict
    reward: str
    tasks: tuple[str, ...]
    seeds: tuple[int, ...]
    sample_budget: dict[str, int]  # by task
    curves: list[dict]
    device: str
    horizon: str = "search"

    def __post_init__(self):
        if self.phase not in PHASES or self.status not in STATUSES:
            raise ValueError(
                f"phase={self.phase!r}, status={self.status!r};"
                f" expected one of {PHASES} and one of {STATUSES}"
            )


def trial_rows(record: TrialRecord, *, provenance: dict, objective: float | None) -> list[dict]:
    """One row per (task, seed); metric columns null when the trial failed (n too, for a
    context set that never reported). `provenance`: the version columns and git_commit (the
    writer's); `objective`: the study's score of the record's curves."""
    r = record
    failed = r.status == FAILED
    aucs = auc_by_run(r.curves)
    rows = []
    for task in r.tasks:
        for seed in r.seeds:
            run = [c for c in r.curves if task_of(c) == task and c["seed"] == seed]
            last = run[-1] if run and not failed else None
            n = run[0]["n"] if run else (int(task) if is_integer_task(task) else None)
            row = {
                "study": r.study,
                "trial_id": r.trial_id,
                "phase": r.phase,
                "horizon": r.horizon,
                "status": r.status,
                "error": r.error if failed else None,
                "task": task,
                "n": n,
                "seed": seed,
                "reward": r.reward,
                **{k: r.values[k] for k in AXIS_COLUMNS if k not in LATER_COLUMNS},
                **{k: r.values.get(k, default) for k, default in LATER_COLUMNS.items()},
                "sample_budget": r.sample_budget[task],
                **{k: (last[k] if last else None) for k in FINAL_METRICS},
                HELDOUT_METRIC: last.get(HELDOUT_METRIC) if last else None,
                **(reached(run) if last else dict.fromkeys(REACHED)),
                "best_exact_match": max(c["exact_match"] for c in run) if last else None,
                "auc_exact_match": aucs[(task, seed)] if last else None,
                "objective": None if failed else objective,
                "device": r.device,
                **provenance,
            }
            rows.append(row)
    return rows


def curve_table(record: TrialRecord) -> pa.Table:
    """The record's curve rows with its trial columns, in the curve schema."""
    r = record
    trial = {"study": r.study, "trial_id": r.trial_id, "phase": r.phase, "horizon": r.horizon}
    rows = [{**trial, **c, "task": task_of(c)} for c in r.curves]
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
