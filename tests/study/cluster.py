"""Ray clusters on loopback for the tests: a head and a second node started with `ray start
--block` in their own process groups, stopped by process id (SIGTERM, then SIGKILL); a local S3
server (moto); waiting for a process to get somewhere."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

# Credentials for a local S3 server (moto accepts any).
DUMMY_AWS = {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1"}


def wait_for(done: Callable, process: subprocess.Popen, *, timeout: float, what: str, every: float = 0.2):
    """Call `done` until it returns something true, and return that; fail with `what` if `process`
    exits first or `timeout` seconds pass (be generous: a loaded machine is slow)."""
    deadline = time.monotonic() + timeout
    while not (value := done()):
        assert time.monotonic() < deadline and process.poll() is None, what
        time.sleep(every)
    return value


@contextmanager
def moto_server(
    host: str, port: int, log: Path, *, bucket: str, **client_args
) -> Iterator[tuple[str, object]]:
    """A moto S3 server on host:port with one bucket: (endpoint, boto3 client, made with
    `client_args`); stopped afterwards."""
    import boto3

    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("moto_server")), "-H", host, "-p", str(port)],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        endpoint = f"http://{host}:{port}"
        client = boto3.client("s3", endpoint_url=endpoint, **client_args)
        wait_for(lambda: _created(client, bucket), server, timeout=180, what="moto server did not start")
        yield endpoint, client
    finally:
        server.terminate()
        server.wait(timeout=30)


def _created(client, bucket: str) -> bool:
    try:
        client.create_bucket(Bucket=bucket)
    except Exception:  # not up yet
        return False
    return True


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def own_ports() -> list[str]:
    """Ports that default to fixed numbers, made free ones: two nodes share this machine (and
    other test runs may too)."""
    return [
        arg
        for option in (
            "--dashboard-agent-listen-port",
            "--dashboard-agent-grpc-port",
            "--runtime-env-agent-port",
            "--metrics-export-port",
            "--node-manager-port",
            "--object-manager-port",
        )
        for arg in (option, str(free_port()))
    ]


def start_node(
    args: list[str], env: dict, log, *, cpus: int = 1, prefix: tuple[str, ...] = (), cwd=None
) -> subprocess.Popen:
    """`ray start --block` with `cpus` CPUs in folder `cwd`; `prefix` wraps it (e.g. in its own
    mount namespace)."""
    command = [
        "ray",
        "start",
        "--num-cpus",
        str(cpus),
        "--block",
        "--disable-usage-stats",
        *own_ports(),
        *args,
    ]
    return subprocess.Popen(
        [*prefix, *command], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=cwd
    )


def stop_nodes(nodes: list[subprocess.Popen]) -> None:
    for node in nodes:
        if node.poll() is None:
            os.killpg(node.pid, signal.SIGTERM)
    for node in nodes:
        try:
            node.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(node.pid, signal.SIGKILL)
            node.wait()


def trial_workers_of(node: subprocess.Popen) -> list[int]:
    """Pids of the Tune trial workers ("ray::ImplicitFunc...") in `node`'s session (Ray gives each
    worker its own process group; the session is the node's): the trials running on that node."""
    pids = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            title = Path(entry.path, "cmdline").read_bytes()
            if title.startswith(b"ray::ImplicitFunc") and os.getsid(int(entry.name)) == node.pid:
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def alive_nodes(address: str, env: dict) -> int:
    status = subprocess.run(
        ["ray", "status", "--address", address],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return status.stdout.split("Pending:")[0].count(" node_") if status.returncode == 0 else 0


def start_cluster(
    tmp_path,
    ray_tmpdir,
    env,
    *,
    head_cpus: int = 1,
    worker_prefix: tuple[str, ...] = (),
    worker_env: dict | None = None,
    worker_cwd=None,
) -> tuple[list[subprocess.Popen], str, int]:
    """A head and a second node (its own temp dir; `worker_env` and folder `worker_cwd` if given)
    on loopback: (nodes, address, dashboard). The nodes started so far are stopped if either
    fails to come up."""
    port, dashboard = free_port(), free_port()
    address = f"127.0.0.1:{port}"
    nodes = []
    log = (tmp_path / "nodes.log").open("w")
    head = ["--head", "--port", str(port), "--dashboard-port", str(dashboard)]
    try:
        nodes.append(
            start_node([*head, "--ray-client-server-port", str(free_port())], env, log, cpus=head_cpus)
        )
        wait_for(lambda: alive_nodes(address, env) >= 1, nodes[0], timeout=300, what="head did not start")
        # Its own temp dir: a node cleaning up its runtime envs must not touch the head's.
        worker = ["--address", address, "--temp-dir", os.path.join(ray_tmpdir, "w")]
        nodes.append(start_node(worker, worker_env or env, log, prefix=worker_prefix, cwd=worker_cwd))
        wait_for(lambda: alive_nodes(address, env) >= 2, nodes[1], timeout=300, what="node did not join")
    except BaseException:
        stop_nodes(nodes)
        raise
    return nodes, address, dashboard
