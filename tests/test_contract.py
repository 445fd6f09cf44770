"""The results contract has one home: contract/. Writers and the reader use its objects."""

import ast
from pathlib import Path

import pyarrow.parquet as pq

from analysis import load
from contract import schema
from contract.layout import StudyPaths

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("trainable", "study", "analysis", "contract")


def assignments(name: str) -> list[str]:
    """Modules of the packages that assign `name` at module level."""
    found = []
    for package in PACKAGES:
        for path in (REPO / package).glob("*.py"):
            tree = ast.parse(path.read_text())
            for node in tree.body:
                targets = node.targets if isinstance(node, ast.Assign) else []
                if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                    found.append(f"{package}/{path.name}")
    return found


def test_schemas_threshold_and_names_are_defined_in_contract_schema_only():
    for name in (
        "TRIAL_SCHEMA",
        "CURVE_SCHEMA",
        "DIAGNOSE_SCHEMA",
        "THRESHOLD",
        "PHASES",
        "STATUSES",
        "CONFIG_COLUMNS",
        "CURVE_METRICS",
        "CONFIRM_PREFIX",
        "REFERENCE_ID",
    ):
        assert assignments(name) == ["contract/schema.py"], name


def test_pyarrow_schemas_are_built_only_in_contract_schema():
    users = [
        str(p.relative_to(REPO))
        for package in PACKAGES
        for p in (REPO / package).glob("*.py")
        if "pa.schema(" in p.read_text()
    ]
    assert users == ["contract/schema.py"]


def test_the_reader_uses_the_contract_objects():
    assert load.TRIAL_SCHEMA is schema.TRIAL_SCHEMA
    assert load.CURVE_SCHEMA is schema.CURVE_SCHEMA
    assert load.DIAGNOSE_SCHEMA is schema.DIAGNOSE_SCHEMA
    assert load.CONFIG_COLUMNS is schema.CONFIG_COLUMNS


def test_what_a_writer_writes_the_reader_reads_in_the_contract_schema(tmp_path):
    from contract.write import TrialRecord
    from study.trial import write_result

    paths = StudyPaths(tmp_path)
    paths.trials.mkdir()
    paths.curves.mkdir()
    paths.study_json.write_text('{"name": "s", "n": [10]}')
    curve = {
        "n": 10,
        "seed": 0,
        "report": 0,
        "samples": 100,
        "exact_match": 1.0,
        "p_correct": 0.9,
        "mae": 0.0,
        "regret": 0.0,
        "entropy": 0.1,
        "distinct_actions": 10,
        "stuck": 0,
        "reward_mean": -0.1,
        "wall_s": 0.1,
        "samples_per_s": 1000.0,
    }
    values = {
        "encoding": "onehot",
        "baseline": "grpo",
        "reward_scale": "range",
        "lr": 3e-3,
        "lr_schedule": "constant",
        "entropy_schedule": "constant",
        "entropy_coef": 0.4,
        "batch_size": 512,
        "hidden": 128,
        "group_size": 8,
    }
    record = TrialRecord(
        study="s",
        trial_id="t",
        phase=schema.SEARCH,
        status=schema.FINISHED,
        error=None,
        values=values,
        reward="abs",
        tasks=("10",),
        seeds=(0,),
        sample_budget={"10": 100},
        curves=[curve],
        device="cpu",
    )
    write_result(paths, record)
    assert pq.read_table(paths.trial_file("t")).schema.remove_metadata().equals(schema.TRIAL_SCHEMA)
    data = load.load_study(tmp_path)
    assert data.trials.loc[0, "exact_match"] == 1.0 and data.trials.loc[0, "stuck"] == 0
    assert data.curves.loc[0, "horizon"] == "search"


def test_the_table_of_axes_is_the_contracts_axis_columns_in_order():
    from study.axes import AXES, default_space
    from study.space import describe

    assert tuple(axis.name for axis in AXES) == schema.AXIS_COLUMNS
    assert schema.CONFIG_COLUMNS == ("reward", *schema.AXIS_COLUMNS)
    assert tuple(describe(default_space())) == schema.AXIS_COLUMNS
