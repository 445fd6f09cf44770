"""Watching a study: the command its first lines print starts optuna-dashboard on the study's
journal, and the dashboard's HTTP API lists the study's trials."""

from __future__ import annotations

import json
import re
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import optuna
import pytest

from cli import main as cli

STARTUP_S = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str, dashboard: subprocess.Popen):
    """GET url once the dashboard answers (it needs a few seconds to import optuna)."""
    deadline = time.monotonic() + STARTUP_S
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return json.loads(response.read())
        except OSError:
            assert dashboard.poll() is None, dashboard.stderr.read().decode()
            assert time.monotonic() < deadline, f"optuna-dashboard did not answer {url} in {STARTUP_S} s"
            time.sleep(0.5)


@pytest.mark.slow
def test_the_dashboard_the_study_names_lists_its_trials(ray_session, tmp_path, capsys):
    argv = ["study", "--results", str(tmp_path), "--name", "watched", "--trials", "2", "--n", "10"]
    argv += ["--num-seeds", "1", "--sample-budget", "3k", "--reports", "2"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    watch = re.search(r"^watch it live: (optuna-dashboard \S+)", out, re.MULTILINE)
    assert watch, out
    command = shlex.split(watch.group(1))
    assert Path(command[1]) == tmp_path / "watched" / "optuna.journal"
    port = free_port()
    executable = str(Path(sys.executable).with_name("optuna-dashboard"))
    dashboard = subprocess.Popen(
        [executable, *command[1:], "--host", "127.0.0.1", "--port", str(port), "--server", "wsgiref"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        studies = get_json(f"http://127.0.0.1:{port}/api/studies", dashboard)["study_summaries"]
        assert [s["study_name"] for s in studies] == ["watched"]
        detail = get_json(f"http://127.0.0.1:{port}/api/studies/{studies[0]['study_id']}", dashboard)
    finally:
        dashboard.terminate()
        dashboard.wait(timeout=10)
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(command[1]))
    journal = optuna.load_study(study_name="watched", storage=storage).trials
    trials = sorted(detail["trials"], key=lambda t: t["number"])
    assert [t["number"] for t in trials] == [0, 1]
    assert [t["state"] for t in trials] == ["Complete", "Complete"]
    assert [t["values"] for t in trials] == [t.values for t in journal]
    assert [{p["name"] for p in t["params"]} for t in trials] == [set(t.params) for t in journal]
