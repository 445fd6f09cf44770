"""How the output layer sees the actions.

`onehot` gives every action its own weights, the forum's Linear(hidden, n). `fourier` adds a part
that is smooth in the action: the output weights are W + U Phi^T, with Phi (n, k) the fourier
features of the actions 0..n-1 (trainable.encodings), so a step that raises one action's logit
raises its neighbours' too. That suits a reward that changes smoothly with the action, as
-|x - a| does, and not actions without an order (a context set's classes). U starts at zero, so
the policy starts where `onehot`'s does.
"""

from __future__ import annotations

import torch

from trainable.encodings import features


def action_features(action_encoding: str, n: int, device: torch.device) -> torch.Tensor | None:
    """Features Phi (n, k) of the actions 0..n-1, or None for `onehot` (no shared part)."""
    if action_encoding == "onehot":
        return None
    return features(torch.arange(n, device=device), encoding=action_encoding, n=n)


def output_weights(w2: torch.Tensor, smooth: torch.Tensor | None, phi: torch.Tensor | None) -> torch.Tensor:
    """Per-seed output weights (S, hidden, n): w2 plus smooth (S, hidden, k) times Phi^T."""
    return w2 if phi is None else w2 + smooth @ phi.T
