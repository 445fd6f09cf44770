"""A real two-node Ray cluster on loopback: `ray start --head` plus a second `ray start`, then
`ray job submit --working-dir . -- banditune study ... --address auto`; both nodes stopped by their
own process groups (SIGTERM), nothing of theirs left running."""

from __future__ import annotations

import json
import os
import signal
import subprocess

import pyarrow.parquet as pq
import pytest

from contract.schema import TRIAL_SCHEMA
from tests.study.cluster import start_cluster, stop_nodes, trial_workers_of, wait_for
from tests.study.conftest import driver, reap, run_in_repo, subprocess_env

pytestmark = pytest.mark.slow
CAPTURED = {"stdout": subprocess.PIPE, "stderr": subprocess.STDOUT, "text": True}


def study_command(name: str, results, address: str, *, trials: int, budget: str) -> list[str]:
    """`banditune study` at n 10 and 100 with 2 seeds, on the cluster at `address`."""
    where = ["banditune", "study", "--name", name, "--results", str(results), "--address", address]
    size = ["--n", "10", "100", "--num-seeds", "2", "--trials", str(trials)]
    return [*where, *size, "--sample-budget", budget]


def written(trials) -> bool:
    """Whether a search trial's file is in the `trials` folder."""
    return any(p.stem != "reference" for p in trials.glob("*.parquet"))


def test_study_as_a_job_on_a_two_node_cluster(tmp_path, ray_tmpdir):
    env = subprocess_env(ray_tmpdir)
    env["RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S"] = "0"  # SIGTERM stops a node at once
    nodes = []
    try:
        nodes, address, dashboard = start_cluster(tmp_path, ray_tmpdir, env)
        submit = ["ray", "job", "submit", "--address", f"http://127.0.0.1:{dashboard}", "--working-dir", "."]
        study = study_command("mn", tmp_path, "auto", trials=2, budget="10=10k,100=20k")
        job = run_in_repo([*submit, "--", *study, "--reports", "3"], env)
    finally:
        stop_nodes(nodes)
    assert reap(f"RAY_TMPDIR={ray_tmpdir}") == []
    output = job.stdout + job.stderr
    assert job.returncode == 0, output[-4000:]
    assert "Connecting to existing Ray cluster" in output and "succeeded" in output
    root = tmp_path / "mn"
    tables = [pq.read_table(p) for p in sorted((root / "trials").glob("*.parquet"))]
    assert all(t.schema.equals(TRIAL_SCHEMA) for t in tables)
    phases = sorted(r["phase"] for t in tables for r in t.to_pylist())
    assert phases == ["reference"] * 4 + ["search"] * 8  # (2 trials + reference) x 2 n x 2 seeds
    assert len(list((root / "curves").glob("*.parquet"))) == 3
    assert json.loads((root / "study.json").read_text())["ended"]


def test_losing_the_worker_node_mid_study_keeps_every_trial_once(tmp_path, ray_tmpdir):
    """SIGKILL of the second node's process group once a trial is written and another is running
    on that node: its trials are retried from their checkpoints on the head, and the study ends
    with each trial once."""
    env = subprocess_env(ray_tmpdir)
    env["RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S"] = "0"
    nodes = []
    trials = tmp_path / "lost" / "trials"
    try:
        nodes, address, _ = start_cluster(tmp_path, ray_tmpdir, env)
        command = study_command("lost", tmp_path, address, trials=6, budget="10=20k,100=60k")
        with driver([*command, "--reports", "4", "--max-concurrent", "2"], env, **CAPTURED) as study:
            running = wait_for(
                lambda: written(trials) and trial_workers_of(nodes[1]),
                study,
                timeout=600,
                what="no trial ran on the node",
            )
            os.killpg(nodes[1].pid, signal.SIGKILL)
            nodes[1].wait()
            output, _ = study.communicate(timeout=600)
    finally:
        stop_nodes(nodes)
    assert reap(f"RAY_TMPDIR={ray_tmpdir}") == []
    assert study.returncode == 0, output[-4000:]
    print(f"\nkilled the node with trial workers {running} running on it")
    ids = [p.stem for p in trials.glob("*.parquet")]
    assert sorted(ids).count("reference") == 1 and len(ids) == len(set(ids)) == 7
    rows = [r for p in trials.glob("*.parquet") for r in pq.read_table(p).to_pylist()]
    assert len(rows) == 7 * 2 * 2  # every trial at both n and both seeds, once
