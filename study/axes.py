"""How each searched knob is searched: what a study may search, what it searches unless told, and how.

Each axis is a knob of role AXIS in contract.knobs, in the same order (a test holds them equal):
its meaning, allowed values, check, when it applies and the value older studies imply are the
knob's. The Optuna space, the warm-start point, the checks of a study's options, the options
themselves, the progress line, study.json's `search_space` and docs/study.md's option table
(`python -m study.axes`) are derived from this table (study.space, cli.study).

Kinds: `category` (strings from `allowed`), `log` (a float searched log-uniformly in [low, high];
low = high holds it), `choice` (numbers to pick from; one value holds it).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from contract.knobs import ACTION_ENCODINGS, BASELINES, ENCODINGS, SCHEDULES
from contract.knobs import BY_NAME as KNOBS

CATEGORY, LOG, CHOICE = "category", "log", "choice"


@dataclass(frozen=True)
class Axis:
    name: str  # the knob (TrainConfig field, config column, option with dashes for underscores)
    kind: str  # CATEGORY, LOG or CHOICE
    default: tuple  # what a study searches unless told: values, or (low, high) for LOG
    speed: tuple | None = None  # what `--objective speed` searches instead; None: `default`
    alias: str = ""  # the option's older, plural name
    least: int | None = None  # CHOICE: a smaller range than the knob's, values >= least

    @property
    def held_alone(self) -> bool:
        """Whether one value holds the axis as a constant rather than an Optuna parameter."""
        return self.kind == CHOICE or self.knob.user_code

    @property
    def knob(self):
        """The knob's row in contract.knobs: its help, allowed names, check, when it applies."""
        return KNOBS[self.name]

    @property
    def names(self) -> str:
        """A category's allowed names, code for the knobs that take it too ("" for numbers)."""
        code = ", package.module:function, path/to/file.py:function" if self.knob.user_code else ""
        return ", ".join(self.knob.choices) + code if self.knob.choices else ""

    @property
    def valid(self) -> tuple[Callable, str] | None:
        """LOG and CHOICE: (the test of one value, what is allowed, of several values)."""
        if self.kind == LOG:
            return (lambda v: v > 0, "LOW HIGH with 0 < LOW <= HIGH (log scale)")
        if self.kind == CATEGORY:
            return None
        if self.least is not None:
            return (lambda v: v >= self.least, f"integers >= {self.least}")
        return (self.knob.check, re.sub(r"^an? (finite )?(integer|number)", r"\2s", self.knob.allowed))


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
        "encoding", CATEGORY, tuple(e for e in ENCODINGS if not e.startswith("scalar")), alias="--encodings"
    ),
    Axis("action_encoding", CATEGORY, ("onehot",), speed=ACTION_ENCODINGS, alias="--action-encodings"),
    Axis("baseline", CATEGORY, BASELINES, alias="--baselines"),
    Axis("reward_scale", CATEGORY, ("standardize",), alias="--reward-scales"),
    Axis("lr", LOG, (1e-3, 1e-1), speed=(3e-3, 0.3), alias="--lr-range"),
    Axis("lr_schedule", CATEGORY, SCHEDULES, alias="--lr-schedules"),
    Axis("entropy_coef", LOG, (0.03, 3.0), speed=(0.1, 3.0), alias="--entropy-range"),
    Axis("entropy_schedule", CATEGORY, ("constant",), alias="--entropy-schedules"),
    Axis(
        "batch_size",
        CHOICE,
        (64, 128, 256, 512, 1024),
        speed=(8, 16, 32, 64, 128, 256),
        alias="--batch-sizes",
    ),
    Axis("hidden", CHOICE, (32, 64, 128, 256), speed=(64, 128, 256), alias="--hidden-sizes"),
    Axis("group_size", CHOICE, (2, 4, 8, 16), speed=(2, 4, 8), alias="--group-sizes", least=2),
    Axis("output_init", CHOICE, (1.0,), speed=(0.0, 1.0), alias="--output-inits"),
    Axis("adam_beta1", CHOICE, (0.9,), speed=(0.0, 0.5, 0.9), alias="--adam-beta1s"),
    Axis("adam_beta2", CHOICE, (0.999,), speed=(0.99, 0.999), alias="--adam-beta2s"),
    Axis("adam_eps", CHOICE, (1e-8,), speed=(1e-8, 1e-4, 1e-3)),
    Axis("update_epochs", CHOICE, (1,), speed=(1, 2, 4)),
    Axis("policy", CATEGORY, ("mlp",)),
)
BY_NAME = {axis.name: axis for axis in AXES}


def default_space(objective: str = "hold") -> dict[str, tuple]:
    """{axis: what a study searches unless told} for the `hold` or `speed` objective."""
    return {a.name: tuple(a.speed if objective == "speed" and a.speed else a.default) for a in AXES}


def shown(values) -> str:
    """Values as options take them: (0.001, 0.1) -> '0.001 0.1'."""
    return " ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values)


def markdown_table() -> str:
    """The axes as the Markdown table docs/study.md shows (`python -m study.axes` prints it)."""
    lines = [
        "| option (older name) | searched by default | with `--objective speed` | allowed | what it is |",
        "|---|---|---|---|---|",
    ]
    for a in AXES:
        default = f"{shown(a.default)} (log scale)" if a.kind == LOG else shown(a.default)
        speed = shown(a.speed) if a.speed else "the same"
        allowed = a.names or a.valid[1]
        when = f"; only with {', '.join(a.knob.when_baseline_in)}" if a.knob.when_baseline_in else ""
        alias = f" ({a.alias})" if a.alias else ""
        lines.append(f"| `{a.knob.option}`{alias} | {default} | {speed} | {allowed} | {a.knob.help}{when} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())
