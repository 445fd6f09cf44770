"""Rewards r(x, a, n) and what they imply: the best reward per input, the range and the gap.

A reward is a function `f(x: LongTensor, a: LongTensor, n: int) -> FloatTensor` over 1-D tensors
of the same shape. A noisy reward states its optimal actions through an attribute `expected`: a
noiseless function of the same signature (its expectation), used for the optimum and the metrics.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch

from contract.errors import BadValue
from contract.knobs import BY_NAME as KNOBS
from trainable.imports import import_function

RewardFn = Callable[[torch.Tensor, torch.Tensor, int], torch.Tensor]


def abs_reward(x: torch.Tensor, a: torch.Tensor, n: int) -> torch.Tensor:
    """-|x - a|: the forum post's reward."""
    return -(x - a).abs().float()


def squared_reward(x: torch.Tensor, a: torch.Tensor, n: int) -> torch.Tensor:
    """-(x - a)^2."""
    return -((x - a).float() ** 2)


def exact_reward(x: torch.Tensor, a: torch.Tensor, n: int) -> torch.Tensor:
    """1 if a == x else 0."""
    return (x == a).float()


BUILTIN_REWARDS: dict[str, RewardFn] = {
    "abs": abs_reward,
    "squared": squared_reward,
    "exact": exact_reward,
}
ALLOWED = KNOBS["reward"].allows


def resolve_reward(name: str) -> RewardFn:
    """The reward called `name`: a built-in, or `package.module:function` (imported, so run)."""
    if name in BUILTIN_REWARDS:
        return BUILTIN_REWARDS[name]
    return import_function(name, option="reward", allowed=ALLOWED)


class RewardError(RuntimeError):
    """A reward returned something other than one float per (x, a) pair during training; its
    one argument is the BadValue that says what (the line before training)."""


def call_reward(fn: RewardFn, x: torch.Tensor, a: torch.Tensor, n: int, *, name: str) -> torch.Tensor:
    """`fn(x, a, n)`, checked to be a floating tensor of x's shape on x's device (RewardError
    otherwise). What `fn` raises propagates unchanged, with its traceback."""
    r = fn(x, a, n)
    if not isinstance(r, torch.Tensor) or not r.is_floating_point() or r.shape != x.shape:
        got = (
            f"{r.dtype} tensor of shape {tuple(r.shape)}" if isinstance(r, torch.Tensor) else type(r).__name__
        )
        expected = f"a floating tensor of shape {tuple(x.shape)} (one reward per (x, a) pair)"
        raise RewardError(BadValue("reward", name, expected, problem=f"returned a {got}"))
    return r.to(device=x.device, dtype=torch.float32)


@dataclass(frozen=True)
class RewardTable:
    """What the reward implies at `n`: `best[x]` (n,) is each input's best reward, the range is
    max - min over all (x, a)."""

    name: str
    fn: RewardFn
    expected: RewardFn
    n: int
    best: torch.Tensor
    low: float
    high: float

    @property
    def range(self) -> float:
        return self.high - self.low

    @property
    def tolerance(self) -> float:
        """Rewards within this of an input's best count as optimal."""
        return 1e-6 * max(1.0, abs(self.low), abs(self.high))

    @functools.cached_property
    def gap(self) -> float:
        """Median over inputs of best minus second-best reward: what a policy must resolve (1 where
        every action of every input is optimal). Swept on first use."""
        gaps = []
        for xs in input_chunks(self.n, self.best.device):
            rows = self.rows(xs)
            second = rows.masked_fill(self.optimal(rows, xs), float("-inf")).max(1).values
            gaps.append(self.best[xs] - second)  # inf where every action is optimal
        gaps = torch.cat(gaps)
        finite = gaps[torch.isfinite(gaps)]
        return finite.median().item() if finite.numel() else 1.0

    def rows(self, xs: torch.Tensor) -> torch.Tensor:
        """Expected rewards of every action for inputs `xs` (c,): shape (c, n)."""
        return reward_rows(self.expected, xs, self.n, name=self.name)

    def optimal(self, rows: torch.Tensor, xs: torch.Tensor) -> torch.Tensor:
        """Boolean (c, n): which actions are optimal for inputs `xs`, given their `rows`."""
        return rows >= self.best[xs].unsqueeze(1) - self.tolerance


def reward_rows(fn: RewardFn, xs: torch.Tensor, n: int, *, name: str) -> torch.Tensor:
    """`fn` at every action for inputs `xs` (c,): shape (c, n)."""
    c = xs.numel()
    actions = torch.arange(n, device=xs.device)
    return call_reward(fn, xs.repeat_interleave(n), actions.repeat(c), n, name=name).view(c, n)


def input_chunks(n: int, device: torch.device, *, max_pairs: int = 1 << 20) -> Iterator[torch.Tensor]:
    """Inputs 0..n-1 in chunks whose (chunk, n) reward rows hold at most `max_pairs` entries."""
    size = max(1, max_pairs // n)
    for start in range(0, n, size):
        yield torch.arange(start, min(n, start + size), device=device)


def build_reward_table(name: str, n: int, device: torch.device) -> RewardTable:
    """Sweep the (expected) reward over all (x, a), a chunk of inputs at a time, and check it.

    Bad input, found before training: BadValue for whatever goes wrong here."""
    fn = resolve_reward(name)
    expected = getattr(fn, "expected", fn)
    try:
        best, low, high = _sweep(expected, n, device, name=name)
        if fn is not expected:  # the noisy reward itself must also have the right shape and dtype
            probe = torch.arange(n, device=device)
            call_reward(fn, probe, probe, n, name=name)
    except BadValue:
        raise
    except RewardError as error:
        raise error.args[0] from None
    except Exception as error:  # any failure of user code while it is checked
        raise BadValue("reward", name, problem=f"raised {type(error).__name__}: {error}") from None
    return RewardTable(name, fn, expected, n, best, low, high)


def _sweep(expected: RewardFn, n: int, device: torch.device, *, name: str):
    """(best (n,), low, high) of `expected` over all (x, a); BadValue for a non-finite reward."""
    best = torch.empty(n, device=device)
    low, high = float("inf"), float("-inf")
    for xs in input_chunks(n, device):
        rows = reward_rows(expected, xs, n, name=name)
        bad = ~torch.isfinite(rows)
        if bad.any():
            x, a = (int(i) for i in bad.nonzero()[0])
            shown = f"returned {rows[x, a].item()} at x={int(xs[x])}, a={a}"
            raise BadValue("reward", name, "finite rewards", problem=shown)
        best[xs] = rows.max(1).values
        low, high = min(low, rows.min().item()), max(high, rows.max().item())
    return best, low, high
