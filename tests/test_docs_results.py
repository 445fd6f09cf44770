"""docs/results.md: its Python snippets run against a small fake study in the results contract,
with every kind of row a real study folder holds (search, reference, confirm at both horizons,
a failed trial) and files named as the study and confirm name them."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from contract.schema import CURVE_SCHEMA, TRIAL_SCHEMA
from tests.analysis.fake_study import NS, SEEDS, planted_trials

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "results.md"


def _file_name(trial_id: str, phase: str, horizon: str) -> str:
    if phase == "confirm":
        return f"confirm-long-{trial_id}.parquet" if horizon == "long" else f"confirm-{trial_id}.parquet"
    return f"{trial_id}.parquet"


def _write(root: Path, rows: list[dict], curves: list[dict], *, horizon: str) -> None:
    for r in rows + curves:
        r["task"], r["horizon"] = str(r["n"]), horizon
    name = _file_name(rows[0]["trial_id"], rows[0]["phase"], horizon)
    pq.write_table(pa.Table.from_pylist(rows, schema=TRIAL_SCHEMA), root / "trials" / name)
    if curves:
        pq.write_table(pa.Table.from_pylist(curves, schema=CURVE_SCHEMA), root / "curves" / name)


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("docs") / "laptop"
    (root / "trials").mkdir(parents=True)
    (root / "curves").mkdir()
    for t in planted_trials():
        rows, curves = t["rows"], t["curves"]
        if rows[0]["trial_id"] == "forum":
            for r in rows + curves:
                r["trial_id"] = "reference"
        _write(root, rows, curves, horizon="search")
        if rows[0]["phase"] == "confirm":  # the long horizon too, as `banditune confirm` writes
            _write(root, [dict(r) for r in rows], [dict(c) for c in curves], horizon="long")
    (root / "trials" / ".tmp-unfinished.parquet").write_bytes(b"not parquet")  # a write in flight
    meta = {"name": "laptop", "n": list(NS), "tasks": [str(n) for n in NS], "seeds": list(SEEDS)}
    (root / "study.json").write_text(json.dumps(meta))
    return root


def _snippets() -> list[str]:
    return re.findall(r"```python\n(.*?)```", PAGE.read_text(), flags=re.S)


def _run(code: str, study: Path) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code.replace("results/laptop", str(study)), str(PAGE), "exec"), {})
    return out.getvalue()


def test_the_page_has_a_pandas_a_duckdb_and_an_analysis_snippet():
    snippets = _snippets()
    assert len(snippets) == 3
    assert all("results/laptop" in s for s in snippets)


def test_pandas_snippet_ranks_the_search_rows_only(study):
    out = _run(next(s for s in _snippets() if "import pandas" in s), study)
    assert "confirm" in out and "long" in out and "reference" in out  # the mix, shown first
    ranking = out[out.index("worst_task_mean") :].splitlines()
    ids = [line.split()[0] for line in ranking[2:] if line.strip()]
    assert ids[:2] == ["planted_a", "planted_b"] and "reference" not in ids and "broken" not in ids


def test_duckdb_snippet_ranks_the_search_rows_only(study):
    pytest.importorskip("duckdb")
    out = _run(next(s for s in _snippets() if "import duckdb" in s), study)
    assert "confirm" in out and "long" in out
    ranking = out[out.index("worst_task_mean") :]
    first = [line for line in ranking.splitlines() if "│" in line and ("planted" in line or "decoy" in line)]
    assert first and "planted_" in first[0]
    assert "reference" not in ranking and "broken" not in ranking


def test_analysis_snippet_scores_and_picks_the_confirmed_config(study):
    out = _run(next(s for s in _snippets() if "from analysis" in s), study)
    lines = out.strip().splitlines()
    assert "planted_" in out and "iqm" in out
    assert lines[-1] == "planted_a"  # held on fresh seeds at the long horizon; planted_b did not


@pytest.mark.skipif(importlib.util.find_spec("duckdb") is None, reason="duckdb not installed")
def test_duckdb_is_the_sql_extra():
    text = (ROOT / "pyproject.toml").read_text()
    assert 'sql = ["duckdb"]' in text


def test_the_readme_analysis_snippet_runs(study):
    readme = (ROOT / "README.md").read_text()
    snippet = next(s for s in re.findall(r"```python\n(.*?)```", readme, flags=re.S) if "from analysis" in s)
    out = _run(snippet, study)
    assert "planted_a" in out and "iqm" in out
