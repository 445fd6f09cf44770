"""The study's result files: Parquet schemas, rows, atomic writes and study.json (no Ray here).

A trial's rows are built from its curve rows (one per report, n and seed): the final metrics are
the last report's, `samples_to_95` the first report's samples with exact match >= 0.95,
`best_exact_match` the best report, `auc_exact_match` the mean over the reports.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from study.objective import auc_by_run, objective
from study.space import AXIS_FIELDS

THRESHOLD = 0.95
PHASES = ("search", "reference", "confirm")
STATUSES = ("finished", "stopped_early", "failed")

TRIAL_SCHEMA = pa.schema([
    ("study", pa.string()), ("trial_id", pa.string()), ("phase", pa.string()),
    ("status", pa.string()), ("error", pa.string()), ("n", pa.int64()), ("seed", pa.int64()),
    ("reward", pa.string()), ("encoding", pa.string()), ("baseline", pa.string()),
    ("reward_scale", pa.string()), ("lr", pa.float64()), ("entropy_coef", pa.float64()),
    ("batch_size", pa.int64()), ("hidden", pa.int64()), ("group_size", pa.int64()),
    ("sample_budget", pa.int64()),
    ("exact_match", pa.float64()), ("p_correct", pa.float64()), ("mae", pa.float64()),
    ("regret", pa.float64()), ("entropy", pa.float64()), ("distinct_actions", pa.int64()),
    ("reward_mean", pa.float64()), ("samples", pa.int64()), ("samples_to_95", pa.int64()),
    ("best_exact_match", pa.float64()), ("auc_exact_match", pa.float64()),
    ("wall_s", pa.float64()), ("samples_per_s", pa.float64()), ("objective", pa.float64()),
    ("device", pa.string()), ("torch_version", pa.string()), ("ray_version", pa.string()),
    ("optuna_version", pa.string()), ("git_commit", pa.string()),
])

CURVE_SCHEMA = pa.schema([
    ("study", pa.string()), ("trial_id", pa.string()), ("phase", pa.string()),
    ("n", pa.int64()), ("seed", pa.int64()), ("report", pa.int64()), ("samples", pa.int64()),
    ("exact_match", pa.float64()), ("p_correct", pa.float64()), ("mae", pa.float64()),
    ("regret", pa.float64()), ("entropy", pa.float64()), ("distinct_actions", pa.int64()),
    ("reward_mean", pa.float64()), ("wall_s", pa.float64()), ("samples_per_s", pa.float64()),
])

FINAL_METRICS = ("exact_match", "p_correct", "mae", "regret", "entropy", "distinct_actions",
                 "reward_mean", "samples", "wall_s", "samples_per_s")


def versions() -> dict[str, str]:
    """Installed versions of the packages that shape the results (read without importing Ray)."""
    from importlib.metadata import version

    import torch

    return {"torch": torch.__version__, "ray": version("ray"), "optuna": version("optuna"),
            "pyarrow": pa.__version__}


@functools.cache
def git_commit() -> str:
    """The commit of this checkout (with '-dirty' if it has changes), or 'unknown'."""
    repo = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True,
                              text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=repo, capture_output=True, text=True, timeout=10,
                               check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("-dirty" if dirty.strip() else "")


def trial_rows(*, study: str, trial_id: str, phase: str, status: str, error: str | None,
               values: dict, reward: str, ns, seeds, sample_budget: dict[int, int],
               curves: list[dict], device: str, provenance: dict) -> list[dict]:
    """One row per (n, seed); metric columns null when the trial failed.

    `values` holds AXIS_FIELDS; `provenance` the version columns and git_commit (the driver's);
    `device` the trial worker's.
    """
    assert phase in PHASES and status in STATUSES, (phase, status)
    failed = status == "failed"
    aucs = auc_by_run(curves)
    score = None if failed else objective(curves)
    rows = []
    for n in ns:
        for seed in seeds:
            run = [r for r in curves if r["n"] == n and r["seed"] == seed]
            row = {"study": study, "trial_id": trial_id, "phase": phase, "status": status,
                   "error": error if failed else None, "n": n, "seed": seed, "reward": reward,
                   **{k: values[k] for k in AXIS_FIELDS}, "sample_budget": sample_budget[n]}
            last = run[-1] if run and not failed else None
            row.update({k: (last[k] if last else None) for k in FINAL_METRICS})
            reached = [r["samples"] for r in run if r["exact_match"] >= THRESHOLD]
            row["samples_to_95"] = reached[0] if (last and reached) else None
            row["best_exact_match"] = max(r["exact_match"] for r in run) if last else None
            row["auc_exact_match"] = aucs[(n, seed)] if last else None
            row["objective"] = score
            row["device"] = device
            row.update(provenance)
            rows.append(row)
    return rows


def provenance() -> dict[str, str]:
    """The version columns of the rows this process writes."""
    v = versions()
    return {"torch_version": v["torch"], "ray_version": v["ray"], "optuna_version": v["optuna"],
            "git_commit": git_commit()}


def curve_table(*, study: str, trial_id: str, phase: str, curves: list[dict]) -> pa.Table:
    rows = [{"study": study, "trial_id": trial_id, "phase": phase, **r} for r in curves]
    return pa.Table.from_pylist(rows, schema=CURVE_SCHEMA)


def trial_table(rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=TRIAL_SCHEMA)


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
