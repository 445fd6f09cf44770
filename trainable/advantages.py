"""Baselines and reward scaling: from rewards (S, B) to advantages (S, B), per seed.

A batch holds B samples per seed; group baselines see it as B // k groups of k samples that
share one input (consecutive samples).
"""

from __future__ import annotations

import torch

EPS = 1e-8


def discounted_returns(r: torch.Tensor, gamma: float) -> torch.Tensor:
    """G_i = sum_{j >= i} gamma^(j - i) r_j along the batch, as the forum post did: (S, B)."""
    returns = torch.empty_like(r)
    running = torch.zeros_like(r[:, 0])
    for i in range(r.shape[1] - 1, -1, -1):  # a scan, so each seed's sums are its own
        running = r[:, i] + gamma * running
        returns[:, i] = running
    return returns


def batch_mean(r: torch.Tensor) -> torch.Tensor:
    """r - mean of the seed's batch: (S, B)."""
    return r - r.mean(dim=1, keepdim=True)


def rloo(r: torch.Tensor, k: int) -> torch.Tensor:
    """r_i minus the mean of the other k - 1 samples of its group (REINFORCE leave-one-out)."""
    s, b = r.shape
    g = r.view(s, b // k, k)
    others = (g.sum(dim=-1, keepdim=True) - g) / (k - 1)
    return (g - others).view(s, b)


def grpo(r: torch.Tensor, k: int) -> torch.Tensor:
    """(r - group mean) / group std (population std): zero mean, unit std per group."""
    s, b = r.shape
    g = r.view(s, b // k, k)
    centered = g - g.mean(dim=-1, keepdim=True)
    return (centered / (g.std(dim=-1, unbiased=False, keepdim=True) + EPS)).view(s, b)


def ema_update(table: torch.Tensor, x: torch.Tensor, r: torch.Tensor, decay: float) -> torch.Tensor:
    """Per-input running mean of rewards: table (S, n), x and r (S, B); returns the new table.

    An input seen for the first time takes its batch mean; later visits move it by 1 - decay.
    """
    sums = torch.zeros_like(table).scatter_add_(1, x, r)
    counts = torch.zeros_like(table).scatter_add_(1, x, torch.ones_like(r))
    seen = counts > 0
    means = sums / counts.clamp(min=1)
    moved = torch.where(torch.isnan(table), means, decay * table + (1 - decay) * means)
    return torch.where(seen, moved, table)


def standardize(a: torch.Tensor) -> torch.Tensor:
    """Batch z-score per seed: (S, B)."""
    return (a - a.mean(dim=1, keepdim=True)) / (a.std(dim=1, keepdim=True) + EPS)
