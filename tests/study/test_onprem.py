"""`cluster-onprem.yaml` and the commands of docs/cluster.md, "Machines you reach by SSH", run as
a user runs them, on SSH machines built on this one (tests/study/sshhosts.py): a head and a
worker, each with its own sshd, files and processes, the user's machine (its own network, so the
dashboard tunnel's port is its own), and a local S3 server (moto) on the bridge.

The test fills in the file's four values and runs the section's commands verbatim (its
placeholders: YOUR-BUCKET): a node without banditune stops `ray up` with one line; then `ray up`,
the user's reward module shipped, a study submitted with `--storage s3://...`, its results fetched
and analysed. Then a second study (the same command, named `lost`) loses its head after two
trials: every process of the head machine killed, its disk (tmpfs) wiped, the machine back at its
address, and the section's recovery commands finish the study from storage. Token
authentication is on throughout; a client without the token must be refused.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.study import sshhosts
from tests.study.cluster import DUMMY_AWS, moto_server
from tests.study.conftest import REPO

pytestmark = pytest.mark.slow

SECTION = "## Machines you reach by SSH"
BUCKET = "studies"
USER_MODULE = '''
def reward(x, a, n):
    """The forum's reward, from the user's own folder."""
    return -(x - a).abs().float()
'''
VENV_BIN = Path(sys.executable).parent
NODE_CHECK = "banditune node check failed: this node has banditune none"


def docs_blocks() -> list[list[str]]:
    """The commands of the section's ```bash blocks, one string each, in order."""
    text = (REPO / "docs" / "cluster.md").read_text()
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, re.S)
    return [[line for line in block.replace("\\\n", " ").splitlines() if line.strip()] for block in blocks]


def renamed(command: str, name: str) -> str:
    """The command for the study `name` instead of the section's `try`."""
    return re.sub(r"(--name |results/)try\b", rf"\g<1>{name}", command)


class Laptop:
    """The user's machine: its own network namespace, home, temp folder and working folder."""

    def __init__(self, hosts: sshhosts.Hosts, root: Path, endpoint: str):
        self.hosts, self.cwd = hosts, root / "user"
        home, tmp = root / "home", root / "tmp"
        for folder in (self.cwd, home / ".ssh", tmp):
            folder.mkdir(parents=True)
        shutil.copy(hosts.key, home / ".ssh" / "id_ed25519")
        yaml = (REPO / "cluster-onprem.yaml").read_text()
        for placeholder, value in {
            "YOUR-HEAD-IP": hosts.ip["head"],
            "YOUR-WORKER-IP": hosts.ip["worker"],
            "YOUR-SSH-USER": "root",
            "~/.ssh/id_ed25519": str(home / ".ssh" / "id_ed25519"),  # ssh reads ~ from /etc/passwd
        }.items():
            assert placeholder in yaml, placeholder
            yaml = yaml.replace(placeholder, value)
        (self.cwd / "cluster-onprem.yaml").write_text(yaml)
        (self.cwd / "cli").symlink_to(REPO / "cli")  # the repository root, as the section says
        (self.cwd / "mymodule.py").write_text(USER_MODULE)
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("RAY_", "AWS_", "PYTEST", "OMP_", "TMPDIR", "SSH_"))
        }
        self.env |= DUMMY_AWS | {
            "HOME": str(home),
            "TMPDIR": str(tmp),
            "RAY_TMPDIR": str(tmp),
            "PATH": f"{VENV_BIN}:{os.environ['PATH']}",
            "AWS_ENDPOINT_URL": endpoint,
            "RAY_USAGE_STATS_ENABLED": "0",
            "PYTHONUNBUFFERED": "1",
        }
        self.log = (root / "commands.log").open("a")

    def command(self, line: str, **env: str) -> list[str]:
        self.log.write(f"\n$ {line}\n")
        self.log.flush()
        return [*self.hosts.inside("laptop"), "bash", "-c", line]

    def run(self, line: str, *, timeout: float = 300, check: bool = True, **env: str):
        """Runs `line` here; (output, seconds). `check`: exit status 0 or the test fails."""
        start = time.monotonic()
        done = subprocess.run(
            self.command(line),
            cwd=self.cwd,
            env=self.env | env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        output = done.stdout + done.stderr
        self.log.write(f"{output}\n[exit {done.returncode} after {time.monotonic() - start:.1f} s]\n")
        assert not check or done.returncode == 0, f"`{line}` exited {done.returncode}:\n{output[-6000:]}"
        return done, time.monotonic() - start

    def start(self, line: str, output: Path) -> subprocess.Popen:
        return subprocess.Popen(
            self.command(line),
            cwd=self.cwd,
            env=self.env,
            stdout=output.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@pytest.fixture
def machines(tmp_path):
    """(hosts, laptop, S3 client): the head, the worker and the laptop on a bridge, an S3 server
    (moto) on the bridge's own address with one bucket. Everything is stopped and removed after."""
    why = sshhosts.refusal()
    if why:
        pytest.skip(why)
    pytest.importorskip("boto3")
    hosts = sshhosts.Hosts(
        ["head", "worker", "laptop"],
        tmp_path / "hosts",
        keep=[REPO, tmp_path, Path(sys.base_prefix).resolve()],
    )
    try:
        port = 5000 + os.getpid() % 1000
        log = tmp_path / "moto.log"
        with moto_server(hosts.gateway, port, log, bucket=BUCKET, **_boto_credentials()) as (endpoint, s3):
            # What each machine's administrator provisioned: banditune (this project's venv) first
            # on PATH, credentials for the storage.
            bashrc = f"export PATH={VENV_BIN}:$PATH\n" + "".join(
                f"export {key}={value}\n"
                for key, value in (DUMMY_AWS | {"AWS_ENDPOINT_URL": endpoint}).items()
            )
            yield hosts, Laptop(hosts, tmp_path / "laptop", endpoint), s3, bashrc
    finally:
        hosts.close()


def _boto_credentials() -> dict:
    return {
        "aws_access_key_id": DUMMY_AWS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": DUMMY_AWS["AWS_SECRET_ACCESS_KEY"],
        "region_name": DUMMY_AWS["AWS_DEFAULT_REGION"],
    }


def s3_keys(s3, prefix: str) -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def tune_keys(keys: list[str]) -> list[str]:
    """Tune's own objects (checkpoints, experiment state): all that storage held before #36."""
    return [k for k in keys if k.split("/")[2:3] == ["tune"]]


def wait_for_workers(laptop: Laptop, status: str) -> str:
    """Runs the section's `ray status` command until it lists the worker; its output."""
    deadline = time.monotonic() + 180
    while True:
        done, _ = laptop.run(status, check=False)
        if "2 local.cluster.node" in done.stdout:
            return done.stdout
        assert time.monotonic() < deadline, f"the worker did not join:\n{done.stdout[-3000:]}"
        time.sleep(3)


def trial_nodes(s3, name: str) -> dict[str, set[str]]:
    """trial id -> the addresses of the nodes its reports came from (Tune's result.json)."""
    nodes: dict[str, set[str]] = {}
    for key in s3_keys(s3, f"banditune/{name}/tune/"):
        if key.endswith("/result.json"):
            trial = key.split("/")[-2].split("_")[2]
            body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode()
            nodes.setdefault(trial, set()).update(json.loads(line)["node_ip"] for line in body.splitlines())
    return nodes


def trial_rows(folder: Path) -> list[dict]:
    paths = sorted((folder / "trials").glob("*.parquet"))
    return [row for path in paths for row in pq.read_table(path).to_pylist()]


def test_ssh_cluster_from_the_docs(machines):
    hosts, laptop, s3, bashrc = machines
    setup, run, recovery = docs_blocks()
    up, status, ship, submit, fetch, analyze, down = run
    assert recovery[:4] == [down, up, status, ship] and "--resume" in recovery[4], recovery
    resume = recovery[4].replace("YOUR-BUCKET", BUCKET)
    submit = submit.replace("YOUR-BUCKET", BUCKET)
    figures = {}

    # A head without banditune: `ray up` stops at the node check, with its one line.
    hosts.start("head", bashrc="")
    hosts.start("worker", bashrc=bashrc)
    for line in setup:
        laptop.run(line)
    token = Path(laptop.env["HOME"], ".ray", "auth_token")
    assert oct(token.stat().st_mode & 0o777) == "0o600"
    refused, _ = laptop.run(up, check=False)
    checks = [line for line in refused.stdout.splitlines() if line.startswith(NODE_CHECK)]
    assert refused.returncode != 0 and len(checks) == 1, refused.stdout[-4000:]
    figures["a node without banditune"] = checks[0]
    hosts.kill("head")
    hosts.start("head", bashrc=bashrc)

    _, figures["ray up"] = laptop.run(up)
    wait_for_workers(laptop, status)
    for host in ("head", "worker"):  # one token, the user's, readable by the user alone
        mode = hosts.ssh(host, "stat -c %a ~/.ray/auth_token && cat ~/.ray/auth_token").stdout.split()
        assert mode == ["600", token.read_text().strip()], (host, mode)

    # A client without the token is refused; with the user's token it is let in.
    head_gcs = f"{hosts.ip['head']}:6379"
    anonymous, _ = laptop.run(f"ray status --address {head_gcs}", check=False)
    assert anonymous.returncode != 0 and "InvalidAuthToken" in anonymous.stderr, anonymous.stderr[-3000:]
    figures["no token, GCS"] = anonymous.stderr.strip().splitlines()[-1][:120]
    with_token, _ = laptop.run(f"ray status --address {head_gcs}", RAY_AUTH_MODE="token")
    assert "2 local.cluster.node" in with_token.stdout
    job_api = f"http://{hosts.ip['head']}:52365/api/jobs/"  # the head's dashboard agent
    with pytest.raises(urllib.error.HTTPError) as refused_http:
        urllib.request.urlopen(job_api, timeout=10)
    assert refused_http.value.code == 401
    figures["no token, the head's agent"] = (
        f"{refused_http.value.code} {refused_http.value.read().decode()[:60]}"
    )
    tunnel = laptop.start("ray dashboard cluster-onprem.yaml", laptop.cwd.parent / "dashboard.log")
    try:  # the job API through `ray dashboard`'s SSH tunnel: the token, or nothing
        jobs = "ray job list --address http://127.0.0.1:8265"
        deadline = time.monotonic() + 60
        while (listed := laptop.run(jobs, check=False, RAY_AUTH_MODE="token")[0]).returncode != 0:
            assert time.monotonic() < deadline and tunnel.poll() is None, listed.stderr[-3000:]
            time.sleep(1)
        unlisted, _ = laptop.run(jobs, check=False)
        why = [
            line
            for line in unlisted.stderr.splitlines()
            if line.startswith("ray.exceptions.AuthenticationError")
        ]
        assert unlisted.returncode != 0 and why, unlisted.stderr[-3000:]
        assert "Unauthorized: Missing authentication token" in why[0]
        figures["no token, job API"] = why[0]
    finally:
        os.killpg(tunnel.pid, signal.SIGTERM)
        tunnel.wait(timeout=30)

    # The user's study, its module shipped; its head lost once two trials have finished.
    laptop.run(ship)
    started = time.monotonic()
    log = laptop.cwd.parent / "submit.log"
    first = laptop.start(submit, log)
    prefix, watch = "banditune/try/trials/", None
    deadline = time.monotonic() + 300
    while len([k for k in s3_keys(s3, prefix) if not k.endswith("reference.parquet")]) < 2:
        assert time.monotonic() < deadline and first.poll() is None, log.read_text()[-4000:]
        if watch is None and "\nstart " in log.read_text():  # from another terminal, as it runs
            watch = laptop.start(status, laptop.cwd.parent / "watch.log")
        time.sleep(0.5)
    hosts.kill("head")  # every process of the head machine, its /tmp, home and /dev/shm
    lost = time.monotonic()
    held = s3_keys(s3, "banditune/try/")
    figures["S3 when the head was lost"] = (
        f"{len(held)} objects, {len(held) - len(tune_keys(held))} result files"
    )
    assert watch is not None, "no trial had started when two had finished"
    figures["until the loss"] = lost - started
    before = {k: s3.get_object(Bucket=BUCKET, Key=k)["Body"].read() for k in s3_keys(s3, prefix)}
    figures["trials finished before the loss"] = sorted(k.rsplit("/", 1)[1] for k in before)
    assert first.wait(timeout=120) != 0 and watch.wait(timeout=120) == 0
    watched = (laptop.cwd.parent / "watch.log").read_text()
    # the docs' watch command shows both nodes and the CPUs; the autoscaler refreshes its usage
    # every few seconds, so it may still read 0.0 (trials on the worker: result.json, below)
    assert "2 local.cluster.node" in watched and re.search(r"\d\.\d/\d+\.\d CPU", watched), watched[-3000:]
    hosts.start("head", bashrc=bashrc)  # back at its address, provisioned, empty
    assert "results" not in hosts.ssh("head", "ls ~").stdout

    laptop.run(down)
    laptop.run(up)
    wait_for_workers(laptop, status)
    laptop.run(ship)
    resumed, figures["resumed study"] = laptop.run(resume, timeout=600)
    figures["head-loss recovery (kill to end)"] = time.monotonic() - lost
    assert "4 trials:" in resumed.stdout, resumed.stdout[-4000:]

    nodes = trial_nodes(s3, "try")
    # Tune uploads a trial's result.json on its own schedule: one that ended just before the
    # head was lost may have none in S3, so only the trials that have one are checked
    assert nodes and all(ips == {hosts.ip["worker"]} for ips in nodes.values()), nodes
    figures["trials on the worker"] = f"{len(nodes)} of {len(nodes)} ({hosts.ip['worker']})"
    stored = s3_keys(s3, "banditune/try/")
    results = sorted(set(stored) - set(tune_keys(stored)))
    assert {"banditune/try/study.json", "banditune/try/optuna.journal"} <= set(results)
    figures["objects in S3"] = f"{len(stored)}, {len(results)} of them the study's result files"

    laptop.run(fetch)
    folder = laptop.cwd / "results" / "try"
    for key, body in before.items():  # the trials that finished before the loss: as they were
        assert (folder / "trials" / key.rsplit("/", 1)[1]).read_bytes() == body, key
    rows = [r for r in trial_rows(folder) if r["trial_id"] != "reference"]
    keys = [(r["trial_id"], r["task"], r["seed"]) for r in rows]
    assert len(keys) == len(set(keys)) == 4 * 1 * 2, keys  # trials x tasks x seeds, none twice
    figures["rows after the resume"] = f"{len(keys)} = 4 trials x 1 task x 2 seeds, {len(set(keys))} distinct"
    laptop.run(analyze)
    assert (folder / "report" / "report.md").exists()
    laptop.run(down)
    print(f"\nwatching while it ran: {[line for line in watched.splitlines() if 'CPU' in line]}")
    print("\n".join(f"{key}: {value:.1f} s" if isinstance(value, float) else f"{key}: {value}"
                    for key, value in figures.items()))  # fmt: skip
