"""Fixtures: fake study folders written by fake_study (the documented Parquet contract)."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.analyze import analyze
from tests.analysis.fake_study import diagnose_rows, planted_trials, synthetic_trials, write_study


@pytest.fixture(scope="session")
def planted_study(tmp_path_factory) -> Path:
    """The planted study, with confirmation rows and a diagnose.parquet."""
    root = tmp_path_factory.mktemp("planted") / "planted"
    return write_study(root, planted_trials(), diagnose=diagnose_rows())


@pytest.fixture(scope="session")
def planted_summary(planted_study) -> dict:
    """analyze() of the planted study, written to its report/ folder."""
    return analyze(planted_study)


@pytest.fixture(scope="session")
def synthetic_study(tmp_path_factory) -> Path:
    """A plausible 36-config study without confirmation or diagnosis."""
    return write_study(tmp_path_factory.mktemp("synthetic") / "synthetic", synthetic_trials())
