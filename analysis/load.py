"""Read a study folder (trials/, curves/, diagnose.parquet, study.json) with PyArrow.

A file that cannot be read (missing, corrupt, truncated, wrong schema) is skipped with a
`SkippedFileWarning` naming it; the skipped files are kept in `StudyData.skipped` for the report.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from contract.layout import StudyPaths
from contract.schema import (
    CONFIG_COLUMNS,
    CURVE_REQUIRED,
    CURVE_SCHEMA,
    DIAGNOSE_REQUIRED,
    DIAGNOSE_SCHEMA,
    SCHEDULE_COLUMNS,
    SPEED_COLUMNS,
    TRIAL_REQUIRED,
    TRIAL_SCHEMA,
    integer_task,
    is_integer_task,
)

__all__ = ["CONFIG_COLUMNS", "SkippedFileWarning", "StudyData", "check_study_dir", "load_study"]


class SkippedFileWarning(UserWarning):
    """A results file could not be read and was left out of the analysis."""


@dataclass
class StudyData:
    """Everything `analyze` reads from one study folder."""

    root: Path
    meta: dict
    trials: pd.DataFrame
    curves: pd.DataFrame
    diagnose: pd.DataFrame | None
    skipped: list[str] = field(default_factory=list)

    @property
    def tasks(self) -> list[str]:
        """The study's tasks, integer bandits by n then context sets: study.json's "tasks" (or,
        before tasks, its "n") where given, else the trial rows'."""
        given = self.meta.get("tasks") or [integer_task(n) for n in self.meta.get("n") or []]
        return ordered_tasks(given or self.trials["task"].dropna().unique())


def check_study_dir(results_dir: str | Path) -> Path:
    """Return the study folder as a Path; ValueError (one line) when it is not a study."""
    root = Path(results_dir)
    if not root.is_dir():
        raise ValueError(f"results folder {str(root)!r} does not exist or is not a folder")
    trials = StudyPaths(root).trials
    if not trials.is_dir():
        raise ValueError(f"{str(root)!r} is not a study: no trials/ folder")
    if not _parquet_files(trials):
        raise ValueError(f"{str(root)!r} is not a study yet: trials/ holds no .parquet files")
    return root


def read_table(path: Path, *, schema: pa.Schema, required: frozenset) -> pa.Table:
    """Read one Parquet file and cast it to `schema`; optional columns it lacks become null.

    Raises (OSError, pyarrow errors, ValueError) when the file cannot be read, lacks a required
    column, or holds a column whose type cannot be cast.
    """
    table = pq.read_table(path)
    missing = sorted(required - set(table.column_names))
    if missing:
        raise ValueError(f"missing column(s) {', '.join(missing)}")
    columns = []
    for target in schema:
        if target.name in table.column_names:
            columns.append(table.column(target.name).cast(target.type))
        else:
            columns.append(pa.nulls(table.num_rows, target.type))
    return pa.Table.from_arrays(columns, schema=schema)


def read_folder(folder: Path, *, schema: pa.Schema, required: frozenset, skipped: list[str]) -> pd.DataFrame:
    """Concatenate every readable *.parquet in `folder`; unreadable ones go to `skipped`."""
    tables = []
    for path in _parquet_files(folder):
        table = _read_or_skip(path, schema=schema, required=required, skipped=skipped)
        if table is not None:
            tables.append(table)
    if not tables:
        return schema.empty_table().to_pandas()
    return pa.concat_tables(tables).to_pandas()


def load_study(results_dir: str | Path) -> StudyData:
    """Read a study folder; ValueError when it is not a study or no trial file is readable."""
    root = check_study_dir(results_dir)
    skipped: list[str] = []
    paths = StudyPaths(root)
    trials = read_folder(paths.trials, schema=TRIAL_SCHEMA, required=TRIAL_REQUIRED, skipped=skipped)
    if trials.empty:
        raise ValueError(f"{str(root)!r}: no readable trial rows in trials/ ({len(skipped)} skipped)")
    curves_dir = paths.curves
    if curves_dir.is_dir():
        curves = read_folder(curves_dir, schema=CURVE_SCHEMA, required=CURVE_REQUIRED, skipped=skipped)
    else:
        _skip(skipped, curves_dir, "no curves/ folder: learning curves are left out")
        curves = CURVE_SCHEMA.empty_table().to_pandas()
    diagnose = None
    diagnose_path = paths.diagnose
    if diagnose_path.exists() or diagnose_path.is_symlink():
        table = _read_or_skip(
            diagnose_path, schema=DIAGNOSE_SCHEMA, required=DIAGNOSE_REQUIRED, skipped=skipped
        )
        diagnose = None if table is None else table.to_pandas()
    for frame in (trials, curves, diagnose):
        if frame is not None:  # files written before tasks: the integer bandit at n
            frame["task"] = frame["task"].fillna(frame["n"].map(integer_task, na_action="ignore"))
    for frame in (trials, diagnose):
        for column in SCHEDULE_COLUMNS:  # files written before a schedule's axis: constant
            if frame is not None and column in frame:
                frame[column] = frame[column].fillna("constant")
    for column, value in SPEED_COLUMNS.items():  # files written before the speed axes: defaults
        if column in trials:
            trials[column] = trials[column].fillna(value).astype(type(value))
    return StudyData(root, _read_meta(root, skipped), trials, curves, diagnose, skipped)


def ordered_tasks(tasks) -> list[str]:
    """Integer bandits by n, then context sets in the order given."""
    tasks = list(dict.fromkeys(str(t) for t in tasks))
    return sorted(filter(is_integer_task, tasks), key=int) + [t for t in tasks if not is_integer_task(t)]


def _parquet_files(folder: Path) -> list[Path]:
    """The *.parquet files of a folder, sorted; hidden (temporary) files are not results."""
    return sorted(p for p in folder.glob("*.parquet") if not p.name.startswith("."))


def _read_or_skip(
    path: Path, *, schema: pa.Schema, required: frozenset, skipped: list[str]
) -> pa.Table | None:
    try:
        return read_table(path, schema=schema, required=required)
    except (OSError, ValueError, pa.ArrowException) as error:
        _skip(
            skipped,
            path,
            f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}",
        )
        return None


def _read_meta(root: Path, skipped: list[str]) -> dict:
    path = StudyPaths(root).study_json
    try:
        meta = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        _skip(skipped, path, f"{type(error).__name__}: study metadata left out")
        return {}
    if not isinstance(meta, dict):
        _skip(skipped, path, "not a JSON object: study metadata left out")
        return {}
    return meta


def _skip(skipped: list[str], path: Path, reason: str) -> None:
    message = f"{path}: {reason}"
    skipped.append(message)
    warnings.warn(f"skipping {message}", SkippedFileWarning, stacklevel=3)
