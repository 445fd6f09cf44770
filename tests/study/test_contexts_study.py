"""A study over tasks: the integer bandit and a user's own context set, through study and analyze."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from cli import main as cli

pytestmark = pytest.mark.slow

BLOBS = "tests.synthetic_contexts:blobs"


def test_a_study_trains_every_trial_on_every_task_and_analysis_scores_each(ray_session, tmp_path, capsys):
    argv = ["--n", "10", "--contexts", BLOBS, "--num-seeds", "2", "--trials", "4", "--reports", "3"]
    argv += ["--warm-start"]
    budget = ["--sample-budget", f"10=20k,{BLOBS}=20k", "--gpus-per-trial", "0"]
    assert cli.main(["study", "--results", str(tmp_path), "--name", "ctx", *argv, *budget]) == 0
    root = tmp_path / "ctx"
    rows = [r for p in sorted((root / "trials").glob("*.parquet")) for r in pq.read_table(p).to_pylist()]
    search = [r for r in rows if r["phase"] == "search"]
    assert len(search) == 4 * 2 * 2  # every trial on both tasks, 2 seeds each
    assert {(r["task"], r["n"]) for r in rows} == {("10", 10), (BLOBS, 4)}
    assert all(r["heldout_exact_match"] is None for r in rows if r["task"] == "10")
    held = [r["heldout_exact_match"] for r in rows if r["task"] == BLOBS and r["phase"] == "search"]
    assert all(0 <= h <= 1 for h in held) and max(held) >= 0.9  # the warm start learns the blobs
    curves = [r for p in (root / "curves").glob("*.parquet") for r in pq.read_table(p).to_pylist()]
    assert {r["task"] for r in curves} == {"10", BLOBS}
    meta = json.loads((root / "study.json").read_text())
    assert meta["tasks"] == ["10", BLOBS] and meta["holdout"] == 0.25 and meta["split_seed"] == 0
    assert meta["sample_budget"] == {"10": 20_000, BLOBS: 20_000}
    supervised = meta["supervised"][BLOBS]  # the supervised reference, on the study's seeds
    assert supervised["samples"] == 20_000 and len(supervised["accuracy"]["heldout"]) == 2
    assert supervised["mean"]["heldout"] >= 0.9

    capsys.readouterr()
    assert cli.main(["analyze", str(root)]) == 0
    out = capsys.readouterr().out
    assert f"at {BLOBS}:" in out and "at every task:" in out
    summary = json.loads((root / "report" / "summary.json").read_text())
    assert set(summary["winners"]) == {"10", BLOBS, "both"}
    assert summary["tasks"] == ["10", BLOBS]
    forum = summary["reference"]["forum preset"]["scores"]
    assert set(forum) == {"10", BLOBS, "both"} and forum[BLOBS]["stuck"] is None
    report = (root / "report" / "report.md").read_text()
    section = report[report.index(f"### Above 0.95 at {BLOBS}") :]
    assert "`forum preset`" in section.split("###")[1]  # the forum preset beside the winners
    assert "held out" in report
    assert f"Full supervision on {BLOBS}" in report and summary["supervised"][BLOBS]["samples"] == 20_000
    best = json.loads((root / "report" / "best_config.json").read_text())
    assert best["n"] == 10
    # confirm and diagnose read the study's tasks and holdout, and analyze reads what they write
    assert cli.main(["confirm", str(root), "--top", "1", "--num-seeds", "2", "--long-horizon", "2"]) == 0
    confirmed = [
        r for p in (root / "trials").glob("confirm-long-*.parquet") for r in pq.read_table(p).to_pylist()
    ]
    assert {r["task"] for r in confirmed} == {"10", BLOBS}
    assert {r["sample_budget"] for r in confirmed} == {40_000}
    assert all(r["heldout_exact_match"] is not None for r in confirmed if r["task"] == BLOBS)
    diagnose = ["--study", "ctx", "--results", str(tmp_path), "--num-seeds", "2"]
    assert cli.main(["diagnose", *diagnose, "--sample-budget", f"10=2000,{BLOBS}=2000"]) == 0
    capsys.readouterr()
    assert cli.main(["analyze", str(root)]) == 0
    summary = json.loads((root / "report" / "summary.json").read_text())
    assert {row["task"] for row in summary["confirmation"]} == {"10", BLOBS, "both"}
    report = (root / "report" / "report.md").read_text()
    assert f"exact match {BLOBS}" in report and f"- {BLOBS}: mean exact match >= 0.95 with" in report
