"""A piecewise-constant lr and entropy bonus over a run's samples: the schedule a population-based
training (PBT) trial ran with, re-run by `banditune train` and `banditune confirm`.

A schedule is a list of segments, each from `samples` (per seed; the first at 0) on: the base lr
and entropy bonus that hold until the next segment. The config's `lr_schedule` and
`entropy_schedule` (trainable.update) still apply on top over the whole budget, as they did in
the PBT trial. In a config file (JSON or YAML) it is the key `schedule`:

    "schedule": [{"samples": 0, "lr": 0.01, "entropy_coef": 0.5},
                 {"samples": 12000, "lr": 0.008, "entropy_coef": 0.62}]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass

from contract.errors import BadValue
from contract.knobs import is_number

SCHEDULE_KEY = "schedule"
_ALLOWED = (
    'a list of {"samples": s, "lr": x, "entropy_coef": y} segments, the first at samples 0,'
    " samples increasing, lr > 0 and entropy_coef >= 0"
)


@dataclass(frozen=True)
class Segment:
    samples: int  # where the segment starts, in samples per seed
    lr: float
    entropy_coef: float


def parse_schedule(value) -> tuple[Segment, ...]:
    """A config file's `schedule` as segments; BadValue unless it is well formed."""
    fields = {"samples", "lr", "entropy_coef"}
    numbers = isinstance(value, list) and all(
        isinstance(s, dict) and set(s) == fields and all(is_number(s[k]) for k in fields) for s in value
    )
    segments = (
        tuple(Segment(int(s["samples"]), float(s["lr"]), float(s["entropy_coef"])) for s in value)
        if numbers
        else ()
    )
    starts = [s.samples for s in segments]
    if not (
        segments
        and starts[0] == 0
        and all(a < b for a, b in zip(starts, starts[1:]))
        and all(s.lr > 0 and s.entropy_coef >= 0 for s in segments)
    ):
        raise BadValue(SCHEDULE_KEY, value, _ALLOWED)
    return segments


def to_json(segments) -> list[dict]:
    return [dataclasses.asdict(s) for s in segments]


def describe(segments) -> str:
    """'from 0 lr=0.01 entropy_coef=0.5, from 12,000 lr=0.008 entropy_coef=0.62'."""
    return ", ".join(f"from {s.samples:,} lr={s.lr:.3g} entropy_coef={s.entropy_coef:.3g}" for s in segments)


def run_to_budget(trainer, segments) -> Iterator:
    """`Trainer.run_to_budget` that switches to each segment's rates where it starts (rounded up to
    whole batches): Metrics every `eval_every` samples and at each switch."""
    budget, every = trainer.config.sample_budget, trainer.config.eval_every
    while trainer.samples < budget:
        current = [s for s in segments if s.samples <= trainer.samples][-1]
        if (current.lr, current.entropy_coef) != (trainer.config.lr, trainer.config.entropy_coef):
            trainer.set_rates(lr=current.lr, entropy_coef=current.entropy_coef)
        upcoming = [s.samples for s in segments if s.samples > trainer.samples]
        stop = min([budget, *upcoming])
        yield trainer.run(min(every, stop - trainer.samples))
