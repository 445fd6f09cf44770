"""Results in storage: with --storage s3://..., every result file is in S3 as soon as the driver
has written it. A study whose driver is killed and whose folder and Ray are lost (a head machine
gone) is fetched back from S3 by --resume and ends with every earlier trial once; analyze reads
it from S3 in place."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time

import optuna
import pyarrow.parquet as pq
import pytest

from analysis.load import load_study
from cli import main as cli
from tests.study.cluster import wait_for
from tests.study.conftest import BANDITUNE, BUCKET, driver, reap, subprocess_env

pytestmark = pytest.mark.slow

TRIALS = 4
NAME = "lost"
SMALL = ["--n", "10", "30", "--num-seeds", "2", "--sample-budget", "4k", "--reports", "2"]


def keys(client, prefix: str) -> list[str]:
    """The keys under `prefix` but Tune's experiment, relative to it."""
    found = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        found += [item["Key"][len(prefix) :] for item in page.get("Contents", [])]
    return [key for key in found if key and not key.startswith("tune/") and not key.endswith("/")]


def stored(client, prefix: str) -> dict[str, bytes]:
    """Every object under `prefix` but Tune's experiment: relative key -> bytes."""
    return {
        key: client.get_object(Bucket=BUCKET, Key=prefix + key)["Body"].read() for key in keys(client, prefix)
    }


def result_files(root) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and not p.name.startswith(".") and not p.name.endswith(".lock")
    }


def search_trials(files) -> list[str]:
    return sorted(k for k in files if k.startswith("trials/") and k != "trials/reference.parquet")


def test_a_study_lost_with_its_folder_resumes_from_s3(
    tmp_path, ray_tmpdir, s3, ray_session, capsys, monkeypatch
):
    endpoint, client = s3
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)  # the session's Ray workers get the file system pickled
    storage, prefix = f"s3://{BUCKET}/banditune", f"banditune/{NAME}/"
    root = tmp_path / NAME
    where = ["--results", str(tmp_path), "--name", NAME, "--storage", storage]
    command = [BANDITUNE, "study", *where, *SMALL, "--trials", str(TRIALS)]
    log = (tmp_path / "first.log").open("w")
    with driver(command, subprocess_env(ray_tmpdir), stdout=log, stderr=subprocess.STDOUT) as study:
        wait_for(
            lambda: len(search_trials(keys(client, prefix))) >= 2,
            study,
            timeout=240,
            what=f"two trials did not reach S3 in time (log: {tmp_path / 'first.log'})",
        )
        os.killpg(study.pid, signal.SIGKILL)  # the head is lost once S3 holds two trials
    reap(f"RAY_TMPDIR={ray_tmpdir}")  # what a loaded machine left of the killed Ray, killed too
    before = stored(client, prefix)
    lost = search_trials(before)
    assert 2 <= len(lost) < TRIALS, (tmp_path / "first.log").read_text()[-3000:]
    assert {"study.json", "optuna.journal"} <= set(before)
    for key in lost:  # a trial's curves are there whenever its rows are
        assert key.replace("trials/", "curves/") in before
        assert before[key] == (root / key).read_bytes()  # whole files, as the driver wrote them
    shutil.rmtree(root)  # the head's disk; its Ray went with ray_tmpdir's processes
    shutil.rmtree(ray_tmpdir, ignore_errors=True)

    # a machine without the folder, and without the study in --storage either: refused
    assert (
        cli.main(["study", "--results", str(tmp_path), "--name", "other", "--resume", "--storage", storage])
        == 2
    )
    refusal = capsys.readouterr().err.strip().splitlines()
    assert len(refusal) == 1, refusal
    assert (
        str(tmp_path / "other" / "study.json") in refusal[0] and f"{storage}/other/study.json" in refusal[0]
    )

    start = time.monotonic()
    assert cli.main(["study", *where, "--resume"]) == 0
    resumed_s = time.monotonic() - start
    out = capsys.readouterr().out
    assert f"fetched its {len(before)} files from {storage}/{NAME}" in out, sorted(before)
    files = result_files(root)
    assert len(search_trials(files)) == TRIALS and "trials/reference.parquet" in files
    for key in lost:  # kept, byte for byte
        assert files[key] == before[key]
    rows = [r for key in search_trials(files) for r in pq.read_table(root / key).to_pylist()]
    runs = [(r["trial_id"], r["task"], r["seed"]) for r in rows]
    assert len(runs) == len(set(runs)) == TRIALS * 2 * 2
    journal = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(root / "optuna.journal"))
    )
    states = [t.state for t in optuna.load_study(study_name=NAME, storage=journal).trials]
    assert states.count(optuna.trial.TrialState.COMPLETE) == TRIALS, states
    after = stored(client, prefix)
    assert after == files, set(after) ^ set(files)  # the whole study in S3, as here
    objects = client.list_objects_v2(Bucket=BUCKET, Prefix=prefix)["KeyCount"]
    with capsys.disabled():
        print(
            f"\nlost after {len(lost)} of {TRIALS} trials, {len(before)} result files in S3; resumed from S3"
            f" in {resumed_s:.0f} s: {len(runs)} rows = {TRIALS} trials x 2 tasks x 2 seeds, none twice,"
            f" {len(lost)} pre-loss trial files unchanged; S3: {len(after)} result files, {objects} objects"
        )

    # analyze reads the study from S3 in place, the same rows as from the folder
    study = f"{storage}/{NAME}"
    from_s3, here = load_study(study), load_study(root)
    run = ["trial_id", "task", "seed"]
    assert from_s3.meta == here.meta
    assert from_s3.trials.sort_values(run, ignore_index=True).equals(
        here.trials.sort_values(run, ignore_index=True)
    )
    assert cli.main(["diagnose", "--study", study]) == 2  # no report in S3 yet
    assert f"(run `banditune analyze {study}` first)" in capsys.readouterr().err
    assert cli.main(["analyze", study, "--out", str(tmp_path / "report")]) == 0
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert summary["study"] == NAME and sum(summary["counts"].values()) == TRIALS

    # confirm and diagnose work on the study in S3: their files go there
    assert "report/best_config.json" in keys(client, prefix)  # analyze's copy, diagnose's target
    assert cli.main(["confirm", study, "--top", "1", "--num-seeds", "2", "--long-horizon", "1"]) == 0
    assert cli.main(["diagnose", "--study", study, "--num-seeds", "1", "--sample-budget", "1000"]) == 0
    added = set(keys(client, prefix)) - set(after)
    assert {k.split("/")[0] for k in added} == {"trials", "curves", "report", "diagnose.parquet"}
    assert sum(k.startswith("trials/confirm-") for k in added) == 2 and "diagnose.parquet" in added
    assert not (root / "diagnose.parquet").exists()  # the local folder is not where they worked
