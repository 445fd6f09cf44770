"""`--policy` as a study axis: built-in and user networks in one study, in its rows and study.json."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from cli import main as cli
from tests.study.conftest import REPO

pytestmark = pytest.mark.slow

POLICIES = ["mlp", "mlp2", "examples/my_policy.py:bilinear"]


def test_policy_is_a_categorical_axis_of_a_study_and_its_rows(ray_session, tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)  # the user's file, relative to where the study runs
    argv = ["study", "--results", str(tmp_path), "--name", "nets", "--n", "10", "--num-seeds", "2"]
    argv += ["--sample-budget", "3k", "--reports", "2", "--trials", "4", "--scheduler", "fifo"]
    argv += ["--baselines", "grpo", "--encoding", "onehot", "--hidden", "32", "--policy", *POLICIES]
    assert cli.main(argv) == 0
    root = tmp_path / "nets"
    rows = [r for p in sorted((root / "trials").glob("*.parquet")) for r in pq.read_table(p).to_pylist()]
    search = [r for r in rows if r["phase"] == "search"]
    assert len(search) == 4 * 2 and {r["status"] for r in search} == {"finished"}
    assert {r["policy"] for r in search} <= set(POLICIES) and len({r["policy"] for r in search}) >= 2
    assert {r["policy"] for r in rows if r["phase"] == "reference"} == {"mlp"}
    meta = json.loads((root / "study.json").read_text())
    assert meta["search_space"]["policy"] == {"categorical": POLICIES}
    assert meta["spec"]["space"]["policy"] == POLICIES
