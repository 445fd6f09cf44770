"""A vectorized REINFORCE trainer for contextual bandits whose reward is a loss."""

from trainable.config import PRESETS, TrainConfig, from_preset, read_config_file
from trainable.rewards import BUILTIN_REWARDS, resolve_reward
from trainable.trainer import Metrics, Trainer, TrainingDiverged, train

__all__ = [
    "BUILTIN_REWARDS",
    "PRESETS",
    "Metrics",
    "TrainConfig",
    "Trainer",
    "TrainingDiverged",
    "from_preset",
    "read_config_file",
    "resolve_reward",
    "train",
]
