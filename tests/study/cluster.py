"""Ray clusters on loopback for the tests: a head and a second node started with `ray start
--block` in their own process groups, stopped by process id (SIGTERM, then SIGKILL)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

# Credentials for a local S3 server (moto accepts any).
DUMMY_AWS = {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1"}


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
        deadline = time.monotonic() + 300  # generous: a loaded machine starts Ray slowly
        while alive_nodes(address, env) < 1:
            assert time.monotonic() < deadline and nodes[0].poll() is None, "head did not start"
            time.sleep(0.5)
        # Its own temp dir: a node cleaning up its runtime envs must not touch the head's.
        worker = ["--address", address, "--temp-dir", os.path.join(ray_tmpdir, "w")]
        nodes.append(start_node(worker, worker_env or env, log, prefix=worker_prefix, cwd=worker_cwd))
        while alive_nodes(address, env) < 2:
            assert time.monotonic() < deadline and nodes[1].poll() is None, "node did not join"
            time.sleep(0.5)
    except BaseException:
        stop_nodes(nodes)
        raise
    return nodes, address, dashboard
