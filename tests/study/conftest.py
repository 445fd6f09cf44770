"""Shared fixtures of the study tests: one embedded Ray for the session, tiny study options.

Ray runs with 2 CPUs and 1 logical GPU (no CUDA here: trials given a GPU fall back to the CPU),
without the dashboard, in a short temp folder that is removed afterwards.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
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
    boto3 = pytest.importorskip("boto3")
    from tests.study.cluster import DUMMY_AWS, free_port

    for key, value in DUMMY_AWS.items():
        monkeypatch.setenv(key, value)
    port = free_port()
    log = (tmp_path / "moto.log").open("w")
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client("s3", endpoint_url=endpoint)
    deadline = time.monotonic() + 180  # generous: the server starts slowly on a loaded machine
    while True:
        try:
            client.create_bucket(Bucket=BUCKET)
            break
        except Exception:
            assert time.monotonic() < deadline and server.poll() is None, "moto server did not start"
            time.sleep(0.3)
    try:
        yield endpoint, client
    finally:
        server.terminate()
        server.wait(timeout=30)


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
    import signal
    import time

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
