"""The Parquet contract: what the study writes is what the analysis reads."""

from analysis import load
from study import export


def test_analysis_reads_exactly_the_schemas_the_study_writes():
    assert load.TRIAL_SCHEMA.equals(export.TRIAL_SCHEMA)
    assert load.CURVE_SCHEMA.equals(export.CURVE_SCHEMA)


def test_config_columns_are_the_study_axes_plus_the_reward():
    from study.space import AXIS_FIELDS

    assert set(load.CONFIG_COLUMNS) == {*AXIS_FIELDS, "reward"}
