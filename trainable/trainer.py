"""The REINFORCE bandit trainer, vectorized over seeds.

All S seeds of a config train as one batched model: every parameter has a leading seed dimension,
the loss is the sum of the seeds' losses and one Adam step updates all (Adam is elementwise, so each
seed follows exactly the path it would alone). Each seed draws its inputs, actions and initial
weights from its own generator, so a seed's run does not depend on which seeds train beside it.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, fields

import numpy as np
import torch

from contract.schema import REACHED
from trainable import update
from trainable.config import TrainConfig
from trainable.policy import flush_denormal, make_policy
from trainable.rewards import RewardTable, build_reward_table, call_reward
from trainable.tasks import HELDOUT, TRAIN, make_task

# An input is stuck when its greedy action is wrong and the policy puts at least this on it:
# REINFORCE then almost never samples the right action again, so it stays wrong.
STUCK_PROB = 0.9


class TrainingDiverged(RuntimeError):
    """Rewards, losses or weights became NaN or infinite."""


@dataclass(frozen=True)
class Metrics:
    """One evaluation on the task's training contexts (the integer bandit's: all n inputs).
    Per-seed fields are arrays of shape (S,); `stuck` counts the contexts whose greedy action is
    wrong with probability >= STUCK_PROB; `heldout_exact_match` is on a context set's held-out
    contexts (NaN without)."""

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


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


class Trainer:
    """REINFORCE on the bandit of `config`, all seeds at once. `run(samples)` trains and evaluates."""

    def __init__(self, config: TrainConfig):
        self.config = config
        flush_denormal()  # before torch starts its worker threads, which inherit it
        self.device = resolve_device(config.device)
        self.task = make_task(config, self.device)
        self.rewards: RewardTable = build_reward_table(config.reward, self.task.num_actions, self.device)
        self.policy = make_policy(config, self.task, self.device)
        self.optimizer = update.adam(self.policy.parameters(), config)
        self.steps = 0  # batches trained: the lr and the entropy bonus follow their schedules by it
        self._set_lr()
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
            self.steps += 1
            self._set_lr()
        self._sync()
        self.train_s += time.perf_counter() - start
        self.samples += steps * self.config.batch_size
        return self.evaluate()

    def set_rates(self, *, lr: float, entropy_coef: float) -> None:
        """From the next batch on, train with base lr `lr` and entropy bonus `entropy_coef` (their
        schedules apply on top, at the step the run has reached): a PBT trial's new rates."""
        self.config = dataclasses.replace(self.config, lr=lr, entropy_coef=entropy_coef)
        self._set_lr()

    def _set_lr(self) -> None:
        lr = update.lr_at(self.config, self.steps)
        for group in self.optimizer.param_groups:
            group["lr"] = lr

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
            adv, target, self.ema = update.advantages(
                raw, x=x, value=value, ema=self.ema, config=c, rewards=self.rewards
            )
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

    def _update(self, logp, value, actions, adv, target, old_logp_taken=None) -> None:
        """One Adam step on update.loss: REINFORCE's, or with `old_logp_taken` (the sampling
        policy's) the clipped surrogate."""
        per_seed = update.loss(
            logp,
            actions,
            adv,
            value=value,
            target=target,
            old_logp_taken=old_logp_taken,
            config=self.config,
            step=self.steps,
        )
        self.optimizer.zero_grad(set_to_none=True)
        per_seed.sum().backward()
        self.optimizer.step()

    # --- evaluation -----------------------------------------------------------------------
    @torch.no_grad()
    def evaluate(self) -> Metrics:
        """Greedy and policy metrics of every seed over the task's training contexts (the integer
        bandit's: all n inputs), and a context set's exact match on its held-out ones."""
        c = self.config
        num_seeds = len(c.seeds)
        totals, stuck, used = self._evaluate_split(*self.task.splits[TRAIN])
        heldout = np.full(num_seeds, np.nan)
        if HELDOUT in self.task.splits:
            start, stop = self.task.splits[HELDOUT]
            heldout = (self._evaluate_split(start, stop)[0][0] / (stop - start)).cpu().double().numpy()
        trained_on = self.task.train_size
        self._check_finite()
        exact, p_correct, mae, regret, entropy = (totals / trained_on).cpu().double().numpy()
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
        num_seeds, a = len(self.config.seeds), self.task.num_actions
        totals = torch.zeros(5, num_seeds, device=self.device)
        stuck = torch.zeros(num_seeds, device=self.device)
        used = torch.zeros(num_seeds, a, device=self.device)
        chunk = max(1, ((1 << 22) // num_seeds) // a)
        for xs in torch.arange(start, stop, device=self.device).split(chunk):
            keys = self.task.keys(xs)
            logits, _ = self.policy(xs.expand(num_seeds, -1))
            logp = torch.log_softmax(logits, dim=-1)
            probs = logp.exp()
            greedy = logits.argmax(-1)  # (S, c)
            rows = self.rewards.rows(keys)  # (c, A)
            optimal = self.rewards.optimal(rows, keys)  # (c, A)
            hit = optimal.expand(num_seeds, -1, -1).gather(-1, greedy.unsqueeze(-1)).squeeze(-1)
            actions = torch.arange(a, device=self.device)
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
                "steps": self.steps,
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
        # states saved before the step counter hold the lr scheduler's count of batches
        self.steps = state["steps"] if "steps" in state else state["scheduler"]["last_epoch"]
        self._set_lr()
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
