"""Shared fixtures of the study tests: one embedded Ray for the session, tiny study options.

Ray runs with 2 CPUs and 1 logical GPU (no CUDA here: trials given a GPU fall back to the CPU),
without the dashboard, in a short temp folder that is removed afterwards.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
os.environ["RAY_AUTH_MODE"] = "disabled"

REPO = Path(__file__).resolve().parents[2]
BANDITUNE = str(Path(sys.executable).with_name("banditune"))
# A tiny study: seconds per trial on two CPU cores.
TINY = ["--n", "10", "100", "--num-seeds", "3", "--sample-budget", "10=20k,100=50k", "--reports", "5"]
BUCKET = "studies"  # the bucket of the `s3` fixture


@pytest.fixture(scope="session")
def ray_session():
    import ray

    temp = tempfile.mkdtemp(prefix="bt-", dir="/tmp")  # short: Ray's socket paths are limited
    ray.init(
        address="local",
        num_cpus=2,
        num_gpus=1,
        include_dashboard=False,
        _temp_dir=os.path.join(temp, "ray"),
        log_to_driver=False,
    )
    try:
        yield ray
    finally:
        ray.shutdown()
        shutil.rmtree(temp, ignore_errors=True)


@pytest.fixture
def ray_tmpdir():
    """A short RAY_TMPDIR for Ray instances that subprocesses start; removed afterwards."""
    temp = tempfile.mkdtemp(prefix="bt-", dir="/tmp")
    try:
        yield temp
    finally:
        shutil.rmtree(temp, ignore_errors=True)


@pytest.fixture
def s3(tmp_path, monkeypatch):
    """A moto S3 server on loopback with one bucket, BUCKET; (endpoint, boto3 client). Dummy AWS
    credentials in this process's environment (and so in every Ray process the test starts)."""
    pytest.importorskip("boto3")
    from tests.study.cluster import DUMMY_AWS, free_port, moto_server

    for key, value in DUMMY_AWS.items():
        monkeypatch.setenv(key, value)
    with moto_server("127.0.0.1", free_port(), tmp_path / "moto.log", bucket=BUCKET) as (endpoint, client):
        yield endpoint, client


@contextmanager
def driver(command: list[str], env: dict, **streams) -> Iterator[subprocess.Popen]:
    """`command` (a study's driver) running in REPO in its own process group, as a terminal starts
    it; SIGKILL to that group afterwards if it still runs."""
    process = subprocess.Popen(command, cwd=REPO, env=env, start_new_session=True, **streams)
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def run_in_repo(command: list[str], env: dict, *, timeout: float = 300) -> subprocess.CompletedProcess:
    """`command` run to its end in REPO, its output captured as text."""
    return subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def subprocess_env(ray_tmpdir: str) -> dict:
    env = dict(os.environ, RAY_TMPDIR=ray_tmpdir, PYTHONUNBUFFERED="1")
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.pop("RAY_ADDRESS", None)
    return env


def processes_with_env(marker: str) -> list[int]:
    """Pids of processes whose environment holds `marker` (e.g. our RAY_TMPDIR=...)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if marker.encode() in (entry / "environ").read_bytes().split(b"\0"):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def reap(marker: str, timeout: float = 180.0) -> list[int]:
    """Wait for the processes marked `marker` to exit (returns as soon as they have; the limit is
    generous for a loaded machine); SIGKILL (by pid) those still there after `timeout` seconds.
    Returns the pids that had to be killed."""
    deadline = time.monotonic() + timeout
    while processes_with_env(marker) and time.monotonic() < deadline:
        time.sleep(0.5)
    stragglers = processes_with_env(marker)
    for pid in stragglers:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return stragglers
