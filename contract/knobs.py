"""The trainer's knobs, each declared once (no torch): a field of `Knobs` with its type, default,
help, check, log scale, when it applies and the value older files imply.

trainable.TrainConfig is `Knobs` with the checks run; `banditune train`'s options (and
docs/trainer.md's table, `python -m cli.train`), the contract's config columns (contract.schema),
analysis' log scales and diagnose's variants come from `KNOBS`; study.axes adds how each searched
knob (role AXIS) is searched. A new knob is a field here, the code that uses it and, if searched,
a row in study.axes (then paste the generated tables the docs tests ask for).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from contract.errors import BadValue, as_option

# The names every choice knob allows (the trainer's modules that implement them read these names;
# tests/trainable/test_choices.py holds them equal).
ENCODINGS = ("scalar", "scalar01", "onehot", "embedding", "fourier", "binary")
ACTION_ENCODINGS = ("onehot", "fourier")
BASELINES = ("none", "ema", "batch_mean", "rloo", "grpo", "value")
GROUP_BASELINES = ("rloo", "grpo")  # sample several actions per input
REWARD_SCALES = ("raw", "range", "gap", "standardize")
SCHEDULES = ("constant", "linear", "cosine")
INPUTS = ("uniform", "cycle")
DEVICES = ("auto", "cpu", "cuda")
POLICIES = ("mlp", "mlp2")  # built-in networks; also package.module:function or path.py:function
USER_CODE = "package.module:function or path/to/file.py:function"

# A knob's role: RUN, what one run trains (the task, seeds, budget: no config column); AXIS, what a
# study may search (a config column of trials/ and diagnose.parquet, in this order); SETTING,
# the others (a config column of diagnose.parquet).
RUN, AXIS, SETTING = "run", "axis", "setting"


def knob(
    default,
    help: str,
    *,
    role: str = SETTING,
    check: Callable | None = None,
    allowed: str = "",
    choices: tuple = (),
    user_code: bool = False,
    log: bool = False,
    when_baseline_in: tuple = (),
    joins: str = "",
    older=None,
    default_text: str = "",
):
    """A `Knobs` field. `check`, `allowed`: a number's test and what it allows; `choices`: a string's
    names (`user_code`: or code it names); `log`: analysis shows it on a log scale;
    `when_baseline_in`: used only with these baselines; `joins`: diagnose changes it with that
    knob; `older`: what a point, study.json or results file from before the knob means (None: they
    all hold it); `default_text`: what a default of None resolves to, for the help."""
    meta = dict(role=role, help=help, check=check, allowed=allowed, choices=choices, user_code=user_code)
    meta |= dict(
        log=log, when_baseline_in=when_baseline_in, joins=joins, older=older, default_text=default_text
    )
    return field(default=default, metadata=meta)


def _positive(v) -> bool:
    return v > 0


def _at_least(low) -> Callable:
    return lambda v: v >= low


def _fraction(v) -> bool:
    return 0 <= v < 1


_FRACTION = "a number in [0, 1)"


@dataclass(frozen=True)
class Knobs:
    """Every knob of one REINFORCE run on the bandit x -> a in 0..n-1 (or on a context set)."""

    n: int = knob(
        10,
        "bandit size: inputs x and actions a in 0..n-1",
        role=RUN,
        check=_at_least(2),
        allowed="an integer >= 2",
    )
    contexts: str | None = knob(
        None,
        "a context set instead of the integer bandit (digits: scikit-learn's 8x8 digits; your"
        " function returns (features (M, d) float, labels (M,) int64); imports and runs that code);"
        " the reward then sees each context's label where it sees x",
        role=RUN,
        allowed="digits or package.module:function",
        default_text="none, the integer bandit",
    )
    holdout: float = knob(
        0.25,
        "share of a context set's contexts held out of training (a stratified split with a fixed seed)",
        role=RUN,
        check=lambda v: 0 < v < 1,
        allowed="a number in (0, 1)",
    )
    seeds: tuple[int, ...] = knob((0,), "seeds trained together", role=RUN)
    sample_budget: int | None = knob(
        None, "samples per seed (300000, 300k, 3M)", role=RUN, check=_at_least(1), allowed="an integer >= 1"
    )
    eval_every: int | None = knob(
        None,
        "samples between evaluations (progress lines; 3000, 3k)",
        role=RUN,
        check=_at_least(1),
        allowed="an integer >= 1",
        default_text="the budget / 50, at least one batch",
    )
    reward: str = knob(
        "abs",
        "r(x, a): abs (-|x-a|), squared (-(x-a)^2), exact (1 if a == x) or your function (imports"
        " and runs that code)",
        allowed="abs, squared, exact or package.module:function",
    )
    device: str = knob(
        "auto", "where to train (auto: CUDA when torch sees it, else the CPU)", choices=DEVICES
    )
    encoding: str = knob("onehot", "how the network reads x", role=AXIS, choices=ENCODINGS)
    action_encoding: str = knob(
        "onehot",
        "how the output layer sees the actions (fourier: adds a learned function of the action's"
        " index, so neighbours move together)",
        role=AXIS,
        choices=ACTION_ENCODINGS,
        older="onehot",
    )
    baseline: str = knob(
        "grpo",
        "what is subtracted from the reward (rloo and grpo sample the group size of actions per input)",
        role=AXIS,
        choices=BASELINES,
    )
    reward_scale: str = knob(
        "range", "how rewards are scaled before the update", role=AXIS, choices=REWARD_SCALES
    )
    lr: float | None = knob(
        None, "the Adam learning rate", role=AXIS, check=_positive, allowed="a finite number > 0", log=True
    )
    lr_schedule: str = knob(
        "cosine",
        "how the lr changes over the sample budget (linear and cosine anneal it to 0 at its end)",
        role=AXIS,
        choices=SCHEDULES,
        joins="lr",
        older="constant",
    )
    entropy_coef: float | None = knob(
        None,
        "the entropy bonus weight",
        role=AXIS,
        check=_at_least(0),
        allowed="a finite number >= 0",
        log=True,
        older=0.0,
    )
    entropy_schedule: str = knob(
        "cosine",
        "how the entropy bonus changes over the sample budget (linear and cosine anneal it to 0 at its end)",
        role=AXIS,
        choices=SCHEDULES,
        joins="entropy_coef",
        older="constant",
    )
    batch_size: int = knob(
        512,
        "samples per update (a multiple of the group size for rloo and grpo)",
        role=AXIS,
        check=_at_least(1),
        allowed="an integer >= 1",
        log=True,
    )
    hidden: int = knob(
        128,
        "hidden units of the policy network",
        role=AXIS,
        check=_at_least(1),
        allowed="an integer >= 1",
        log=True,
    )
    group_size: int = knob(
        8,
        "actions sampled per input for rloo and grpo (a divisor of the batch size)",
        role=AXIS,
        check=_at_least(1),
        allowed="an integer >= 1",
        when_baseline_in=GROUP_BASELINES,
        joins="baseline",
    )
    output_init: float = knob(
        1.0,
        "the initial scale of the output layer (0: every input starts at the uniform policy)",
        role=AXIS,
        check=_at_least(0),
        allowed="a number >= 0",
        older=1.0,
    )
    adam_beta1: float = knob(
        0.9, "Adam's beta1 (momentum)", role=AXIS, check=_fraction, allowed=_FRACTION, older=0.9
    )
    adam_beta2: float = knob(
        0.999,
        "Adam's beta2 (second-moment decay)",
        role=AXIS,
        check=_fraction,
        allowed=_FRACTION,
        joins="adam_beta1",
        older=0.999,
    )
    adam_eps: float = knob(
        1e-8,
        "Adam's epsilon (caps the step once gradients go quiet)",
        role=AXIS,
        check=_positive,
        allowed="a finite number > 0",
        older=1e-8,
    )
    update_epochs: int = knob(
        1,
        "gradient steps per batch (> 1: PPO's clipped importance ratio, --clip)",
        role=AXIS,
        check=_at_least(1),
        allowed="an integer >= 1",
        older=1,
    )
    policy: str = knob(
        "mlp",
        "the policy network (mlp: one hidden layer; mlp2: two; or your function returning an"
        " nn.Module, which imports and runs that code)",
        role=AXIS,
        choices=POLICIES,
        user_code=True,
        older="mlp",
    )
    minibatch_size: int | None = knob(
        None,
        "samples per optimizer step within a batch (a divisor of the batch size)",
        check=_at_least(1),
        allowed="an integer >= 1",
        joins="batch_size",
        default_text="the batch size",
    )
    ema_decay: float = knob(
        0.9,
        "decay of the ema baseline's running reward",
        check=_fraction,
        allowed=_FRACTION,
        joins="baseline",
    )
    value_coef: float = knob(
        0.5,
        "weight of the value baseline's loss",
        check=_at_least(0),
        allowed="a number >= 0",
        joins="baseline",
    )
    inputs: str = knob("uniform", "how inputs x are drawn (cycle: 0..n-1 in turn)", choices=INPUTS)
    gamma: float = knob(
        0.0,
        "discount across the batch's samples in order (the forum post's returns; 0: each sample alone)",
        check=_fraction,
        allowed=_FRACTION,
    )
    clip: float = knob(
        0.2,
        "the ratio's clip range for update_epochs > 1",
        check=_positive,
        allowed="a finite number > 0",
        joins="update_epochs",
    )


@dataclass(frozen=True)
class Knob:
    """One knob of `Knobs`, as a row (see `knob` for the columns)."""

    name: str
    type: type  # int, float or str (seeds: tuple)
    default: object
    role: str
    help: str
    check: Callable | None
    allowed: str
    choices: tuple
    user_code: bool
    log: bool
    when_baseline_in: tuple
    joins: str
    older: object
    default_text: str

    @property
    def option(self) -> str:
        return as_option(self.name)

    @property
    def allows(self) -> str:
        """What the knob allows, as an error message or the help says it."""
        if self.choices:
            return (
                ", ".join((*self.choices, USER_CODE))
                if self.user_code
                else "one of " + ", ".join(self.choices)
            )
        return self.allowed

    def error(self, value) -> BadValue | None:
        """Why `value` is not allowed for this knob alone, or None (None defaults resolve later)."""
        if (value is None and self.default is None) or self.type is tuple:
            return None
        if self.choices:
            ok = value in self.choices or (self.user_code and isinstance(value, str) and ":" in value)
        elif self.type is str:
            ok = isinstance(value, str) and value != ""
        else:
            ok = is_number(value, integer=self.type is int) and self.check(value)
        return None if ok else BadValue(self.name, value, self.allows)


def is_number(value, *, integer: bool = False) -> bool:
    """A finite number (not a bool); with `integer`, an int."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return isinstance(value, int) if integer else math.isfinite(value)


_TYPES = {"int": int, "float": float, "str": str}
KNOBS = tuple(
    Knob(name=f.name, type=_TYPES.get(f.type.split()[0], tuple), default=f.default, **f.metadata)
    for f in dataclasses.fields(Knobs)
)
BY_NAME = {k.name: k for k in KNOBS}
