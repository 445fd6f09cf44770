"""Read a study folder (trials/, curves/, diagnose.parquet, study.json) with PyArrow: a local
folder, or a study's copy in storage (`s3://bucket/prefix/NAME`, `gs://...`: any URI pyarrow's
file systems open), read in place.

A file that cannot be read (missing, corrupt, truncated, wrong schema) is skipped with a
`SkippedFileWarning` naming it; the skipped files are kept in `StudyData.skipped` for the report.
"""

from __future__ import annotations

import os
import posixpath
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd
import pyarrow as pa
import pyarrow.fs
import pyarrow.parquet as pq

from contract.layout import DIAGNOSE_FILE
from contract.schema import (
    CONFIG_COLUMNS,
    CURVE_REQUIRED,
    CURVE_SCHEMA,
    DIAGNOSE_REQUIRED,
    DIAGNOSE_SCHEMA,
    OLDER_VALUES,
    TRIAL_REQUIRED,
    TRIAL_SCHEMA,
    integer_task,
    is_integer_task,
)
from contract.study_file import StudyRecord, read_record

__all__ = ["CONFIG_COLUMNS", "SkippedFileWarning", "StudyData", "check_study_dir", "load_study", "study_name"]


class SkippedFileWarning(UserWarning):
    """A results file could not be read and was left out of the analysis."""


@dataclass
class StudyData:
    """Everything `analyze` reads from one study folder."""

    root: Path | str  # a folder, or a storage URI
    meta: StudyRecord  # study.json (an empty record where it cannot be read)
    trials: pd.DataFrame
    curves: pd.DataFrame
    diagnose: pd.DataFrame | None
    skipped: list[str] = field(default_factory=list)

    @property
    def tasks(self) -> list[str]:
        """The study's tasks, integer bandits by n then context sets: study.json's where given,
        else the trial rows'."""
        return ordered_tasks(self.meta.tasks or self.trials["task"].dropna().unique())


@dataclass(frozen=True)
class Location:
    """A file or folder on a pyarrow file system, `shown` as the user gave it."""

    fs: pyarrow.fs.FileSystem
    path: str
    shown: str

    @classmethod
    def of(cls, given: str | Path) -> Location:
        """A local path or a URI (s3://bucket/key?options, gs://...)."""
        if is_uri(given):
            fs, path = pyarrow.fs.FileSystem.from_uri(str(given))
            return cls(fs, path, str(given))
        return cls(pyarrow.fs.LocalFileSystem(), str(Path(given).expanduser().absolute()), str(given))

    def __truediv__(self, name: str) -> Location:
        shown = self.shown
        if is_uri(shown):  # the name goes into the URI's path, before its options
            url = urlsplit(shown)
            shown = url._replace(path=posixpath.join(url.path, name)).geturl()
        else:
            shown = str(Path(shown) / name)
        return Location(self.fs, posixpath.join(self.path, name), shown)

    @property
    def kind(self) -> pyarrow.fs.FileType:
        return self.fs.get_file_info(self.path).type

    def children(self) -> list[Location]:
        """Everything in this folder, sorted by name; [] when it is not a folder."""
        if self.kind != pyarrow.fs.FileType.Directory:
            return []
        if isinstance(self.fs, pyarrow.fs.LocalFileSystem):  # broken links too: skipped with a warning
            names = os.listdir(self.path)
        else:
            names = [info.base_name for info in self.fs.get_file_info(pyarrow.fs.FileSelector(self.path))]
        return sorted((self / name for name in names), key=lambda child: child.path)

    def __str__(self) -> str:
        return self.shown


def is_uri(given: str | Path) -> bool:
    return "://" in str(given)


def study_name(root: Path | str) -> str:
    """The last part of a study folder's path or URI: the study's name."""
    path = urlsplit(str(root)).path if is_uri(root) else str(root)
    return posixpath.basename(path.rstrip("/"))


def check_study_dir(results_dir: str | Path) -> Path | str:
    """Return the study folder (a Path, or the URI as given); ValueError (one line) when it is
    not a study."""
    root = Location.of(results_dir)
    try:
        if root.kind != pyarrow.fs.FileType.Directory:
            raise ValueError(f"results folder {root.shown!r} does not exist or is not a folder")
        trials = root / "trials"
        if trials.kind != pyarrow.fs.FileType.Directory:
            raise ValueError(f"{root.shown!r} is not a study: no trials/ folder")
        if not _parquet_files(trials):
            raise ValueError(f"{root.shown!r} is not a study yet: trials/ holds no .parquet files")
    except (OSError, pa.ArrowException) as error:  # storage that cannot be reached
        message = str(error).strip().splitlines()[0] if str(error).strip() else "no message"
        raise ValueError(
            f"results {root.shown!r} cannot be read ({type(error).__name__}: {message})"
        ) from None
    return str(results_dir) if is_uri(results_dir) else Path(results_dir)


def read_table(path: Path | Location, *, schema: pa.Schema, required: frozenset) -> pa.Table:
    """Read one Parquet file and cast it to `schema`; optional columns it lacks become null.

    Raises (OSError, pyarrow errors, ValueError) when the file cannot be read, lacks a required
    column, or holds a column whose type cannot be cast.
    """
    where = path if isinstance(path, Location) else Location.of(path)
    table = pq.read_table(where.path, filesystem=where.fs)
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
    folder: Path | Location, *, schema: pa.Schema, required: frozenset, skipped: list[str]
) -> pd.DataFrame:
    """Concatenate every readable *.parquet in `folder`; unreadable ones go to `skipped`."""
    tables = []
    for path in _parquet_files(folder if isinstance(folder, Location) else Location.of(folder)):
        table = _read_or_skip(path, schema=schema, required=required, skipped=skipped)
        if table is not None:
            tables.append(table)
    if not tables:
        return schema.empty_table().to_pandas()
    return pa.concat_tables(tables).to_pandas()


def load_study(results_dir: str | Path) -> StudyData:
    """Read a study folder; ValueError when it is not a study or no trial file is readable."""
    root = check_study_dir(results_dir)
    folder = Location.of(root)
    skipped: list[str] = []
    trials = read_folder(folder / "trials", schema=TRIAL_SCHEMA, required=TRIAL_REQUIRED, skipped=skipped)
    if trials.empty:
        raise ValueError(f"{str(root)!r}: no readable trial rows in trials/ ({len(skipped)} skipped)")
    curves_dir = folder / "curves"
    if curves_dir.kind == pyarrow.fs.FileType.Directory:
        curves = read_folder(curves_dir, schema=CURVE_SCHEMA, required=CURVE_REQUIRED, skipped=skipped)
    else:
        _skip(skipped, curves_dir, "no curves/ folder: learning curves are left out")
        curves = CURVE_SCHEMA.empty_table().to_pandas()
    diagnose = None
    top = {child.path: child for child in folder.children()}
    diagnose_path = folder / DIAGNOSE_FILE
    if diagnose_path.path in top:  # a broken link too: skipped with a warning
        table = _read_or_skip(
            diagnose_path, schema=DIAGNOSE_SCHEMA, required=DIAGNOSE_REQUIRED, skipped=skipped
        )
        diagnose = None if table is None else table.to_pandas()
    for frame in (trials, curves, diagnose):
        if frame is not None:  # files written before tasks: the integer bandit at n
            frame["task"] = frame["task"].fillna(frame["n"].map(integer_task, na_action="ignore"))
    for frame in (trials, diagnose):
        for column, value in OLDER_VALUES.items():  # files written before a knob: its older value
            if frame is not None and column in frame:
                frame[column] = frame[column].fillna(value).astype(type(value))
    return StudyData(root, _read_meta(folder / "study.json", skipped), trials, curves, diagnose, skipped)


def ordered_tasks(tasks) -> list[str]:
    """Integer bandits by n, then context sets in the order given."""
    tasks = list(dict.fromkeys(str(t) for t in tasks))
    return sorted(filter(is_integer_task, tasks), key=int) + [t for t in tasks if not is_integer_task(t)]


def _parquet_files(folder: Location) -> list[Location]:
    """The *.parquet files of a folder, sorted; hidden (temporary) files are not results."""
    return [
        child
        for child in folder.children()
        if child.path.endswith(".parquet") and not posixpath.basename(child.path).startswith(".")
    ]


def _read_or_skip(
    path: Location, *, schema: pa.Schema, required: frozenset, skipped: list[str]
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


def study_meta(root: Path | str) -> StudyRecord:
    """study.json of a study folder or URI; an empty record when it cannot be read."""
    return _read_meta(Location.of(root) / "study.json", [])


def _read_meta(path: Location, skipped: list[str]) -> StudyRecord:
    try:
        with path.fs.open_input_stream(path.path) as stream:
            return read_record(stream.read())
    except (OSError, ValueError) as error:
        _skip(skipped, path, f"{type(error).__name__}: {error}; study metadata left out")
        return StudyRecord(name="")


def _skip(skipped: list[str], path: Location, reason: str) -> None:
    message = f"{path}: {reason}"
    skipped.append(message)
    warnings.warn(f"skipping {message}", SkippedFileWarning, stacklevel=3)
