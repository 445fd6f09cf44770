"""A soak: a 50-trial study from the shell finishes with every trial's rows and leaves nothing
behind (no Ray process, no open file in its results folder)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.study.conftest import BANDITUNE, REPO, processes_with_env, reap, subprocess_env

TRIALS = 50


def open_files_under(folder: Path) -> list[str]:
    """Paths under `folder` that any process on this machine holds open."""
    held = []
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        try:
            for fd in fd_dir.iterdir():
                target = os.readlink(fd)
                if target.startswith(str(folder)):
                    held.append(target)
        except OSError:
            continue
    return held


@pytest.mark.slow
def test_fifty_trial_study_keeps_every_trial_and_leaves_nothing_behind(tmp_path, ray_tmpdir):
    marker = f"RAY_TMPDIR={ray_tmpdir}"
    assert processes_with_env(marker) == []
    result = subprocess.run(
        [
            BANDITUNE,
            "study",
            "--name",
            "soak",
            "--results",
            str(tmp_path),
            "--trials",
            str(TRIALS),
            "--n",
            "10",
            "100",
            "--num-seeds",
            "2",
            "--sample-budget",
            "10=3k,100=6k",
            "--reports",
            "2",
            "--max-concurrent",
            "2",
            "--cpus-per-trial",
            "1",
        ],
        cwd=REPO,
        env=subprocess_env(ray_tmpdir),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    root = tmp_path / "soak"
    search = [p for p in (root / "trials").glob("*.parquet") if p.stem != "reference"]
    assert len(search) == TRIALS
    for path in search:
        rows = pq.read_table(path).to_pylist()
        assert sorted((r["n"], r["seed"]) for r in rows) == [(10, 0), (10, 1), (100, 0), (100, 1)]
    assert len(list((root / "curves").glob("*.parquet"))) == TRIALS + 1  # and the reference
    assert not list(root.rglob(".*.parquet"))  # no temp file left half-written
    assert reap(marker) == []  # every Ray process of the study had exited by itself
    assert open_files_under(root) == []
