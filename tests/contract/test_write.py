"""The Parquet contract: exact columns and types, rows built from curves, atomic writes."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from contract import schema, write
from contract.knobs import BY_NAME

VALUES = {
    "encoding": "onehot",
    "baseline": "none",
    "reward_scale": "raw",
    "lr": 1e-3,
    "lr_schedule": "constant",
    "entropy_schedule": "constant",
    "entropy_coef": 0.0,
    "batch_size": 64,
    "hidden": 32,
    "group_size": 1,
}
PROVENANCE = {"torch_version": "t", "ray_version": "r", "optuna_version": "o", "git_commit": "c"}

# The documented columns (docs/results.md, "The schemas"), name -> Arrow type; the config columns
# are the knobs of role AXIS (contract.knobs) after the reward.
ARROW = {int: "int64", float: "double", str: "string"}
TRIAL_COLUMNS = {
    "study": "string",
    "trial_id": "string",
    "phase": "string",
    "horizon": "string",
    "status": "string",
    "error": "string",
    "task": "string",
    "n": "int64",
    "seed": "int64",
    **{c: ARROW[BY_NAME[c].type] for c in ("reward", *schema.AXIS_COLUMNS)},  # contract.knobs
    "sample_budget": "int64",
    "exact_match": "double",
    "p_correct": "double",
    "mae": "double",
    "regret": "double",
    "entropy": "double",
    "distinct_actions": "int64",
    "stuck": "int64",
    "reward_mean": "double",
    "samples": "int64",
    "wall_s": "double",
    "samples_per_s": "double",
    "heldout_exact_match": "double",
    "samples_to_95": "int64",
    "samples_to_99": "int64",
    "best_exact_match": "double",
    "auc_exact_match": "double",
    "objective": "double",
    "device": "string",
    "torch_version": "string",
    "ray_version": "string",
    "optuna_version": "string",
    "git_commit": "string",
}
CURVE_COLUMNS = {
    "study": "string",
    "trial_id": "string",
    "phase": "string",
    "horizon": "string",
    "task": "string",
    "n": "int64",
    "seed": "int64",
    "report": "int64",
    "samples": "int64",
    "exact_match": "double",
    "p_correct": "double",
    "mae": "double",
    "regret": "double",
    "entropy": "double",
    "distinct_actions": "int64",
    "stuck": "int64",
    "reward_mean": "double",
    "heldout_exact_match": "double",
    "wall_s": "double",
    "samples_per_s": "double",
    "lr": "double",
    "entropy_coef": "double",
}


def curve(n, seed, report, exact):
    return {
        "n": n,
        "seed": seed,
        "report": report,
        "samples": 100 * (report + 1),
        "exact_match": exact,
        "p_correct": exact / 2,
        "mae": 1 - exact,
        "regret": 0.5,
        "entropy": 1.0,
        "distinct_actions": 3,
        "stuck": 0,
        "reward_mean": -1.0,
        "wall_s": 0.1 * report,
        "samples_per_s": 1000.0,
    }


CURVES = [
    curve(10, s, r, e) for s, es in ((0, (0.5, 0.96, 0.9)), (1, (0.2, 0.4, 0.99))) for r, e in enumerate(es)
]


def record(**fields) -> write.TrialRecord:
    """A search trial on n=10, seeds 0 and 1, with CURVES; `fields` replace any of that."""
    given = {
        "study": "s",
        "trial_id": "t1",
        "phase": "search",
        "status": "finished",
        "error": None,
        "values": VALUES,
        "reward": "abs",
        "tasks": ("10",),
        "seeds": (0, 1),
        "sample_budget": {"10": 300},
        "curves": CURVES,
        "device": "cpu",
    }
    return write.TrialRecord(**{**given, **fields})


def rows(status="finished", error=None):
    return write.trial_rows(record(status=status, error=error), provenance=PROVENANCE, objective=0.5)


def schema_of(columns: dict) -> pa.Schema:
    return pa.schema([(k, pa.type_for_alias(v)) for k, v in columns.items()])


def test_schemas_are_the_documented_columns_and_types():
    assert schema.TRIAL_SCHEMA.equals(schema_of(TRIAL_COLUMNS))
    assert schema.CURVE_SCHEMA.equals(schema_of(CURVE_COLUMNS))


def test_trial_rows_take_final_best_first_reach_and_area_from_the_curves():
    first, second = rows()
    assert (first["exact_match"], first["best_exact_match"], first["samples_to_95"]) == (0.9, 0.96, 200)
    assert first["samples_to_99"] is None and second["samples_to_99"] == 300
    assert first["auc_exact_match"] == pytest.approx((0.5 + 0.96 + 0.9) / 3)
    assert second["samples_to_95"] == 300 and second["samples"] == 300
    assert first["objective"] == second["objective"] == 0.5
    assert first["error"] is None and first["group_size"] == 1 and first["horizon"] == "search"
    assert first["task"] == "10" and first["heldout_exact_match"] is None


def test_trial_rows_take_samples_to_from_the_last_report_where_the_rows_carry_them():
    """Curve rows carry the trainer's samples_to_95/99; the trial row takes the last report's
    (older rows, without them, are read from the exact match as above)."""
    carried = [{**r, "samples_to_95": 100 * r["seed"] + 7, "samples_to_99": None} for r in CURVES]
    first, second = write.trial_rows(record(curves=carried), provenance=PROVENANCE, objective=0.5)
    assert (first["samples_to_95"], second["samples_to_95"]) == (7, 107)
    assert first["samples_to_99"] is None and second["samples_to_99"] is None


def test_a_context_sets_rows_are_scored_on_held_out_contexts():
    held = [{**r, "task": "digits", "heldout_exact_match": r["exact_match"] - 0.1} for r in CURVES]
    on_digits = record(tasks=("digits",), sample_budget={"digits": 300}, curves=held)
    first, _ = write.trial_rows(on_digits, provenance=PROVENANCE, objective=0.5)
    assert first["task"] == "digits" and first["n"] == 10
    assert first["heldout_exact_match"] == pytest.approx(0.8) and first["exact_match"] == 0.9
    assert first["auc_exact_match"] == pytest.approx((0.4 + 0.86 + 0.8) / 3)


def test_an_unknown_phase_or_status_is_refused():
    with pytest.raises(ValueError, match="phase='warmup'"):
        record(phase="warmup")
    with pytest.raises(ValueError, match="status='done'"):
        record(status="done")


def test_failed_trial_rows_keep_config_and_error_with_null_metrics():
    table = write.trial_table(rows("failed", "reward returned NaN"))
    d = table.to_pydict()
    assert d["status"] == ["failed"] * 2 and d["error"] == ["reward returned NaN"] * 2
    for column in ("exact_match", "samples", "samples_to_95", "auc_exact_match", "objective"):
        assert d[column] == [None, None]
    assert d["lr"] == [1e-3, 1e-3] and d["encoding"] == ["onehot", "onehot"]


def test_written_file_reads_back_with_the_schema_and_no_temp_file_is_left(tmp_path):
    path = tmp_path / "trials" / "t1.parquet"
    path.parent.mkdir()
    write.write_atomic(write.trial_table(rows()), path)
    back = pq.read_table(path)
    assert back.schema.equals(schema.TRIAL_SCHEMA) and back.num_rows == 2
    assert [p.name for p in path.parent.iterdir()] == ["t1.parquet"]


def test_a_write_that_dies_midway_leaves_neither_a_final_nor_a_temp_file(tmp_path, monkeypatch):
    def half_write(table, where):
        Path(where).write_bytes(b"PAR1 half")
        raise OSError("disk full")

    monkeypatch.setattr(write.pq, "write_table", half_write)
    with pytest.raises(OSError, match="disk full"):
        write.write_atomic(write.trial_table(rows()), tmp_path / "t1.parquet")
    assert list(tmp_path.iterdir()) == []


def test_curve_table_adds_the_trial_columns():
    table = write.curve_table(record(phase="reference"))
    assert table.schema.equals(schema.CURVE_SCHEMA) and table.num_rows == 6
    assert set(table.column("phase").to_pylist()) == {"reference"}


def test_the_docs_document_every_trial_column_with_its_type():
    import re

    readme = (Path(__file__).resolve().parents[2] / "docs" / "results.md").read_text()
    section = readme[readme.index("`trials/*.parquet` (its schema") : readme.index("Failed trials keep")]
    documented = {}
    for cells in (line.split("|")[1:3] for line in section.splitlines() if line.startswith("| `")):
        for name in re.findall(r"`([a-z_0-9]+)`", cells[0]):
            documented[name] = cells[1].split(",")[0].strip()
    arrow = {"string": "string", "int64": "int64", "float64": "double"}
    assert {k: arrow[v] for k, v in documented.items()} == TRIAL_COLUMNS
