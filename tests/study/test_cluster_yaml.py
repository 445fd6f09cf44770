"""cluster.yaml and cluster-onprem.yaml pass Ray's own offline checks (what `ray up` runs before
reaching a machine) and keep the promises the docs make about them."""

from __future__ import annotations

import copy
import os
import shlex
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import ray
import yaml
from ray.autoscaler._private.util import prepare_config, validate_config

from tests.study.conftest import REPO


@pytest.fixture(scope="module")
def raw():
    return yaml.safe_load((REPO / "cluster.yaml").read_text())


def test_cluster_yaml_passes_rays_offline_checks(raw):
    config = prepare_config(copy.deepcopy(raw))
    validate_config(config)
    assert config["provider"]["type"] == "aws"


def test_the_check_catches_a_typo(raw):
    broken = copy.deepcopy(raw)
    broken["available_node_types"]["gpu_1x"]["min_wrokers"] = 1
    with pytest.raises(jsonschema.ValidationError):
        validate_config(prepare_config(broken))


def test_cpu_head_and_gpu_workers(raw):
    types = raw["available_node_types"]
    assert types[raw["head_node_type"]]["resources"] == {"CPU": 0}
    gpu = [t["node_config"]["InstanceType"] for name, t in types.items() if name != raw["head_node_type"]]
    assert gpu and all(kind.startswith(("g4", "g5", "g6", "p3", "p4", "p5")) for kind in gpu)
    assert types["gpu_1x"]["min_workers"] >= 1  # GPUs exist when a study starts


def test_versions_are_pinned_and_the_project_installed(raw):
    prepared = prepare_config(copy.deepcopy(raw))  # Ray's defaults filled in, as `ray up` does
    commands = " ".join(
        prepared["setup_commands"] + prepared["head_setup_commands"] + prepared["worker_setup_commands"]
    )
    assert '"ray[default]==2.60.0"' in commands and "torch==2.13.0" in commands
    assert "ray-wheels" not in commands and "nightly" not in commands
    assert "-e /home/ubuntu/banditune" in commands
    assert raw["file_mounts"]["/home/ubuntu/banditune"] == "."


def test_only_ssh_is_open_and_the_dashboard_binds_locally(raw):
    rules = raw["provider"]["security_group"]["IpPermissions"]
    assert [(r["FromPort"], r["ToPort"]) for r in rules] == [(22, 22)]
    start = " ".join(raw["head_start_ray_commands"])
    assert "--dashboard-host=127.0.0.1" in start and "0.0.0.0" not in start


def test_every_node_starts_ray_with_token_authentication(raw):
    starts = raw["head_start_ray_commands"] + raw["worker_start_ray_commands"]
    assert all("RAY_AUTH_MODE=token" in c for c in starts if "ray start" in c)
    assert raw["file_mounts"]["/home/ubuntu/.ray/auth_token"] == "~/.ray/auth_token"


@pytest.mark.parametrize("name", ["cluster.yaml", "cluster-onprem.yaml"])
def test_every_command_is_whole_shell(name):
    """A ' #' in a plain YAML scalar starts a comment: the command would lose its end."""
    config = yaml.safe_load((REPO / name).read_text())
    keys = [k for k in config if k.endswith("_commands")]
    for command in (c for k in keys for c in config[k]):
        shlex.split(command)  # raises on an unclosed quote


@pytest.fixture(scope="module")
def onprem():
    return yaml.safe_load((REPO / "cluster-onprem.yaml").read_text())


def test_onprem_passes_rays_offline_checks_and_leaves_four_values(onprem):
    validate_config(prepare_config(copy.deepcopy(onprem)))
    text = (REPO / "cluster-onprem.yaml").read_text()
    assert [line.split("#")[0].strip() for line in text.splitlines() if "# fill in" in line] == [
        "head_ip: YOUR-HEAD-IP",
        "worker_ips: [YOUR-WORKER-IP]",
        "ssh_user: YOUR-SSH-USER",
        "ssh_private_key: ~/.ssh/id_ed25519",
    ]


def test_onprem_head_runs_no_trial_autoscaler_v1_and_token(onprem):
    head = " ".join(onprem["head_start_ray_commands"])
    assert "--num-cpus=0" in head and "RAY_enable_autoscaler_v2=0" in head
    assert "--dashboard-host=127.0.0.1" in head
    for command in onprem["head_start_ray_commands"] + onprem["worker_start_ray_commands"]:
        assert "ray start" not in command or "RAY_AUTH_MODE=token" in command
    assert onprem["file_mounts"] == {"~/.ray/auth_token": "~/.ray/auth_token"}


def test_onprem_node_check_wants_what_this_machine_has(onprem, tmp_path):
    """The check passes with this project's venv (as on the laptop) and stops a Python without
    banditune with one line naming what it found."""
    check = onprem["setup_commands"][0]
    assert f'v.get("ray") == "{ray.__version__}"' in check
    assert f"sys.version_info[:2] == {sys.version_info[:2]}" in check
    ours = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    ok = subprocess.run(["bash", "-c", check], cwd=tmp_path, env=ours, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    theirs = dict(os.environ, PATH=f"{bare / 'bin'}:{os.environ['PATH']}")
    refused = subprocess.run(["bash", "-c", check], cwd=tmp_path, env=theirs, capture_output=True, text=True)
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.startswith("banditune node check failed: this node has banditune none, Ray none,")
    assert refused.stderr.count("\n") == 1 and str(bare) in refused.stderr
