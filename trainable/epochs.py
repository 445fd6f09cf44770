"""Several gradient steps per batch with a clipped importance ratio (PPO's surrogate).

After the first step the policy is no longer the one that sampled the batch, so each sample's
advantage is weighted by the ratio pi_new(a|x) / pi_old(a|x), clipped to [1 - clip, 1 + clip]
where moving further would help (Schulman et al. 2017). The first step's gradient is REINFORCE's.
"""

from __future__ import annotations

import torch


def clipped_surrogate(
    logp_taken: torch.Tensor, old_logp_taken: torch.Tensor, adv: torch.Tensor, *, clip: float
) -> torch.Tensor:
    """Per-seed loss (S,): minus the mean over the batch of min(ratio * adv, clip(ratio) * adv)."""
    ratio = (logp_taken - old_logp_taken).exp()
    clipped = ratio.clamp(1 - clip, 1 + clip)
    return -torch.minimum(ratio * adv, clipped * adv).mean(dim=1)
