"""The reader: unreadable files are skipped with a warning naming them; a non-study is a ValueError."""

from __future__ import annotations

import argparse
import json
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analysis.analyze import analyze
from analysis.load import SkippedFileWarning, load_study
from cli import analyze as cli
from tests.analysis.fake_study import planted_trials, write_study


@pytest.fixture
def damaged_study(tmp_path):
    """The planted study plus a corrupt, a truncated, a missing (dangling link) and a
    wrong-schema trial file."""
    root = write_study(tmp_path / "damaged", planted_trials())
    trials = root / "trials"
    (trials / "corrupt.parquet").write_bytes(b"this is not parquet at all" * 10)
    whole = (trials / "planted_a-search.parquet").read_bytes()
    (trials / "truncated.parquet").write_bytes(whole[: len(whole) // 2])
    (trials / "missing.parquet").symlink_to(tmp_path / "gone.parquet")
    bad = pq.read_table(trials / "loser_1-search.parquet").to_pandas()
    bad["exact_match"] = "high"
    pq.write_table(pa.Table.from_pandas(bad), trials / "wrong_type.parquet")
    pq.write_table(pa.table({"trial_id": ["x"], "n": [10]}), trials / "few_columns.parquet")
    return root


BAD = ("corrupt", "truncated", "missing", "wrong_type", "few_columns")


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="banditune")
    cli.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def test_unreadable_files_are_skipped_with_a_warning_naming_each(damaged_study):
    with pytest.warns(SkippedFileWarning) as caught:
        data = load_study(damaged_study)
    messages = " ".join(str(w.message) for w in caught)
    for name in BAD:
        assert f"{name}.parquet" in messages
    assert len(data.skipped) == len(BAD)
    assert "missing column(s)" in messages  # few_columns says what it lacks
    good = {t["rows"][0]["trial_id"] for t in planted_trials()}
    assert set(data.trials["trial_id"]) == good  # every good file still read


def test_cli_still_writes_the_report_and_lists_the_skipped_files(damaged_study, capsys):
    args = _parse(["analyze", str(damaged_study), "--out", str(damaged_study / "out")])
    with pytest.warns(SkippedFileWarning):
        assert args.plan(args)() == 0
    printed = capsys.readouterr()
    assert "above 0.95 at every n: 2 config(s)" in printed.out
    assert all(f"{name}.parquet" in printed.err for name in BAD)
    report = (damaged_study / "out" / "report.md").read_text()
    section = report[report.index("## Skipped files") :]
    for name in BAD:
        assert f"{name}.parquet" in section
    summary = json.loads((damaged_study / "out" / "summary.json").read_text())
    assert len(summary["skipped_files"]) == len(BAD)
    assert {w["trial_id"] for w in summary["winners"]["both"]} == {"planted_a", "planted_b"}


def test_missing_curves_folder_is_a_warning_not_an_error(tmp_path):
    root = write_study(tmp_path / "nocurves", planted_trials())
    shutil.rmtree(root / "curves")
    with pytest.warns(SkippedFileWarning, match="curves"):
        data = load_study(root)
    assert data.curves.empty and not data.trials.empty


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p, "does not exist"),
        (lambda p: p.mkdir() or p, "no trials/ folder"),
        (lambda p: (p / "trials").mkdir(parents=True) or p, "no .parquet files"),
    ],
)
def test_not_a_study_is_a_one_line_value_error(tmp_path, make, message):
    root = make(tmp_path / "study")
    with pytest.raises(ValueError, match=message) as error:
        analyze(root)
    assert "\n" not in str(error.value)


def test_no_readable_trial_file_is_a_value_error(tmp_path):
    (tmp_path / "s" / "trials").mkdir(parents=True)
    (tmp_path / "s" / "trials" / "a.parquet").write_bytes(b"junk")
    with (
        pytest.warns(SkippedFileWarning),
        pytest.raises(ValueError, match="no readable trial rows"),
    ):
        analyze(tmp_path / "s")


@pytest.mark.parametrize("threshold", ["0", "1.5", "-0.1", "nan"])
def test_cli_rejects_a_bad_threshold_before_any_work(planted_study, tmp_path, threshold):
    args = _parse(["analyze", str(planted_study), "--threshold", threshold, "--out", str(tmp_path / "o")])
    with pytest.raises(ValueError, match=r"--threshold .* \(0, 1\]"):
        args.plan(args)
    assert not (tmp_path / "o").exists()


def test_cli_rejects_an_out_that_is_a_file(planted_study, tmp_path):
    (tmp_path / "file").write_text("x")
    args = _parse(["analyze", str(planted_study), "--out", str(tmp_path / "file")])
    with pytest.raises(ValueError, match="--out"):
        args.plan(args)
