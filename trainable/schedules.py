"""Schedules over a run's sample budget for the lr (CleanRL's `anneal_lr`, as a choice) and the
entropy bonus (annealed exploration).

A schedule maps the share of the budget spent, in [0, 1], to the share of the base value used. `linear`
anneals to zero at the budget's end, as CleanRL does; `cosine` follows half a cosine to zero.
"""

from __future__ import annotations

import math

import torch


def schedule_factor(schedule: str, progress: float) -> float:
    """The share of the base value at `progress` (the share of the sample budget spent)."""
    progress = min(max(progress, 0.0), 1.0)
    if schedule == "linear":
        return 1.0 - progress
    if schedule == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * progress))
    return 1.0


def lr_scheduler(
    optimizer: torch.optim.Optimizer, *, schedule: str, steps: int
) -> torch.optim.lr_scheduler.LambdaLR:
    """A scheduler stepped once per batch over `steps` batches (the sample budget)."""
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: schedule_factor(schedule, step / max(1, steps))
    )
