"""The policy's optimizer: Adam with its momentum, second-moment decay and epsilon as knobs.

A bandit's gradients are sparse (an input's first-layer row moves only when that input is drawn)
and noisy (one sampled action per draw); `adam_beta2` sets how long the step size remembers a
large gradient, `adam_eps` how large a step a rarely-moved weight may take.
"""

from __future__ import annotations

import torch


def adam(params, *, lr: float, beta1: float, beta2: float, eps: float) -> torch.optim.Adam:
    return torch.optim.Adam(params, lr=lr, betas=(beta1, beta2), eps=eps)
