"""Provenance of the rows this process writes: package versions and the git commit (no Ray;
torch is imported only to read its version, since diagnose's command line imports this module)."""

from __future__ import annotations

import functools
import subprocess
from importlib.metadata import version
from pathlib import Path

import pyarrow as pa


def versions() -> dict[str, str]:
    """Installed versions of the packages that shape the results (read without importing Ray)."""
    import torch

    return {
        "torch": torch.__version__,
        "ray": version("ray"),
        "optuna": version("optuna"),
        "pyarrow": pa.__version__,
    }


@functools.cache
def git_commit() -> str:
    """The commit of this checkout (with '-dirty' if it has changes), or 'unknown'."""
    repo = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=repo,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("-dirty" if dirty.strip() else "")


def provenance() -> dict[str, str]:
    """The version columns of the rows this process writes."""
    v = versions()
    return {
        "torch_version": v["torch"],
        "ray_version": v["ray"],
        "optuna_version": v["optuna"],
        "git_commit": git_commit(),
    }
