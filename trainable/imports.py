"""User code named as `package.module:function`, imported (so run) on request."""

from __future__ import annotations

import importlib


def import_function(spec: str, *, option: str, allowed: str):
    """The callable `spec` names; ValueError naming `option`, the value and `allowed` when
    `spec` is malformed, its module fails to import, or the name is not a callable."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"{option}={spec!r} is not allowed; expected {allowed}")
    try:
        module = importlib.import_module(module_name)
    except Exception as error:  # any import-time failure of user code
        raise ValueError(
            f"{option}={spec!r}: cannot import {module_name!r} ({type(error).__name__}: {error});"
            f" expected {allowed}"
        ) from None
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise ValueError(f"{option}={spec!r}: {module_name}.{attr} is not a callable; expected {allowed}")
    return fn
