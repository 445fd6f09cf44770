"""The policy's optimizer: Adam with its momentum and second-moment decay as knobs.

A bandit's gradients are sparse (an input's first-layer row moves only when that input is drawn)
and noisy (one sampled action per draw): `beta1` sets how long a step keeps going in a direction
once seen, `beta2` how long the step size remembers a large gradient.
"""

from __future__ import annotations

import torch


def adam(params, *, lr: float, beta1: float, beta2: float) -> torch.optim.Adam:
    return torch.optim.Adam(params, lr=lr, betas=(beta1, beta2))
