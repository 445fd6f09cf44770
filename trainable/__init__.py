"""A vectorized REINFORCE trainer for contextual bandits whose reward is a loss.

Its names load on first use, so that `trainable.config` (what the command line's help reads)
imports without torch.
"""

import importlib

_EXPORTS = {
    "BUILTIN_REWARDS": "trainable.rewards",
    "PRESETS": "trainable.config",
    "Metrics": "trainable.trainer",
    "TrainConfig": "trainable.config",
    "Trainer": "trainable.trainer",
    "TrainingDiverged": "trainable.trainer",
    "from_preset": "trainable.config",
    "read_config_file": "trainable.config",
    "resolve_reward": "trainable.rewards",
    "train": "trainable.trainer",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'trainable' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
