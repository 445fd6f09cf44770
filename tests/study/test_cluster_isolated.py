"""A cluster as a user has it, built on one machine: the worker node runs in another folder with
another PYTHONPATH, and the user's module refuses to load from the user's folder there (Ray puts
the driver's folder on its workers' path), so only the copy shipped with the job can run. Where
this machine allows it (root), the worker runs in its own mount namespace too (tmpfs over the
results folder and over the folder holding the user's module, so it sees neither, as a second
machine would not), and a study without --storage is refused first (exit 2). The head advertises
no CPUs (every trial trains on the worker), and a local S3 server (moto) is the study's storage.
Studies run from the user's folder with `--reward mymodule:fn` and `--contexts mymodule:fn`:
every trial must finish with that code, and every result file must land on the driver."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.study.cluster import start_cluster, stop_nodes
from tests.study.conftest import BANDITUNE, BUCKET, reap, subprocess_env

pytestmark = pytest.mark.slow

USER_MODULE = '''
import torch


def reward(x, a, n):
    """The forum's reward, from the user's own folder."""
    return -(x - a).abs().float()


def blobs():
    """4 separable blobs in 8 dimensions, 160 contexts."""
    g = torch.Generator().manual_seed(3)
    centres = torch.randn(4, 8, generator=g) * 3
    labels = torch.arange(160) % 4
    return centres[labels] + torch.randn(160, 8, generator=g), labels
'''
TINY = ["--trials", "2", "--num-seeds", "2", "--reports", "2", "--scheduler", "fifo"]


def mount_namespace_refusal() -> str | None:
    """Why this machine cannot give a process its own mount namespace with a tmpfs, or None."""
    if shutil.which("unshare") is None:
        return "no `unshare` command"
    probe = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "mount", "-t", "tmpfs", "none", "/mnt"],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:
        return f"cannot make a mount namespace with a tmpfs (needs root): {probe.stderr.strip()}"
    return None


def hidden(folders: list[Path]) -> tuple[str, ...]:
    """A command prefix that runs the rest in its own mount namespace with `folders` empty."""
    mounts = " && ".join(f"mount -t tmpfs none {shlex.quote(str(f))}" for f in folders)
    return ("unshare", "--mount", "--propagation", "private", "bash", "-c", mounts + ' && exec "$@"', "--")


def test_user_code_and_results_cross_a_cluster_that_shares_no_files(tmp_path, ray_tmpdir, s3):
    why = mount_namespace_refusal()  # None: root, the worker sees neither folder
    endpoint, client = s3
    user, results, elsewhere = tmp_path / "user", tmp_path / "results", tmp_path / "elsewhere"
    for folder in (user, results, elsewhere):
        folder.mkdir()
    (user / "mymodule.py").write_text(USER_MODULE)
    env = subprocess_env(ray_tmpdir)
    env |= {"RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S": "0", "AWS_ENDPOINT_URL": endpoint}
    worker_env = env | {"PYTHONPATH": str(elsewhere)}
    alone = subprocess.run(
        [sys.executable, "-c", "import mymodule"],
        cwd=elsewhere,
        env=worker_env,
        capture_output=True,
        check=False,
    )
    assert alone.returncode == 1 and b"No module named 'mymodule'" in alone.stderr  # unless shipped
    studies = {
        "reward": ["--reward", "mymodule:reward", "--n", "10", "--sample-budget", "4k"],
        "contexts": ["--contexts", "mymodule:blobs", "--sample-budget", "4k"],
    }
    nodes, runs, seconds = [], {}, {}
    try:
        nodes, address, _ = start_cluster(
            tmp_path,
            ray_tmpdir,
            env,
            head_cpus=0,
            worker_prefix=() if why else hidden([user, results]),
            worker_env=worker_env,
            worker_cwd=elsewhere,
        )
        for name, argv in (({} if why else {"local": studies["reward"]}) | studies).items():
            command = [BANDITUNE, "study", "--name", name, "--results", str(results), *TINY, *argv]
            command += ["--address", address]
            if name != "local":  # the study folder on this machine is not the cluster's storage
                command += ["--storage", f"s3://{BUCKET}/banditune"]
            start = time.monotonic()
            runs[name] = subprocess.run(
                command, cwd=user, env=env, capture_output=True, text=True, timeout=600, check=False
            )
            seconds[name] = time.monotonic() - start
    finally:
        stop_nodes(nodes)
    assert reap(f"RAY_TMPDIR={ray_tmpdir}") == []
    if why:
        print(f"\nthe worker sees this machine's files ({why}): no refusal without --storage to check")
    else:
        local = runs.pop("local")
        assert local.returncode == 2, local.stdout[-3000:] + local.stderr[-3000:]
        refusal = [line for line in local.stderr.splitlines() if "error:" in line]
        assert len(refusal) == 1 and "cannot be written from node" in refusal[0], local.stderr
        assert "pass --storage s3://bucket/prefix" in refusal[0] and "start " not in local.stdout
        assert not (results / "local").exists()
        print(f"\nrefused without --storage in {seconds['local']:.0f} s: {refusal[0]}")
    assert set(runs) == set(studies)
    for name, run in runs.items():
        output = run.stdout + run.stderr
        assert run.returncode == 0, output[-4000:]
        assert "trials: 2 finished" in output, output[-4000:]
        trials = sorted((results / name / "trials").glob("*.parquet"))
        assert [p.stem for p in trials].count("reference") == 1 and len(trials) == 3
        rows = [r for p in trials for r in pq.read_table(p).to_pylist()]
        assert {r["status"] for r in rows} == {"finished"}, {r["error"] for r in rows}
        assert len(list((results / name / "curves").glob("*.parquet"))) == 3
        stored = client.list_objects_v2(Bucket=BUCKET, Prefix=f"banditune/{name}/")
        assert stored["KeyCount"] > 0
        print(
            f"{name}: {seconds[name]:.0f} s, {len(trials)} trial files and 3 curve files on the driver,"
            f" {stored['KeyCount']} objects in S3; {output.splitlines()[0]}"
        )
