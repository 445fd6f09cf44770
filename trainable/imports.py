"""User code named as `package.module:function` (or, where allowed, `path/to/file.py:function`),
imported (so run) on request."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path

from contract.errors import BadValue

FILE_PREFIX = "banditune_user_"  # sys.modules name of a module loaded from a file path


def import_function(spec: str, *, option: str, allowed: str, files: bool = False):
    """The callable `spec` names; BadValue naming `option`, the value and `allowed` when
    `spec` is malformed, its module fails to import, or the name is not a callable. With `files`,
    `path/to/file.py:function` too: that file as given or under a folder of sys.path (a Ray
    worker runs elsewhere with the driver's folder on its path), else the module of its file name
    (the copy a study ships to a cluster's nodes)."""
    if os.getcwd() not in sys.path:  # `package.module:function` relative to where we run
        sys.path.insert(0, os.getcwd())
    module_name, sep, attr = spec.rpartition(":") if files else spec.partition(":")
    if not sep or not module_name or not attr:
        raise BadValue(option, spec, allowed)
    path = _find(module_name) if files and module_name.endswith(".py") else None
    if files and module_name.endswith(".py") and path is None:
        module_name = Path(module_name).stem
    try:
        module = importlib.import_module(module_name) if path is None else _load(path)
    except Exception as error:  # any import-time failure of user code
        problem = f"cannot import {module_name!r} ({type(error).__name__}: {error})"
        raise BadValue(option, spec, allowed, problem=problem) from None
    fn = getattr(module, attr, None)
    if not callable(fn):
        shown = f"{module_name}.{attr}" if path is None else f"{path.name}:{attr}"
        raise BadValue(option, spec, allowed, problem=f"{shown} is not a callable")
    return fn


def _find(where: str) -> Path | None:
    for root in ("", *sys.path):
        path = Path(root, where) if root else Path(where)
        if path.is_file():
            return path.resolve()
    return None


def _load(path: Path):
    """The module in the file `path`, executed once per process."""
    name = FILE_PREFIX + path.stem
    if name in sys.modules and getattr(sys.modules[name], "__file__", None) == str(path):
        return sys.modules[name]
    loader = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(loader)
    sys.modules[name] = module
    try:
        loader.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module
