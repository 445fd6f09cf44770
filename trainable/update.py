"""The update: from a batch's rewards to one Adam step, in the order the trainer applies it.

Rewards (S, B) become returns (`gamma`), are scaled (`reward_scale`), lose a baseline
(`baseline`, dispatched by name in BASELINES) and may be z-scored; the loss is REINFORCE's, or
with several epochs per batch PPO's clipped surrogate, minus the scheduled entropy bonus, plus
the value head's regression. The lr and the entropy bonus follow their schedules over the
run's steps. Every function is per seed: a batch holds B samples per seed, which group
baselines see as B // k groups of k samples that share one input (consecutive samples).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

EPS = 1e-8


# --- returns and scaling --------------------------------------------------------------------
def discounted_returns(r: torch.Tensor, gamma: float) -> torch.Tensor:
    """G_i = sum_{j >= i} gamma^(j - i) r_j along the batch, as the forum post did: (S, B)."""
    returns = torch.empty_like(r)
    running = torch.zeros_like(r[:, 0])
    for i in range(r.shape[1] - 1, -1, -1):  # a scan, so each seed's sums are its own
        running = r[:, i] + gamma * running
        returns[:, i] = running
    return returns


def standardize(a: torch.Tensor) -> torch.Tensor:
    """Batch z-score per seed: (S, B)."""
    return (a - a.mean(dim=1, keepdim=True)) / (a.std(dim=1, keepdim=True) + EPS)


def advantages(
    raw, *, x, value, ema, config, rewards
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
    """A batch's rewards `raw` (S, B) for inputs `x` (S, B) -> (advantages (S, B), the value
    head's regression target or None, the new ema table). `value`: the value head's (S, B) or
    None; `ema`: the per-input running means (S, M); `rewards`: the RewardTable (range, gap)."""
    c = config
    r = discounted_returns(raw, c.gamma) if c.gamma > 0 else raw
    if c.reward_scale == "range":
        r = r / max(rewards.range, 1e-12)
    elif c.reward_scale == "gap":
        r = r / max(rewards.gap, 1e-12)
    adv, target, ema = BASELINES[c.baseline](r, x=x, value=value, ema=ema, config=c)
    if c.reward_scale == "standardize":
        adv = standardize(adv)
    return adv, target, ema


# --- baselines: scaled rewards r (S, B) -> (advantages, value target or None, new ema table) ---
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
    """Per-input running mean of rewards: table (S, M), x and r (S, B); returns the new table.

    An input seen for the first time takes its batch mean; later visits move it by 1 - decay.
    """
    sums = torch.zeros_like(table).scatter_add_(1, x, r)
    counts = torch.zeros_like(table).scatter_add_(1, x, torch.ones_like(r))
    seen = counts > 0
    means = sums / counts.clamp(min=1)
    moved = torch.where(torch.isnan(table), means, decay * table + (1 - decay) * means)
    return torch.where(seen, moved, table)


def _ema(r, *, x, value, ema, config):
    adv = r - ema.gather(1, x).nan_to_num(0.0)
    return adv, None, ema_update(ema, x, r, config.ema_decay)


# (r, *, x, value, ema, config) -> (advantages, target, ema); only `ema` reads and changes the table
Baseline = Callable[..., tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]]
BASELINES: dict[str, Baseline] = {
    "none": lambda r, *, x, value, ema, config: (r, None, ema),
    "ema": _ema,
    "batch_mean": lambda r, *, x, value, ema, config: (batch_mean(r), None, ema),
    "rloo": lambda r, *, x, value, ema, config: (rloo(r, config.group_size), None, ema),
    "grpo": lambda r, *, x, value, ema, config: (grpo(r, config.group_size), None, ema),
    "value": lambda r, *, x, value, ema, config: (r - value.detach(), r, ema),
}


# --- the loss -------------------------------------------------------------------------------
def loss(logp, actions, adv, *, value, target, old_logp_taken, config, step: int) -> torch.Tensor:
    """Per-seed loss (S,) of batch `step` (0-based): REINFORCE's, or with `old_logp_taken` (the
    sampling policy's) the clipped surrogate; minus the entropy bonus at `step`; plus
    `value_coef` times the value head's squared error where there is a `target`."""
    c = config
    logp_taken = logp.gather(-1, actions.unsqueeze(-1)).squeeze(-1)
    if old_logp_taken is None:
        per_seed = -(adv * logp_taken).mean(dim=1)
    else:
        per_seed = clipped_surrogate(logp_taken, old_logp_taken, adv, clip=c.clip)
    if c.entropy_coef > 0:
        entropy = -(logp.exp() * logp).sum(-1).mean(dim=1)
        per_seed = per_seed - entropy_coef_at(c, step) * entropy
    if target is not None:
        per_seed = per_seed + c.value_coef * (value - target).pow(2).mean(dim=1)
    return per_seed


def clipped_surrogate(
    logp_taken: torch.Tensor, old_logp_taken: torch.Tensor, adv: torch.Tensor, *, clip: float
) -> torch.Tensor:
    """PPO's surrogate (Schulman et al. 2017) for the epochs after a batch's first, whose policy
    no longer sampled it: per-seed loss (S,), minus the batch mean of min(ratio * adv,
    clip(ratio) * adv), the ratio pi_new(a|x) / pi_old(a|x) clipped to [1 - clip, 1 + clip]."""
    ratio = (logp_taken - old_logp_taken).exp()
    clipped = ratio.clamp(1 - clip, 1 + clip)
    return -torch.minimum(ratio * adv, clipped * adv).mean(dim=1)


# --- schedules over the run and the optimizer -----------------------------------------------
def schedule_factor(schedule: str, progress: float) -> float:
    """The share of the base value at `progress` (the share of the budget spent, clipped to
    [0, 1]): `linear` anneals to zero at the end, as CleanRL's `anneal_lr`; `cosine` follows
    half a cosine to zero; `constant` stays at 1."""
    progress = min(max(progress, 0.0), 1.0)
    if schedule == "linear":
        return 1.0 - progress
    if schedule == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * progress))
    return 1.0


def lr_at(config, step: int) -> float:
    """The lr of batch `step` (0-based): the base lr at the share of the budget's batches done."""
    steps = math.ceil(config.sample_budget / config.batch_size)
    return config.lr * schedule_factor(config.lr_schedule, step / max(1, steps))


def entropy_coef_at(config, step: int) -> float:
    """The entropy bonus of batch `step` (0-based): the base bonus at the share of the sample
    budget done before it."""
    done = step * config.batch_size
    return config.entropy_coef * schedule_factor(config.entropy_schedule, done / config.sample_budget)


def adam(params, config) -> torch.optim.Adam:
    """Adam with `config`'s lr, betas and epsilon. A bandit's gradients are sparse (an input's
    first-layer row moves only when that input is drawn) and noisy (one sampled action per
    draw): `adam_beta1` sets how long a step keeps going in a direction once seen, `adam_beta2`
    how long the step size remembers a large gradient. Once nearly every answer is right the
    policy gradient goes quiet, the second moment decays, and the next rare mistake would take a
    step of up to (1 - beta1) / sqrt(1 - beta2) times the lr; `adam_eps` caps that step
    (docs/FINDINGS.md, "How fast")."""
    betas = (config.adam_beta1, config.adam_beta2)
    return torch.optim.Adam(params, lr=config.lr, betas=betas, eps=config.adam_eps)
