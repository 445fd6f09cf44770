"""scripts/setup.sh --dry-run: which torch build it picks, with and without an NVIDIA GPU, and what it
says it downloads; a Python older than 3.10 is refused before anything is installed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def setup(tmp_path: Path, *args: str, gpu: bool, python: str = sys.executable):
    """Run setup.sh with a PATH that has (gpu) or lacks a stand-in nvidia-smi."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    if gpu:
        (bin_dir / "nvidia-smi").write_text("#!/bin/sh\necho 'GPU 0: NVIDIA stand-in'\n")
        (bin_dir / "nvidia-smi").chmod(0o755)
    path = os.pathsep.join([str(bin_dir), "/usr/bin", "/bin"])
    if not gpu and shutil.which("nvidia-smi", path=path):
        pytest.skip("this machine has an nvidia-smi in /usr/bin")
    env = {**os.environ, "PATH": path, "PYTHON": python}
    return subprocess.run(
        ["bash", str(ROOT / "scripts" / "setup.sh"), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_without_a_gpu_it_installs_the_cpu_build(tmp_path):
    result = setup(tmp_path, "--dry-run", gpu=False)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "no NVIDIA GPU (no nvidia-smi)" in out and "192 MB" in out and "nvidia-smi found" not in out
    from_index = (
        "would run: pip install --no-deps --index-url https://download.pytorch.org/whl/cpu torch==2.13.0"
    )
    fallback = (
        "did not answer in 5 s" in out and "would run: pip install torch==2.13.0 -c constraints.txt" in out
    )
    assert from_index in out or fallback, out
    assert "would run: pip install -e .[dev] -c constraints.txt" in out


def test_with_a_gpu_it_installs_the_cuda_build_and_says_its_size(tmp_path):
    result = setup(tmp_path, "--dry-run", gpu=True)
    assert result.returncode == 0, result.stderr
    assert "NVIDIA GPU (nvidia-smi found)" in result.stdout and "= 2.7 GB" in result.stdout
    assert "would run: pip install torch==2.13.0 -c constraints.txt" in result.stdout
    assert "download.pytorch.org" not in result.stdout


def test_an_old_python_or_an_unknown_option_is_refused_with_one_line(tmp_path):
    old = tmp_path / "python3.9"
    old.write_text("#!/bin/sh\ncase \"$1\" in -V) echo 'Python 3.9.18';; *) exit 1;; esac\n")
    old.chmod(0o755)
    result = setup(tmp_path, gpu=False, python=str(old))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == f"setup.sh: {old} is Python 3.9.18; banditune needs Python 3.10 or newer" + (
        " (PYTHON=python3.11 bash scripts/setup.sh)\n"
    )
    result = setup(tmp_path, "--yes", gpu=False)
    assert (
        result.returncode == 2
        and result.stderr == "setup.sh: --yes is not an option; expected --dry-run or nothing\n"
    )
