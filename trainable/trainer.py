"""The REINFORCE bandit trainer, vectorized over seeds.

All S seeds of a config train as one batched model: every parameter has a leading seed dimension,
the loss is the sum of the seeds' losses and one Adam step updates all (Adam is elementwise, so each
seed follows exactly the path it would alone). Each seed draws its inputs, actions and initial
weights from its own generator, so a seed's run does not depend on which seeds train beside it.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, fields

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from trainable import advantages, epochs
from trainable.actions import action_features, output_weights
from trainable.baselines import BASELINES
from trainable.config import TrainConfig
from trainable.encodings import EMBEDDING_DIM
from trainable.init import scale_output
from trainable.optimizer import adam
from trainable.policies import ModulePolicy
from trainable.rewards import RewardTable, build_reward_table, call_reward
from trainable.schedules import lr_scheduler, schedule_factor
from trainable.tasks import HELDOUT, TRAIN, make_task

# samples_to_95 and samples_to_99: the first evaluation at or above these exact matches
REACHED = {"samples_to_95": 0.95, "samples_to_99": 0.99}
# An input is stuck when its greedy action is wrong and the policy puts at least this on it:
# REINFORCE then almost never samples the right action again, so it stays wrong.
STUCK_PROB = 0.9
# Long runs (docs/benchmarks.md, "Long runs"): once every answer is right, each update still pushes
# the right action up and the sampled wrong ones down, Adam's steps do not shrink with the gradient,
# and the output weights (w2 and the fourier part) keep growing, so the logits keep spreading. An
# action more than 87 below its input's best then has a probability that underflows: its exp takes
# MKL's slow path (flushing or not), and the denormal floats it makes slow the products that
# follow. Every logit more than LOGIT_FLOOR below its input's largest is raised to that depth (no
# action's probability falls below about e^-40 / n, far below what a float32 sampler draws: its
# cumulative sums resolve 6e-8), and Trainer flushes denormal floats to zero on the thread that
# trains and on torch's worker threads started after it. benchmarks/long_horizon.py
# turns both off (_LONG_RUN_GUARDS) to measure the "before".
LOGIT_FLOOR = 40.0
_LONG_RUN_GUARDS = True


class TrainingDiverged(RuntimeError):
    """Rewards, losses or weights became NaN or infinite."""


@dataclass(frozen=True)
class Metrics:
    """One evaluation on all n inputs (a context set: its training contexts). Per-seed fields are
    arrays of shape (S,); `stuck` counts the inputs whose greedy action is wrong with probability
    >= STUCK_PROB; `heldout_exact_match` is on a context set's held-out contexts (NaN without)."""

    samples: int
    wall_s: float
    samples_per_s: float
    exact_match: np.ndarray
    p_correct: np.ndarray
    mae: np.ndarray
    regret: np.ndarray
    entropy: np.ndarray
    distinct_actions: np.ndarray
    stuck: np.ndarray
    reward_mean: np.ndarray
    samples_to_95: np.ndarray
    samples_to_99: np.ndarray
    best_exact_match: np.ndarray
    heldout_exact_match: np.ndarray

    def to_dict(self) -> dict:
        """JSON-ready: per-seed lists, NaN (never reached) as None, counts as ints."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray):
                value = [
                    None if math.isnan(v) else (int(v) if f.name in _COUNTS else float(v))
                    for v in value.tolist()
                ]
            out[f.name] = value
        return out


_COUNTS = ("distinct_actions", "stuck", *REACHED)


def flush_denormal() -> None:
    """Denormal floats to zero (inputs and results) on this thread, and on the torch worker threads
    started after it, unless _LONG_RUN_GUARDS is off (then they are kept, PyTorch's default)."""
    torch.set_flush_denormal(_LONG_RUN_GUARDS)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


class BatchedPolicy(nn.Module):
    """S independent policies encoding -> Linear(d, hidden) -> ReLU -> Linear(hidden, A).

    The task gives the encoding path, d and A. Initialised as PyTorch's nn.Linear (uniform in
    +-1/sqrt(fan_in)), one seed at a time, the output layer then scaled by `output_init`. With an
    `action_encoding` other than onehot, the output layer gains a part smooth in the action
    (trainable.actions), starting at zero.
    """

    def __init__(self, config: TrainConfig, task, device: torch.device):
        super().__init__()
        self.task, self.encoding = task, task.encoding
        d, h, n = task.feature_dim, config.hidden, task.num_actions
        per_seed = [
            scale_output(self._init_one(seed, d, h, n, config.baseline == "value"), config.output_init)
            for seed in config.seeds
        ]
        for name in per_seed[0]:
            stacked = torch.stack([p[name] for p in per_seed]).to(device)
            self.register_parameter(name, nn.Parameter(stacked))
        self.action_features = action_features(config.action_encoding, n, device)
        smooth = None
        if self.action_features is not None:
            k = self.action_features.shape[1]
            smooth = nn.Parameter(torch.zeros(len(config.seeds), h, k, device=device))
        self.register_parameter("smooth", smooth)

    def _init_one(self, seed: int, d: int, h: int, n: int, value_head: bool) -> dict:
        g = torch.Generator().manual_seed(seed)

        def uniform(*shape, fan_in):
            return (torch.rand(*shape, generator=g) * 2 - 1) / math.sqrt(fan_in)

        params = {}
        if self.encoding == "embedding":
            params["embed"] = torch.randn(n, EMBEDDING_DIM, generator=g)
        params["w1"], params["b1"] = uniform(d, h, fan_in=d), uniform(h, fan_in=d)
        params["w2"], params["b2"] = uniform(h, n, fan_in=h), uniform(n, fan_in=h)
        if value_head:
            params["wv"], params["bv"] = uniform(h, 1, fan_in=h), uniform(1, fan_in=h)
        return params

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Inputs x (S, B) -> logits (S, B, n) and, with a value head, values (S, B)."""
        if self.encoding == "onehot":
            pre = _lookup(self.w1, x) + self.b1.unsqueeze(1)
        else:
            feats = _lookup(self.embed, x) if self.encoding == "embedding" else self.task.features(x)
            pre = torch.baddbmm(self.b1.unsqueeze(1), feats, self.w1)
        hidden = torch.relu(pre)
        w2 = output_weights(self.w2, self.smooth, self.action_features)
        logits = torch.baddbmm(self.b2.unsqueeze(1), hidden, w2)
        if _LONG_RUN_GUARDS:
            with torch.no_grad():  # in place: a raised logit's gradient is its softmax's, ~e^-40
                logits.clamp_(min=logits.amax(-1, keepdim=True) - LOGIT_FLOOR)
        value = None
        if hasattr(self, "wv"):
            # elementwise, not a matrix product: with one seed, bmm takes a matrix-vector path
            # whose sums round differently, and a seed must not depend on its neighbours
            value = (hidden * self.wv.transpose(1, 2)).sum(-1) + self.bv
        return logits, value


def _lookup(table: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Rows x (S, B) of a per-seed table (S, n, d) -> (S, B, d)."""
    s, n, d = table.shape
    offsets = torch.arange(s, device=x.device).unsqueeze(1) * n
    return F.embedding(x + offsets, table.reshape(s * n, d))


class Trainer:
    """REINFORCE on the bandit of `config`, all seeds at once. `run(samples)` trains and evaluates."""

    def __init__(self, config: TrainConfig):
        self.config = config
        flush_denormal()  # before torch starts its worker threads, which inherit it
        self.device = resolve_device(config.device)
        self.task = make_task(config, self.device)
        self.rewards: RewardTable = build_reward_table(config.reward, self.task.num_actions, self.device)
        policy = BatchedPolicy if config.policy == "mlp" else ModulePolicy  # trainable.policies
        self.policy = policy(config, self.task, self.device)
        self.optimizer = adam(
            self.policy.parameters(),
            lr=config.lr,
            beta1=config.adam_beta1,
            beta2=config.adam_beta2,
            eps=config.adam_eps,
        )
        steps = math.ceil(config.sample_budget / config.batch_size)
        self.scheduler = lr_scheduler(self.optimizer, schedule=config.lr_schedule, steps=steps)
        self.generators = [torch.Generator(device=self.device).manual_seed(s) for s in config.seeds]
        num_seeds = len(config.seeds)
        self.samples = 0
        self.train_s = 0.0
        self.ema = torch.full((num_seeds, self.task.num_contexts), float("nan"), device=self.device)
        self.reached = {name: np.full(num_seeds, np.nan) for name in REACHED}
        self.best_exact_match = np.zeros(num_seeds)
        self._reward_sum = torch.zeros(num_seeds, device=self.device)
        self._reward_batches = 0
        self._finite = torch.ones((), dtype=torch.bool, device=self.device)

    # --- training -------------------------------------------------------------------------
    def run(self, samples: int) -> Metrics:
        """Train at least `samples` more samples per seed (whole batches), then evaluate."""
        steps = max(1, math.ceil(samples / self.config.batch_size))
        flush_denormal()
        self._sync()
        start = time.perf_counter()
        for _ in range(steps):
            self._step()
            self.scheduler.step()
        self._sync()
        self.train_s += time.perf_counter() - start
        self.samples += steps * self.config.batch_size
        return self.evaluate()

    def run_to_budget(self) -> Iterator[Metrics]:
        """Train on to the config's sample budget, yielding `Metrics` every `eval_every` samples."""
        budget = self.config.sample_budget
        while self.samples < budget:
            yield self.run(min(self.config.eval_every, budget - self.samples))

    def _draw(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Inputs x (S, B), each repeated for its group, and uniforms u (S, B) for the actions."""
        c = self.config
        k, b = c.samples_per_input, c.batch_size
        if c.inputs == "cycle":
            start = self.samples // k
            x = torch.arange(start, start + b // k, device=self.device) % self.task.train_size
            x = x.expand(len(c.seeds), -1)
        else:
            m = self.task.train_size
            x = torch.stack(
                [torch.randint(m, (b // k,), generator=g, device=self.device) for g in self.generators]
            )
        u = torch.stack([torch.rand(b, generator=g, device=self.device) for g in self.generators])
        return x.repeat_interleave(k, dim=1), u

    def _step(self) -> None:
        c = self.config
        x, u = self._draw()
        one_update = c.minibatch_size == c.batch_size and c.update_epochs == 1
        with torch.set_grad_enabled(one_update):
            logits, value = self.policy(x)
            logp = torch.log_softmax(logits, dim=-1)
        with torch.no_grad():
            probs = logp.detach().exp()
            a = self.task.num_actions
            actions = torch.searchsorted(probs.cumsum(-1), u.unsqueeze(-1)).clamp_(max=a - 1)
            actions = actions.squeeze(-1)
            keys = self.task.keys(x).reshape(-1)
            raw = call_reward(self.rewards.fn, keys, actions.reshape(-1), a, name=c.reward).view_as(u)
            self._finite &= torch.isfinite(raw).all()
            self._reward_sum += raw.mean(dim=1)
            self._reward_batches += 1
            adv, target = self._advantages(x, raw, value)
            # the sampling policy's log-probabilities, for the clipped ratio of later steps
            old = logp.gather(-1, actions.unsqueeze(-1)).squeeze(-1) if c.update_epochs > 1 else None
        if one_update:
            self._update(logp, value, actions, adv, target)
            return
        for _ in range(c.update_epochs):
            for part in torch.arange(c.batch_size, device=self.device).split(c.minibatch_size):
                logits, value = self.policy(x[:, part])
                self._update(
                    torch.log_softmax(logits, dim=-1),
                    value,
                    actions[:, part],
                    adv[:, part],
                    None if target is None else target[:, part],
                    None if old is None else old[:, part],
                )

    def _advantages(self, x, raw, value) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Advantages (S, B) and the value head's regression target (or None)."""
        c = self.config
        r = advantages.discounted_returns(raw, c.gamma) if c.gamma > 0 else raw
        if c.reward_scale == "range":
            r = r / max(self.rewards.range, 1e-12)
        elif c.reward_scale == "gap":
            r = r / max(self.rewards.gap, 1e-12)
        adv, target = BASELINES[c.baseline](self, x, r, value)
        if c.reward_scale == "standardize":
            adv = advantages.standardize(adv)
        return adv, target

    def _update(self, logp, value, actions, adv, target, old_logp_taken=None) -> None:
        """One Adam step: REINFORCE's loss, or with `old_logp_taken` (the sampling policy's) the
        clipped surrogate of trainable.epochs."""
        c = self.config
        logp_taken = logp.gather(-1, actions.unsqueeze(-1)).squeeze(-1)
        if old_logp_taken is None:
            per_seed = -(adv * logp_taken).mean(dim=1)
        else:
            per_seed = epochs.clipped_surrogate(logp_taken, old_logp_taken, adv, clip=c.clip)
        if c.entropy_coef > 0:
            entropy = -(logp.exp() * logp).sum(-1).mean(dim=1)
            done = self.scheduler.last_epoch * c.batch_size  # samples before this batch, as the lr sees them
            coef = c.entropy_coef * schedule_factor(c.entropy_schedule, done / c.sample_budget)
            per_seed = per_seed - coef * entropy
        if target is not None:
            per_seed = per_seed + c.value_coef * (value - target).pow(2).mean(dim=1)
        self.optimizer.zero_grad(set_to_none=True)
        per_seed.sum().backward()
        self.optimizer.step()

    # --- evaluation -----------------------------------------------------------------------
    @torch.no_grad()
    def evaluate(self) -> Metrics:
        """Greedy and policy metrics of every seed over all n inputs (a context set: its training
        contexts, and exact match on its held-out ones)."""
        c = self.config
        num_seeds = len(c.seeds)
        totals, stuck, used = self._evaluate_split(*self.task.splits[TRAIN])
        heldout = np.full(num_seeds, np.nan)
        if HELDOUT in self.task.splits:
            start, stop = self.task.splits[HELDOUT]
            heldout = (self._evaluate_split(start, stop)[0][0] / (stop - start)).cpu().double().numpy()
        n = self.task.train_size
        self._check_finite()
        exact, p_correct, mae, regret, entropy = (totals / n).cpu().double().numpy()
        for name, level in REACHED.items():
            self.reached[name][np.isnan(self.reached[name]) & (exact >= level)] = self.samples
        self.best_exact_match = np.maximum(self.best_exact_match, exact)
        reward_mean = (self._reward_sum / max(1, self._reward_batches)).cpu().double().numpy()
        self._reward_sum.zero_()
        self._reward_batches = 0
        return Metrics(
            samples=self.samples,
            wall_s=self.train_s,
            samples_per_s=self.samples / self.train_s if self.train_s > 0 else 0.0,
            exact_match=exact,
            p_correct=p_correct,
            mae=mae,
            regret=regret,
            entropy=entropy,
            distinct_actions=used.sum(1).cpu().double().numpy(),
            stuck=stuck.cpu().double().numpy(),
            reward_mean=reward_mean,
            **{name: first.copy() for name, first in self.reached.items()},
            best_exact_match=self.best_exact_match.copy(),
            heldout_exact_match=heldout,
        )

    def _evaluate_split(self, start: int, stop: int):
        """Sums over contexts start..stop-1 of (exact, p_correct, mae, regret, entropy): (5, S);
        stuck contexts (S,); which actions are some context's greedy one (S, A)."""
        num_seeds, n = len(self.config.seeds), self.task.num_actions
        totals = torch.zeros(5, num_seeds, device=self.device)
        stuck = torch.zeros(num_seeds, device=self.device)
        used = torch.zeros(num_seeds, n, device=self.device)
        chunk = max(1, ((1 << 22) // num_seeds) // n)
        for xs in torch.arange(start, stop, device=self.device).split(chunk):
            keys = self.task.keys(xs)
            logits, _ = self.policy(xs.expand(num_seeds, -1))
            logp = torch.log_softmax(logits, dim=-1)
            probs = logp.exp()
            greedy = logits.argmax(-1)  # (S, c)
            rows = self.rewards.rows(keys)  # (c, n)
            optimal = self.rewards.optimal(rows, keys)  # (c, n)
            hit = optimal.expand(num_seeds, -1, -1).gather(-1, greedy.unsqueeze(-1)).squeeze(-1)
            actions = torch.arange(n, device=self.device)
            distance = (actions - greedy.unsqueeze(-1)).abs().float()
            distance = distance.masked_fill(~optimal, float("inf")).amin(-1)
            got = rows.expand(num_seeds, -1, -1).gather(-1, greedy.unsqueeze(-1)).squeeze(-1)
            p_greedy = probs.gather(-1, greedy.unsqueeze(-1)).squeeze(-1)
            stuck += (~hit & (p_greedy >= STUCK_PROB)).sum(1)
            totals += torch.stack(
                [
                    hit.float().sum(1),
                    (probs * optimal).sum(-1).sum(1),
                    distance.sum(1),
                    (self.rewards.best[keys] - got).sum(1),
                    -(probs * logp).sum(-1).sum(1),
                ]
            )
            used.scatter_(1, greedy, 1.0)
        return totals, stuck, used

    def _check_finite(self) -> None:
        if not bool(self._finite):
            raise TrainingDiverged(
                f"reward={self.config.reward!r} returned NaN or inf during"
                f" training (by {self.samples} samples)"
            )
        bad = [
            seed
            for i, seed in enumerate(self.config.seeds)
            if not all(torch.isfinite(p[i]).all() for p in self.policy.parameters())
        ]
        if bad:
            raise TrainingDiverged(
                f"weights became NaN or inf for seeds {bad} by {self.samples} samples (lr={self.config.lr})"
            )

    # --- checkpoints ----------------------------------------------------------------------
    def state_dict(self) -> dict:
        """A copy of everything needed to continue exactly where this run is (torch.save-able)."""
        return copy.deepcopy(
            {
                "policy": self.policy.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(),
                "generators": [g.get_state() for g in self.generators],
                "ema": self.ema,
                "samples": self.samples,
                "train_s": self.train_s,
                "reached": copy.deepcopy(self.reached),
                "best_exact_match": self.best_exact_match,
            }
        )

    def load_state_dict(self, state: dict) -> None:
        self.policy.load_state_dict(state["policy"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        for g, s in zip(self.generators, state["generators"], strict=True):
            g.set_state(s)
        self.ema = state["ema"].to(self.device)
        self.samples, self.train_s = state["samples"], state["train_s"]
        self.reached = copy.deepcopy(state["reached"])
        self.best_exact_match = state["best_exact_match"].copy()

    def _sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)


def train(config: TrainConfig) -> Iterator[Metrics]:
    """Train `config`, yielding `Metrics` every `eval_every` samples up to `sample_budget`."""
    yield from Trainer(config).run_to_budget()
