"""What a study ships to a cluster's nodes, and the refusals before any trial starts: code that
cannot be shipped, and storage that cannot be reached."""

from __future__ import annotations

import subprocess
import sys

import pytest

from study import storage
from study.shipping import on_cluster, user_code
from tests.study.cluster import DUMMY_AWS
from tests.study.conftest import BANDITUNE, subprocess_env


@pytest.fixture
def user_folder(tmp_path, monkeypatch):
    """A user's folder on sys.path, as `banditune` puts the folder it runs in."""
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [m for m in sys.modules if m.split(".")[0] in ("myreward", "helpers", "mypkg")]:
        del sys.modules[name]


def test_a_module_file_ships_with_the_helpers_it_imports_from_its_folder(user_folder):
    (user_folder / "helpers.py").write_text("SCALE = 2\n")
    (user_folder / "myreward.py").write_text(
        "import helpers\n\ndef fn(x, a, n):\n    return -(x - a).abs()\n"
    )
    (user_folder / "unused.py").write_text("")
    __import__("myreward")
    shipped = user_code(reward="myreward:fn", contexts=())
    assert shipped == (str(user_folder / "myreward.py"), str(user_folder / "helpers.py"))


def test_a_package_ships_as_its_folder_and_installed_code_stays(user_folder):
    (user_folder / "mypkg").mkdir()
    (user_folder / "mypkg" / "__init__.py").write_text("")
    (user_folder / "mypkg" / "rewards.py").write_text("def fn(x, a, n):\n    return -(x - a).abs()\n")
    __import__("mypkg.rewards")
    assert user_code(reward="mypkg.rewards:fn", contexts=("digits", "mypkg.rewards:fn")) == (
        str(user_folder / "mypkg"),
    )
    assert user_code(reward="abs", contexts=("sklearn.datasets:load_digits",)) == ()  # installed
    assert user_code(reward="trainable.rewards:abs_reward", contexts=()) == ()  # banditune's own


def test_on_cluster_when_an_address_or_a_job_says_so(monkeypatch):
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.delenv("RAY_JOB_CONFIG_JSON_ENV_VAR", raising=False)
    assert not on_cluster(None) and on_cluster("auto")
    monkeypatch.setenv("RAY_JOB_CONFIG_JSON_ENV_VAR", "{}")
    assert on_cluster(None)


def test_storage_join_keeps_a_uri_whole():
    uri = "s3://bucket/prefix/?endpoint_override=127.0.0.1:9000&scheme=http"
    assert storage.join(uri, "study", "tune") == (
        "s3://bucket/prefix/study/tune?endpoint_override=127.0.0.1:9000&scheme=http"
    )
    assert storage.join("gs://bucket", "study") == "gs://bucket/study"
    assert storage.join("/mnt/shared/", "study") == "/mnt/shared/study"


def run_study(tmp_path, *argv, cwd=None, env=None):
    command = [BANDITUNE, "study", "--results", str(tmp_path / "results"), "--name", "s", *argv]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_code_that_cannot_be_shipped_is_refused_before_ray_starts(tmp_path, ray_tmpdir):
    """A namespace package split over two folders (the user's and one on PYTHONPATH)."""
    for root in ("user", "extra"):
        (tmp_path / root / "ns").mkdir(parents=True)
    (tmp_path / "user" / "ns" / "rew.py").write_text("def fn(x, a, n):\n    return -(x - a).abs().float()\n")
    env = subprocess_env(ray_tmpdir) | {"PYTHONPATH": str(tmp_path / "extra")}
    run = run_study(
        tmp_path, "--reward", "ns.rew:fn", "--address", "127.0.0.1:1", cwd=tmp_path / "user", env=env
    )
    assert run.returncode == 2, run.stderr
    assert (
        run.stderr.count("\n") == 1 and "--reward 'ns.rew:fn': cannot be shipped to the cluster" in run.stderr
    )
    assert "split over 2 folders" in run.stderr
    assert not (tmp_path / "results" / "s").exists()


def test_unreachable_storage_is_refused_before_ray_starts(tmp_path, ray_tmpdir):
    uri = "s3://bucket/prefix?endpoint_override=127.0.0.1:9&scheme=http"
    env = subprocess_env(ray_tmpdir) | DUMMY_AWS
    run = run_study(tmp_path, "--storage", uri, env=env)
    assert run.returncode == 2, run.stderr
    assert run.stderr.count("\n") == 1 and f"--storage '{uri}': not reachable" in run.stderr
    assert not (tmp_path / "results" / "s").exists()
