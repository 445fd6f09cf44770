"""cluster.yaml passes Ray's own offline checks (what `ray up` runs before calling AWS) and keeps
the promises the README makes about it."""

from __future__ import annotations

import copy

import jsonschema
import pytest
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
    assert raw["file_mounts"] == {"/home/ubuntu/banditune": "."}


def test_only_ssh_is_open_and_the_dashboard_binds_locally(raw):
    rules = raw["provider"]["security_group"]["IpPermissions"]
    assert [(r["FromPort"], r["ToPort"]) for r in rules] == [(22, 22)]
    start = " ".join(raw["head_start_ray_commands"])
    assert "--dashboard-host=127.0.0.1" in start and "0.0.0.0" not in start
