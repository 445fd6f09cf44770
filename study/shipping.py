"""User code a study ships to a cluster's nodes: the modules behind `--reward`, `--contexts` and
`--policy`.

A cluster's nodes share no files with the driver, so a `module:function` found in the user's
folder must travel in the job's runtime environment (Ray's `py_modules`). What is installed
(site-packages, the standard library, banditune itself) is left to each node's own install.
"""

from __future__ import annotations

import importlib
import os
import sys
import sysconfig
from pathlib import Path
from types import ModuleType

from contract.errors import BadValue

BANDITUNE_PACKAGES = ("trainable", "contract", "study", "analysis")
BUILT_IN = ("digits", "mlp", "mlp2")  # context sets and policies that need no code
MAX_MIB = 100  # a larger package should be installed on the nodes, not uploaded with each job
REFUSED = "a module in one .py file or one package folder of at most {} MiB, or code installed on every node"


def on_cluster(address: str | None) -> bool:
    """Whether the study joins a cluster (`--address`, RAY_ADDRESS or inside `ray job submit`)."""
    return bool(address or os.environ.get("RAY_ADDRESS") or os.environ.get("RAY_JOB_CONFIG_JSON_ENV_VAR"))


def user_code(*, reward: str, contexts: tuple[str, ...], policies: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Paths (a .py file or a package folder) for Ray's `py_modules`: the top-level module of
    each user `module:function` (imported already by the input checks), or the file of a
    `path/to/file.py:function` policy (a node imports it by its file name), and the modules it
    imported from its own folder. BadValue for a module that cannot be shipped."""
    shipped: list[str] = []
    named = [
        ("--reward", reward),
        *(("--contexts", c) for c in contexts),
        *(("--policy", p) for p in policies),
    ]
    for option, spec in named:
        if ":" not in spec or spec in BUILT_IN:
            continue
        where = spec.rpartition(":")[0]
        if where.endswith(".py"):
            source = _source(_loaded(where), option=option, spec=spec)
        else:
            top = importlib.import_module(spec.partition(":")[0].split(".")[0])
            source = _source(top, option=option, spec=spec)
        if source is None:
            continue
        for path in (source, *_siblings(source.parent)):
            if str(path) not in shipped:
                shipped.append(str(path))
    return tuple(shipped)


def _loaded(where: str) -> ModuleType:
    """The module trainable.imports loaded from the file `where` (by the input checks)."""
    path = Path(where).resolve()
    for module in list(sys.modules.values()):
        if getattr(module, "__file__", None) and Path(module.__file__).resolve() == path:
            return module
    raise BadValue("--policy", where, "a .py file", problem="was not loaded by the input checks")


def _source(module: ModuleType, *, option: str, spec: str) -> Path | None:
    """The file or package folder of a top-level user module; None when it is installed."""

    def refused(why: str) -> BadValue:
        return BadValue(
            option, spec, REFUSED.format(MAX_MIB), problem=f"cannot be shipped to the cluster: {why}"
        )

    folders = list(getattr(module, "__path__", []))
    if len(folders) > 1:
        raise refused(f"{module.__name__} is split over {len(folders)} folders ({', '.join(folders)})")
    where = folders[0] if folders else getattr(module, "__file__", None)
    if where is None:
        raise refused(f"{module.__name__} has no file")
    path = Path(where).resolve()
    if _installed(path, module.__name__):
        return None
    if path.is_file() and path.suffix != ".py":
        raise refused(f"{path} is compiled")
    size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.is_dir() else 0
    if size > MAX_MIB * 2**20:
        raise refused(f"{path} holds {size / 2**20:.0f} MiB")
    return path


def _siblings(folder: Path) -> list[Path]:
    """Top-level user modules imported from `folder` (a user module's helpers)."""
    found = []
    for name, module in list(sys.modules.items()):
        if "." in name or name in BANDITUNE_PACKAGES:
            continue
        folders = list(getattr(module, "__path__", []) or [])
        where = folders[0] if len(folders) == 1 else getattr(module, "__file__", None)
        if where and Path(where).resolve().parent == folder and Path(where).suffix in ("", ".py"):
            found.append(Path(where).resolve())
    return sorted(found)


def _installed(path: Path, name: str) -> bool:
    """Installed code every node has: the standard library, site-packages, banditune itself."""
    if name in BANDITUNE_PACKAGES:
        return True
    roots = {sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    return any(path.is_relative_to(Path(root).resolve()) for root in roots)
