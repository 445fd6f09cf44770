"""The one table of search axes: what a study may search, what it searches unless told, and how.

Each axis is a TrainConfig field and a config column of the results (contract.schema.AXIS_COLUMNS,
in the same order; a test holds them equal). The Optuna space, the warm-start point, the checks
of a study's options, the options themselves, the progress line, study.json's `search_space` and
the README's option table are derived from this table (study.space, cli.study). A new axis is a
TrainConfig field, a row here and a column in the contract.

Kinds: `category` (strings from `allowed`), `log` (a float searched log-uniformly in [low, high];
low = high holds it), `choice` (numbers to pick from; one value holds it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from trainable.choices import (
    ACTION_ENCODINGS,
    BASELINES,
    ENCODINGS,
    GROUP_BASELINES,
    POLICIES,
    REWARD_SCALES,
    SCHEDULES,
)

CATEGORY, LOG, CHOICE = "category", "log", "choice"


@dataclass(frozen=True)
class Axis:
    name: str  # the TrainConfig field, the config column, the option (dashes for underscores)
    kind: str  # CATEGORY, LOG or CHOICE
    default: tuple  # what a study searches unless told: values, or (low, high) for LOG
    help: str  # what the axis is, for the option's help
    allowed: tuple = ()  # CATEGORY: every value the trainer takes
    valid: tuple[Callable, str] | None = None  # LOG and CHOICE: (test of one value, what is allowed)
    speed: tuple | None = None  # what `--objective speed` searches instead; None: `default`
    when_baseline_in: tuple = ()  # searched only with these baselines (else the trainer ignores it)
    integer: bool = False  # CHOICE: integers (else floats)
    alias: str = ""  # the option's older, plural name
    absent: object = None  # what a point without the axis means (a preset, an older study); None: required
    joins: str = ""  # diagnose changes it together with this axis (a schedule with its rate)
    user_code: bool = False  # CATEGORY: also `module:function` or `file.py:function`; one value: held

    @property
    def held_alone(self) -> bool:
        """Whether one value holds the axis as a constant rather than an Optuna parameter."""
        return self.kind == CHOICE or self.user_code

    @property
    def option(self) -> str:
        return "--" + self.name.replace("_", "-")


_positive = (lambda v: v > 0, "LOW HIGH with 0 < LOW <= HIGH (log scale)")

# Bounds from evidence (docs/FINDINGS.md): in five pilot studies (406 trials, 300k-500k samples at
# n=100) no lr below 1e-3 reached 0.6 at n=100 and no entropy bonus above 3 passed 0.65 there. The
# raw-scalar encodings never passed 0.12 at n=100, and of 1005 pilot trials every config that passed
# 0.95 at n=100 standardized its advantages, so a study searches neither unless asked. The entropy
# bonus is held constant unless asked: annealing it lets n=1000 learn, but at n <= 100 the search
# finds its winners without it. The speed objective's space (docs/FINDINGS.md, "How fast"): small
# batches with a larger lr, a uniform start (output_init 0), Adam's beta1 0 or beta2 0.99 (beta2
# 0.9 never learned), and 4 clipped steps per batch, which held at n=10 where one step left inputs stuck.
AXES = (
    Axis(
        "encoding",
        CATEGORY,
        tuple(e for e in ENCODINGS if not e.startswith("scalar")),
        "how the network reads x",
        allowed=ENCODINGS,
        alias="--encodings",
    ),
    Axis(
        "action_encoding",
        CATEGORY,
        ("onehot",),
        "how the output layer sees the actions (fourier: adds a learned function of the action's"
        " index, so neighbours move together)",
        allowed=ACTION_ENCODINGS,
        speed=ACTION_ENCODINGS,
        alias="--action-encodings",
        absent="onehot",
    ),
    Axis(
        "baseline",
        CATEGORY,
        BASELINES,
        "what is subtracted from the reward (rloo and grpo sample the group size of actions per input)",
        allowed=BASELINES,
        alias="--baselines",
    ),
    Axis(
        "reward_scale",
        CATEGORY,
        ("standardize",),
        "how rewards are scaled before the update",
        allowed=REWARD_SCALES,
        alias="--reward-scales",
    ),
    Axis(
        "lr",
        LOG,
        (1e-3, 1e-1),
        "the Adam learning rate",
        valid=_positive,
        speed=(3e-3, 0.3),
        alias="--lr-range",
    ),
    Axis(
        "lr_schedule",
        CATEGORY,
        SCHEDULES,
        "how the lr changes over the sample budget (linear and cosine anneal it to 0 at its end)",
        allowed=SCHEDULES,
        alias="--lr-schedules",
        absent="constant",
        joins="lr",
    ),
    Axis(
        "entropy_coef",
        LOG,
        (0.03, 3.0),
        "the entropy bonus weight",
        valid=_positive,
        speed=(0.1, 3.0),
        alias="--entropy-range",
        absent=0.0,
    ),
    Axis(
        "entropy_schedule",
        CATEGORY,
        ("constant",),
        "how the entropy bonus changes over the sample budget (linear and cosine anneal it to 0 at its end)",
        allowed=SCHEDULES,
        alias="--entropy-schedules",
        absent="constant",
        joins="entropy_coef",
    ),
    Axis(
        "batch_size",
        CHOICE,
        (64, 128, 256, 512, 1024),
        "samples per update (a multiple of the group size for rloo and grpo)",
        valid=(lambda v: v >= 1, "integers >= 1"),
        speed=(8, 16, 32, 64, 128, 256),
        integer=True,
        alias="--batch-sizes",
    ),
    Axis(
        "hidden",
        CHOICE,
        (32, 64, 128, 256),
        "hidden units of the policy network",
        valid=(lambda v: v >= 1, "integers >= 1"),
        speed=(64, 128, 256),
        integer=True,
        alias="--hidden-sizes",
    ),
    Axis(
        "group_size",
        CHOICE,
        (2, 4, 8, 16),
        "actions sampled per input for rloo and grpo (a divisor of the batch size)",
        valid=(lambda v: v >= 2, "integers >= 2"),
        speed=(2, 4, 8),
        when_baseline_in=GROUP_BASELINES,
        integer=True,
        alias="--group-sizes",
        joins="baseline",
    ),
    Axis(
        "output_init",
        CHOICE,
        (1.0,),
        "the initial scale of the output layer (0: every input starts at the uniform policy)",
        valid=(lambda v: v >= 0, "numbers >= 0"),
        speed=(0.0, 1.0),
        alias="--output-inits",
        absent=1.0,
    ),
    Axis(
        "adam_beta1",
        CHOICE,
        (0.9,),
        "Adam's beta1 (momentum)",
        valid=(lambda v: 0 <= v < 1, "numbers in [0, 1)"),
        speed=(0.0, 0.5, 0.9),
        alias="--adam-beta1s",
        absent=0.9,
    ),
    Axis(
        "adam_beta2",
        CHOICE,
        (0.999,),
        "Adam's beta2 (second-moment decay)",
        valid=(lambda v: 0 <= v < 1, "numbers in [0, 1)"),
        speed=(0.99, 0.999),
        alias="--adam-beta2s",
        absent=0.999,
        joins="adam_beta1",
    ),
    Axis(
        "adam_eps",
        CHOICE,
        (1e-8,),
        "Adam's epsilon (caps the step once gradients go quiet)",
        valid=(lambda v: v > 0, "numbers > 0"),
        speed=(1e-8, 1e-4, 1e-3),
        absent=1e-8,
    ),
    Axis(
        "update_epochs",
        CHOICE,
        (1,),
        "gradient steps per batch (> 1: PPO's clipped importance ratio, --clip)",
        valid=(lambda v: v >= 1, "integers >= 1"),
        speed=(1, 2, 4),
        integer=True,
        absent=1,
    ),
    Axis(
        "policy",
        CATEGORY,
        ("mlp",),
        "the policy network (mlp: one hidden layer; mlp2: two; or your function returning an"
        " nn.Module, which imports and runs that code)",
        allowed=POLICIES,
        absent="mlp",
        user_code=True,
    ),
)
BY_NAME = {axis.name: axis for axis in AXES}


def default_space(objective: str = "hold") -> dict[str, tuple]:
    """{axis: what a study searches unless told} for the `hold` or `speed` objective."""
    return {a.name: tuple(a.speed if objective == "speed" and a.speed else a.default) for a in AXES}


def markdown_table() -> str:
    """The axes as the Markdown table docs/study.md shows (`python -m study.axes` prints it)."""

    def shown(values) -> str:
        return " ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values)

    lines = [
        "| option (older name) | searched by default | with `--objective speed` | allowed | what it is |",
        "|---|---|---|---|---|",
    ]
    for a in AXES:
        default = f"{shown(a.default)} (log scale)" if a.kind == LOG else shown(a.default)
        speed = shown(a.speed) if a.speed else "the same"
        allowed = ", ".join(a.allowed) if a.allowed else a.valid[1]
        allowed += ", package.module:function, path/to/file.py:function" if a.user_code else ""
        when = f"; only with {', '.join(a.when_baseline_in)}" if a.when_baseline_in else ""
        alias = f" ({a.alias})" if a.alias else ""
        lines.append(f"| `{a.option}`{alias} | {default} | {speed} | {allowed} | {a.help}{when} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())
