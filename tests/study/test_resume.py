"""SIGKILL of the driver's process group mid-study, then --resume: the study ends with exactly
its trials, each once, and the files written before the kill stay byte for byte."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import optuna
import pyarrow.parquet as pq
import pytest

from tests.study.conftest import BANDITUNE, REPO, TINY, reap, subprocess_env

pytestmark = pytest.mark.slow

TRIALS = 6


def search_files(root):
    return sorted(p for p in (root / "trials").glob("*.parquet") if p.stem != "reference")


def test_sigkill_then_resume_runs_each_trial_once(tmp_path, ray_tmpdir):
    env = subprocess_env(ray_tmpdir)
    marker = f"RAY_TMPDIR={ray_tmpdir}"
    root = tmp_path / "k"
    command = [
        BANDITUNE,
        "study",
        "--results",
        str(tmp_path),
        "--name",
        "k",
        *TINY,
        "--sample-budget",
        "10=10k,100=20k",
        "--trials",
        str(TRIALS),
        "--gpus-per-trial",
        "0",
    ]
    log = (tmp_path / "first.log").open("w")
    driver = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 240
        while len(search_files(root)) < 2 and driver.poll() is None:
            assert time.monotonic() < deadline, "two trials did not finish in time"
            time.sleep(0.05)
    finally:
        os.killpg(driver.pid, signal.SIGKILL)
        driver.wait()
    assert driver.returncode == -signal.SIGKILL
    before = {p.name: p.read_bytes() for p in search_files(root)}
    assert 2 <= len(before) < TRIALS
    assert reap(marker) == []  # Ray's processes went down with the driver

    resumed = subprocess.run(
        [BANDITUNE, "study", "--results", str(tmp_path), "--name", "k", "--resume"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    assert reap(marker) == []

    files = search_files(root)
    assert len(files) == TRIALS
    for name, data in before.items():
        assert (root / "trials" / name).read_bytes() == data
    rows = [r for p in files for r in pq.read_table(p).to_pylist()]
    keys = [(r["trial_id"], r["n"], r["seed"]) for r in rows]
    assert len(keys) == len(set(keys)) == TRIALS * 2 * 3
    assert {p.stem for p in files} == {r["trial_id"] for r in rows}
    assert (root / "trials" / "reference.parquet").is_file()
    assert not list(root.glob("*/.*.tmp"))
    study = optuna.load_study(
        study_name="k",
        storage=optuna.storages.JournalStorage(
            optuna.storages.journal.JournalFileBackend(str(root / "optuna.journal"))
        ),
    )
    states = [t.state for t in study.trials]
    assert states.count(optuna.trial.TrialState.COMPLETE) == TRIALS
    assert optuna.trial.TrialState.RUNNING not in states
    assert "resume" in (root / "study.json").read_text()
