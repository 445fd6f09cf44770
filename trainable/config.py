"""`TrainConfig`: every knob of the trainer, validated on construction; presets; config files."""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path

import yaml

from trainable import defaults
from trainable.choices import (
    BASELINES,
    DEVICES,
    ENCODINGS,
    GROUP_BASELINES,
    INPUTS,
    REWARD_SCALES,
    SCHEDULES,
)
from trainable.defaults import DEFAULT_HOLDOUT


@dataclass(frozen=True)
class TrainConfig:
    """One REINFORCE run on the bandit x -> a in 0..n-1, for every seed in `seeds`; with
    `contexts`, on that context set instead (n and encoding unused), a share `holdout` held out.

    `lr`, `entropy_coef`, `sample_budget` and `eval_every` of None resolve to values that suit
    `n` (trainable.defaults). The defaults learn from n=10 to 1000 whatever the reward's scale
    or offset, and abs or squared at n=100: one-hot inputs, GRPO advantages (z-scored within 8 samples
    of one input, so any positive affine change of the reward leaves them unchanged), an lr that
    falls with n, an entropy bonus of 0.5 in those unit-std units, and both annealed to 0 over
    the budget along half a cosine.
    """

    n: int = 10
    contexts: str | None = None  # a context set (trainable.contexts) instead of the integer bandit
    holdout: float = DEFAULT_HOLDOUT
    reward: str = "abs"
    encoding: str = "onehot"
    baseline: str = "grpo"
    reward_scale: str = "range"
    lr: float | None = None  # defaults.default_lr(n)
    lr_schedule: str = "cosine"
    entropy_coef: float | None = None  # defaults.ENTROPY_COEF
    entropy_schedule: str = "cosine"
    batch_size: int = 512
    hidden: int = 128
    group_size: int = 8
    seeds: tuple[int, ...] = (0,)
    sample_budget: int | None = None
    eval_every: int | None = None
    device: str = "auto"
    inputs: str = "uniform"
    gamma: float = 0.0
    minibatch_size: int | None = None
    ema_decay: float = 0.9
    value_coef: float = 0.5
    output_init: float = 1.0  # the output layer's initial scale (trainable.init); 0: uniform policy
    adam_beta1: float = 0.9  # Adam's momentum and second-moment decay (trainable.optimizer)
    adam_beta2: float = 0.999
    update_epochs: int = 1  # gradient steps per batch; > 1 uses the clipped ratio (trainable.epochs)
    clip: float = 0.2  # the ratio's clip range for update_epochs > 1

    def __post_init__(self):
        integer = self.contexts is None
        if self.lr is None and (not integer or (_is_int(self.n) and self.n >= 2)):
            lr = defaults.default_lr(self.n) if integer else defaults.CONTEXTS_LR
            object.__setattr__(self, "lr", lr)
        if self.entropy_coef is None:
            bonus = defaults.ENTROPY_COEF if integer else defaults.CONTEXTS_ENTROPY_COEF
            object.__setattr__(self, "entropy_coef", bonus)
        _validate(self)
        object.__setattr__(self, "seeds", tuple(int(s) for s in self.seeds))
        if self.sample_budget is None:
            budget = defaults.default_sample_budget(self.n) if integer else defaults.CONTEXTS_SAMPLE_BUDGET
            object.__setattr__(self, "sample_budget", budget)
        if self.eval_every is None:
            every = max(self.batch_size, self.sample_budget // 50)
            object.__setattr__(self, "eval_every", every)
        if self.minibatch_size is None:
            object.__setattr__(self, "minibatch_size", self.batch_size)
        _check(
            self.batch_size % self.minibatch_size == 0,
            "minibatch_size",
            self.minibatch_size,
            f"a divisor of batch_size={self.batch_size}",
        )

    @property
    def uses_groups(self) -> bool:
        return self.baseline in GROUP_BASELINES

    @property
    def samples_per_input(self) -> int:
        """How many actions are sampled for each drawn input (group baselines need several)."""
        return self.group_size if self.uses_groups else 1

    def to_dict(self) -> dict:
        """JSON-ready fields (what `--config FILE` reads back)."""
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.init}
        d["seeds"] = list(self.seeds)
        return d

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        """A config from fields; lr, entropy_coef, batch_size and sample_budget may be rules in n."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown config key(s) {unknown}; allowed: {sorted(known)}")
        return cls(**resolve_rules(values))


# Fields a config file may give as a power law in n, {"coef": c, "exponent": e}: c * n ** e at the
# config's n (the integer fields rounded), so that one file runs at any n.
RULE_FIELDS = ("lr", "entropy_coef", "batch_size", "sample_budget")
_INTEGER_RULES = ("batch_size", "sample_budget")


def resolve_rules(values: dict) -> dict:
    """`values` with each rule of RULE_FIELDS replaced by its value at values' n (default 10)."""
    out = dict(values)
    for name in RULE_FIELDS:
        rule = values.get(name)
        if not isinstance(rule, dict):
            continue
        allowed = 'a number or a rule in n, {"coef": c > 0, "exponent": e}, for the integer bandit'
        _check(
            set(rule) == {"coef", "exponent"}
            and _is_number(rule["coef"])
            and rule["coef"] > 0
            and _is_number(rule["exponent"])
            and values.get("contexts") is None,
            name,
            rule,
            allowed,
        )
        n = values.get("n", TrainConfig.n)
        _check(_is_int(n) and n >= 2, "n", n, "an integer >= 2")
        value = rule["coef"] * n ** rule["exponent"]
        out[name] = round(value) if name in _INTEGER_RULES else value
    return out


# The forum thread's fixed version: raw scalar input, no baseline, tiny entropy bonus,
# Adam 1e-3, one update per 50 samples, inputs cycling through 0..n-1.
FORUM = dict(
    encoding="scalar",
    baseline="none",
    reward_scale="raw",
    lr=1e-3,
    lr_schedule="constant",
    entropy_coef=1e-4,
    entropy_schedule="constant",
    batch_size=50,
    hidden=128,
    inputs="cycle",
)
PRESETS: dict[str, dict] = {
    "forum": FORUM,
    # The post as written: returns discounted (gamma 0.99) across the independent samples of an
    # episode, and an optimizer step after every sample.
    "forum-original": {**FORUM, "gamma": 0.99, "minibatch_size": 1},
}


def from_preset(name: str, **overrides) -> TrainConfig:
    """The preset `name` with `overrides` (e.g. n, seeds) applied on top."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; allowed: {', '.join(PRESETS)}")
    return TrainConfig(**{**PRESETS[name], **overrides})


def read_config_file(path: str | Path) -> dict:
    """The fields in a JSON or YAML config file (not yet validated)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"--config {str(path)!r}: no such file; give a JSON or YAML config file")
    text = path.read_text()
    try:
        values = yaml.safe_load(text) if path.suffix in (".yaml", ".yml") else json.loads(text)
    except (ValueError, yaml.YAMLError) as error:
        reason = str(error).splitlines()[0]
        raise ValueError(f"--config {str(path)!r}: not valid JSON or YAML ({reason})") from None
    if not isinstance(values, dict):
        raise ValueError(f"--config {str(path)!r}: expected a mapping of config fields")
    return values


def _check(ok: bool, name: str, value, allowed: str) -> None:
    if not ok:
        raise ValueError(f"{name}={value!r} is not allowed; expected {allowed}")


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _validate(c: TrainConfig) -> None:
    _check(_is_int(c.n) and c.n >= 2, "n", c.n, "an integer >= 2")
    _check(
        c.contexts is None or (isinstance(c.contexts, str) and c.contexts != ""),
        "contexts",
        c.contexts,
        "digits or package.module:function",
    )
    _check(_is_number(c.holdout) and 0 < c.holdout < 1, "holdout", c.holdout, "a number in (0, 1)")
    _check(
        isinstance(c.reward, str) and c.reward != "",
        "reward",
        c.reward,
        "abs, squared, exact or package.module:function",
    )
    _check(c.encoding in ENCODINGS, "encoding", c.encoding, "one of " + ", ".join(ENCODINGS))
    _check(c.baseline in BASELINES, "baseline", c.baseline, "one of " + ", ".join(BASELINES))
    _check(
        c.reward_scale in REWARD_SCALES, "reward_scale", c.reward_scale, "one of " + ", ".join(REWARD_SCALES)
    )
    _check(_is_number(c.lr) and c.lr > 0, "lr", c.lr, "a finite number > 0")
    _check(c.lr_schedule in SCHEDULES, "lr_schedule", c.lr_schedule, "one of " + ", ".join(SCHEDULES))
    _check(
        _is_number(c.entropy_coef) and c.entropy_coef >= 0,
        "entropy_coef",
        c.entropy_coef,
        "a finite number >= 0",
    )
    _check(
        c.entropy_schedule in SCHEDULES,
        "entropy_schedule",
        c.entropy_schedule,
        "one of " + ", ".join(SCHEDULES),
    )
    _check(_is_int(c.batch_size) and c.batch_size >= 1, "batch_size", c.batch_size, "an integer >= 1")
    _check(_is_int(c.hidden) and c.hidden >= 1, "hidden", c.hidden, "an integer >= 1")
    _check(_is_int(c.group_size) and c.group_size >= 1, "group_size", c.group_size, "an integer >= 1")
    if c.baseline in GROUP_BASELINES:
        _check(c.group_size >= 2, "group_size", c.group_size, f"an integer >= 2 for baseline {c.baseline}")
        _check(
            c.batch_size % c.group_size == 0,
            "batch_size",
            c.batch_size,
            f"a multiple of group_size={c.group_size} for baseline {c.baseline}",
        )
    seeds = c.seeds
    _check(
        isinstance(seeds, (list, tuple))
        and len(seeds) > 0
        and all(_is_int(s) and s >= 0 for s in seeds)
        and len(set(seeds)) == len(seeds),
        "seeds",
        seeds,
        "a non-empty list of distinct integers >= 0",
    )
    if c.sample_budget is not None:
        _check(
            _is_int(c.sample_budget) and c.sample_budget >= 1,
            "sample_budget",
            c.sample_budget,
            "an integer >= 1",
        )
    if c.eval_every is not None:
        _check(_is_int(c.eval_every) and c.eval_every >= 1, "eval_every", c.eval_every, "an integer >= 1")
    _check(c.device in DEVICES, "device", c.device, "one of " + ", ".join(DEVICES))
    if c.device == "cuda":
        import torch

        _check(
            torch.cuda.is_available(),
            "device",
            c.device,
            "auto or cpu: torch sees no CUDA device on this machine",
        )
    _check(c.inputs in INPUTS, "inputs", c.inputs, "one of " + ", ".join(INPUTS))
    _check(_is_number(c.gamma) and 0 <= c.gamma < 1, "gamma", c.gamma, "a number in [0, 1)")
    if c.minibatch_size is not None:
        _check(
            _is_int(c.minibatch_size) and c.minibatch_size >= 1,
            "minibatch_size",
            c.minibatch_size,
            "an integer >= 1",
        )
    _check(_is_number(c.ema_decay) and 0 <= c.ema_decay < 1, "ema_decay", c.ema_decay, "a number in [0, 1)")
    _check(_is_number(c.value_coef) and c.value_coef >= 0, "value_coef", c.value_coef, "a number >= 0")
    _check(_is_number(c.output_init) and c.output_init >= 0, "output_init", c.output_init, "a number >= 0")
    for name in ("adam_beta1", "adam_beta2"):
        value = getattr(c, name)
        _check(_is_number(value) and 0 <= value < 1, name, value, "a number in [0, 1)")
    _check(
        _is_int(c.update_epochs) and c.update_epochs >= 1, "update_epochs", c.update_epochs, "an integer >= 1"
    )
    _check(_is_number(c.clip) and c.clip > 0, "clip", c.clip, "a finite number > 0")
