"""The policy's optimizer: Adam with its momentum, second-moment decay and epsilon as knobs.

A bandit's gradients are sparse (an input's first-layer row moves only when that input is drawn)
and noisy (one sampled action per draw): `beta1` sets how long a step keeps going in a direction
once seen, `beta2` how long the step size remembers a large gradient. Once nearly every answer is
right the policy gradient goes quiet, the second moment decays, and the next rare mistake would
take a step of up to (1 - beta1) / sqrt(1 - beta2) times the lr; `eps`, added to the square root
of the second moment, caps that step (docs/FINDINGS.md, "How fast").
"""

from __future__ import annotations

import torch


def adam(params, *, lr: float, beta1: float, beta2: float, eps: float) -> torch.optim.Adam:
    return torch.optim.Adam(params, lr=lr, betas=(beta1, beta2), eps=eps)
