"""What each baseline subtracts from the rewards, dispatched by name like the rewards.

A baseline maps the scaled rewards r (S, B) of a batch to advantages (S, B) and, for `value`,
the value head's regression target. `ema` keeps a per-input running mean in the trainer.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from trainable import advantages

# (trainer, inputs x (S, B), rewards r (S, B), values (S, B) or None) -> (advantages, target)
Baseline = Callable[..., tuple[torch.Tensor, torch.Tensor | None]]


def _none(trainer, x, r, value):
    return r, None


def _ema(trainer, x, r, value):
    adv = r - trainer.ema.gather(1, x).nan_to_num(0.0)
    trainer.ema = advantages.ema_update(trainer.ema, x, r, trainer.config.ema_decay)
    return adv, None


def _batch_mean(trainer, x, r, value):
    return advantages.batch_mean(r), None


def _rloo(trainer, x, r, value):
    return advantages.rloo(r, trainer.config.group_size), None


def _grpo(trainer, x, r, value):
    return advantages.grpo(r, trainer.config.group_size), None


def _value(trainer, x, r, value):
    return r - value.detach(), r


BASELINES: dict[str, Baseline] = {
    "none": _none,
    "ema": _ema,
    "batch_mean": _batch_mean,
    "rloo": _rloo,
    "grpo": _grpo,
    "value": _value,
}
