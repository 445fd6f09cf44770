"""Two policy networks a user might bring: `banditune train --policy examples/my_policy.py:NAME`.

banditune calls NAME(feature_dim=d, num_actions=A, hidden=h) once per seed and trains the returned
modules, one per seed, as one batched model. Each maps features (B, d), the task's encoding of its
inputs, to logits (B, A). Plain PyTorch, no banditune import.
"""

from __future__ import annotations

import torch
from torch import nn


def layernorm_mlp(*, feature_dim: int, num_actions: int, hidden: int) -> nn.Module:
    """Two hidden layers, each Linear -> LayerNorm -> ReLU."""
    return nn.Sequential(
        nn.Linear(feature_dim, hidden),
        nn.LayerNorm(hidden),
        nn.ReLU(),
        nn.Linear(hidden, hidden),
        nn.LayerNorm(hidden),
        nn.ReLU(),
        nn.Linear(hidden, num_actions),
    )


class Bilinear(nn.Module):
    """Scores every action by the dot product of an embedding of the input and its own
    embedding (both of `hidden` dimensions), plus a bias per action."""

    def __init__(self, feature_dim: int, num_actions: int, hidden: int):
        super().__init__()
        self.inputs = nn.Sequential(nn.Linear(feature_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden))
        self.actions = nn.Parameter(torch.randn(num_actions, hidden) / hidden**0.5)
        self.bias = nn.Parameter(torch.zeros(num_actions))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.inputs(features) @ self.actions.T + self.bias


def bilinear(*, feature_dim: int, num_actions: int, hidden: int) -> nn.Module:
    return Bilinear(feature_dim, num_actions, hidden)
