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

CONFIG_COLUMNS = (
    "reward",
    "encoding",
    "baseline",
    "reward_scale",
    "lr",
    "entropy_coef",
    "batch_size",
    "hidden",
    "group_size",
)

# The study's schemas (study/export.py writes them; a test checks the two agree).
_WHO = [("study", pa.string()), ("trial_id", pa.string()), ("phase", pa.string())]
_METRICS = [("exact_match", pa.float64()), ("p_correct", pa.float64()), ("mae", pa.float64()),
            ("regret", pa.float64()), ("entropy", pa.float64()),
            ("distinct_actions", pa.int64()), ("reward_mean", pa.float64())]
TRIAL_SCHEMA = pa.schema(
    _WHO
    + [("status", pa.string()), ("error", pa.string()), ("n", pa.int64()), ("seed", pa.int64()),
       ("reward", pa.string()), ("encoding", pa.string()), ("baseline", pa.string()),
       ("reward_scale", pa.string()), ("lr", pa.float64()), ("entropy_coef", pa.float64()),
       ("batch_size", pa.int64()), ("hidden", pa.int64()), ("group_size", pa.int64()),
       ("sample_budget", pa.int64())]
    + _METRICS
    + [("samples", pa.int64()), ("samples_to_95", pa.int64()),
       ("best_exact_match", pa.float64()), ("auc_exact_match", pa.float64()),
       ("wall_s", pa.float64()), ("samples_per_s", pa.float64()), ("objective", pa.float64()),
       ("device", pa.string()), ("torch_version", pa.string()), ("ray_version", pa.string()),
       ("optuna_version", pa.string()), ("git_commit", pa.string())]
)
TRIAL_REQUIRED = frozenset(
    {"trial_id", "phase", "status", "n", "seed", *CONFIG_COLUMNS, "exact_match", "distinct_actions"}
)

CURVE_SCHEMA = pa.schema(
    _WHO
    + [("n", pa.int64()), ("seed", pa.int64()), ("report", pa.int64()), ("samples", pa.int64())]
    + _METRICS
    + [("wall_s", pa.float64()), ("samples_per_s", pa.float64())]
)
CURVE_REQUIRED = frozenset({"trial_id", "phase", "n", "seed", "report", "samples", "exact_match"})

DIAGNOSE_SCHEMA = pa.schema(
    [
        ("variant", pa.string()),
        ("changed", pa.string()),
        ("n", pa.int64()),
        ("seed", pa.int64()),
        ("exact_match", pa.float64()),
        ("p_correct", pa.float64()),
        ("distinct_actions", pa.int64()),
        ("samples_to_95", pa.int64()),
    ]
)
DIAGNOSE_REQUIRED = frozenset({"variant", "n", "seed", "exact_match", "p_correct"})


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
    def ns(self) -> list[int]:
        """The study's n values: study.json's "n" (or "ns") where given, else the trial rows'."""
        given = self.meta.get("n") or self.meta.get("ns")
        if isinstance(given, list) and given:
            return sorted(int(n) for n in given)
        return sorted(int(n) for n in self.trials["n"].dropna().unique())


def check_study_dir(results_dir: str | Path) -> Path:
    """Return the study folder as a Path; ValueError (one line) when it is not a study."""
    root = Path(results_dir)
    if not root.is_dir():
        raise ValueError(f"results folder {str(root)!r} does not exist or is not a folder")
    trials = root / "trials"
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


def read_folder(
    folder: Path, *, schema: pa.Schema, required: frozenset, skipped: list[str]
) -> pd.DataFrame:
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
    trials = read_folder(
        root / "trials", schema=TRIAL_SCHEMA, required=TRIAL_REQUIRED, skipped=skipped
    )
    if trials.empty:
        raise ValueError(
            f"{str(root)!r}: no readable trial rows in trials/ ({len(skipped)} skipped)"
        )
    curves_dir = root / "curves"
    if curves_dir.is_dir():
        curves = read_folder(
            curves_dir, schema=CURVE_SCHEMA, required=CURVE_REQUIRED, skipped=skipped
        )
    else:
        _skip(skipped, curves_dir, "no curves/ folder: learning curves are left out")
        curves = CURVE_SCHEMA.empty_table().to_pandas()
    diagnose = None
    diagnose_path = root / "diagnose.parquet"
    if diagnose_path.exists() or diagnose_path.is_symlink():
        table = _read_or_skip(
            diagnose_path, schema=DIAGNOSE_SCHEMA, required=DIAGNOSE_REQUIRED, skipped=skipped
        )
        diagnose = None if table is None else table.to_pandas()
    return StudyData(root, _read_meta(root, skipped), trials, curves, diagnose, skipped)


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
    path = root / "study.json"
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
