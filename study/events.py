"""What a running study tells whoever runs it (`banditune study` prints them), and what happened.

The driver (study.ray_runner) and its Tune callbacks emit these events through the `on_event`
function given to `run_study`; it returns an `Outcome`. No Ray here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Started:
    """The study's trials are about to start."""

    per_trial: dict[str, float]  # Ray resources of one trial: {"cpu": 1.0, "gpu": 0.25}
    at_once: int  # trials in flight at most
    chosen: bool  # at_once is --max-concurrent's (else: all the cluster holds)


@dataclass(frozen=True)
class TrialStarted:
    trial_id: str
    values: dict  # the trial's axis values (study.space.axis_values)


@dataclass(frozen=True)
class TrialEnded:
    """A search trial ended: finished, stopped early, failed (`failure`) or errored in Tune."""

    trial_id: str
    errored: bool  # Tune recorded an error (the worker died), not just a failed config
    reports_done: int
    objective: float
    exact_match: dict[str, float]  # per task: the last report's mean over seeds (nan if none)
    failure: str | None
    done: int  # search trials with their files written


@dataclass(frozen=True)
class ReferenceEnded:
    trial_id: str
    preset: str
    failure: str | None
    objective: float | None  # None when it failed


@dataclass(frozen=True)
class NodeCheckLate:
    """A node did not answer the storage check in `seconds` (the study goes on)."""

    seconds: int


@dataclass(frozen=True)
class Outcome:
    """How `run_study` ended: refused (the cluster cannot run it; nothing was trained), or with
    `done` search trials written, of `trials` (fewer: interrupted)."""

    done: int
    trials: int
    refused: str | None = None  # one line: why

    @property
    def interrupted(self) -> bool:
        return self.refused is None and self.done < self.trials
