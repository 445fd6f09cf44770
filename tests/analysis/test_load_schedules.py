"""Trial files written before the schedule axes existed are read as constant schedules."""

from __future__ import annotations

import pyarrow.parquet as pq

from analysis.load import load_study
from tests.analysis.fake_study import planted_trials, write_study


def test_a_trial_file_without_schedule_columns_reads_as_constant(tmp_path):
    root = tmp_path / "old"
    write_study(root, planted_trials())
    path = sorted((root / "trials").glob("*.parquet"))[0]
    table = pq.read_table(path)
    pq.write_table(table.drop_columns(["lr_schedule", "entropy_schedule"]), path)
    data = load_study(root)
    assert not data.skipped
    old = data.trials[data.trials["trial_id"] == table.column("trial_id")[0].as_py()]
    assert set(old["lr_schedule"]) == {"constant"} and set(old["entropy_schedule"]) == {"constant"}
