"""Interrupted studies, then --resume: Ctrl-C (SIGINT to the driver's process group, as a terminal
sends it) exits 130 and prints the command that resumes; SIGKILL of the process group leaves
files that stay byte for byte. Either way the resumed study ends with exactly its trials, each once."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess

import optuna
import pyarrow.parquet as pq
import pytest

from tests.study.cluster import wait_for
from tests.study.conftest import BANDITUNE, TINY, driver, reap, run_in_repo, subprocess_env

pytestmark = pytest.mark.slow

TRIALS = 6


def search_files(root):
    return sorted(p for p in (root / "trials").glob("*.parquet") if p.stem != "reference")


def journal_states(root, name):
    study = optuna.load_study(
        study_name=name,
        storage=optuna.storages.JournalStorage(
            optuna.storages.journal.JournalFileBackend(str(root / "optuna.journal"))
        ),
    )
    return [t.state for t in study.trials]


def assert_each_trial_once(root, name, *, trials, seeds):
    files = search_files(root)
    assert len(files) == trials
    rows = [r for p in files for r in pq.read_table(p).to_pylist()]
    keys = [(r["trial_id"], r["n"], r["seed"]) for r in rows]
    assert len(keys) == len(set(keys)) == trials * 2 * seeds
    assert {p.stem for p in files} == {r["trial_id"] for r in rows}
    assert (root / "trials" / "reference.parquet").is_file()
    states = journal_states(root, name)
    assert states.count(optuna.trial.TrialState.COMPLETE) == trials
    assert optuna.trial.TrialState.RUNNING not in states


def test_ctrl_c_exits_130_with_the_resume_line_and_the_resume_runs_each_trial_once(tmp_path, ray_tmpdir):
    env = subprocess_env(ray_tmpdir)
    marker = f"RAY_TMPDIR={ray_tmpdir}"
    root = tmp_path / "c"
    command = [BANDITUNE, "study", "--results", str(tmp_path), "--name", "c", "--n", "10", "100"]
    command += ["--num-seeds", "2", "--sample-budget", "10=5k,100=10k", "--reports", "2"]
    command += ["--trials", "4", "--max-concurrent", "2", "--gpus-per-trial", "0"]
    with driver(command, env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as study:
        wait_for(lambda: search_files(root), study, timeout=300, what="no trial finished in time", every=0.05)
        os.killpg(study.pid, signal.SIGINT)  # Ctrl-C: the terminal signals the whole group
        out, err = study.communicate(timeout=300)
    assert study.returncode == 130, out[-3000:] + err[-3000:]
    [line] = [line for line in err.splitlines() if "continue it with: " in line]
    done = int(line.split(" interrupted with ")[1].split()[0])
    assert 1 <= done < 4 and len(search_files(root)) == done, line
    resume = shlex.split(line.split("continue it with: ", 1)[1])
    assert resume[:2] == ["banditune", "study"] and resume[-1] == "--resume"
    assert reap(marker) == []  # Ray's processes went down with the driver

    resumed = run_in_repo(resume, env)
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    assert reap(marker) == []
    assert "4 trials: " in resumed.stdout
    assert_each_trial_once(root, "c", trials=4, seeds=2)
    print(f"\nCtrl-C: exit {study.returncode} after {done} of 4 trials; {line.strip()}")


def test_sigkill_then_resume_runs_each_trial_once(tmp_path, ray_tmpdir):
    env = subprocess_env(ray_tmpdir)
    marker = f"RAY_TMPDIR={ray_tmpdir}"
    root = tmp_path / "k"
    command = [BANDITUNE, "study", "--results", str(tmp_path), "--name", "k", *TINY]
    command += ["--sample-budget", "10=10k,100=20k", "--trials", str(TRIALS), "--gpus-per-trial", "0"]
    with driver(command, env, stdout=(tmp_path / "first.log").open("w"), stderr=subprocess.STDOUT) as study:
        wait_for(
            lambda: len(search_files(root)) >= 2,
            study,
            timeout=240,
            what="two trials did not finish in time",
            every=0.05,
        )
        os.killpg(study.pid, signal.SIGKILL)
        study.wait()
    assert study.returncode == -signal.SIGKILL
    before = {p.name: p.read_bytes() for p in search_files(root)}
    assert 2 <= len(before) < TRIALS
    assert reap(marker) == []  # Ray's processes went down with the driver

    resumed = run_in_repo([BANDITUNE, "study", "--results", str(tmp_path), "--name", "k", "--resume"], env)
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    assert reap(marker) == []

    for name, data in before.items():
        assert (root / "trials" / name).read_bytes() == data
    assert_each_trial_once(root, "k", trials=TRIALS, seeds=3)
    assert not list(root.glob("*/.*.tmp"))
    assert "resume" in (root / "study.json").read_text()
