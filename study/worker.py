"""The code that runs inside a trial, in a Ray worker: the Tune trainable and the reference run.

Each `tune.report` follows one report of `study.trial.TrialRun` (every n advanced by 1/R of its
budget) and carries a checkpoint (`TrialRun.save`), so a restored trial continues where it was.
A reward or a config that fails (ValueError, TrainingDiverged, RewardError) ends the trial with
`failed: True` and objective 0 (the worst score) instead of an exception, so the study goes on
and nothing retries a deterministic failure.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

import ray
import torch
from ray import tune

from study.objective import objective
from study.space import axis_values
from study.trial import TrialRun, summary
from trainable.rewards import RewardError
from trainable.trainer import TrainingDiverged


@dataclass(frozen=True)
class TrialSettings:
    """What every trial of a study shares (study.ray_runner.trial_settings), passed to the trainable."""

    tasks: tuple[str, ...]
    holdout: float
    seeds: tuple[int, ...]
    sample_budget: dict[str, int]  # per task
    reports: int
    reward: str
    gpus_per_trial: float  # 0 where the cluster has no GPU
    cpus_per_trial: float
    objective: str = "hold"


def assigned_device(gpus_per_trial: float) -> tuple[str, str]:
    """(torch device, label for the results) of this worker.

    Ray sets CUDA_VISIBLE_DEVICES to the GPU it assigned, so that GPU is cuda:0 here; its memory
    is capped to the trial's share. Without CUDA (or without a GPU from Ray) the trial uses the
    CPU, even where Ray assigned a (logical) GPU.
    """
    gpu_ids = ray.get_gpu_ids()
    if gpu_ids and torch.cuda.is_available():
        torch.cuda.set_per_process_memory_fraction(min(1.0, gpus_per_trial), 0)
        return "cuda", f"cuda:{gpu_ids[0]}"
    return "cpu", "cpu"


def study_trainable(config: dict, *, settings: TrialSettings) -> None:
    """Tune function trainable. `config`: a point of study.space; `settings`: what all trials
    share (tasks, holdout, seeds, sample_budget, reports, reward, gpus_per_trial, cpus_per_trial)."""
    logging.getLogger("ray.train._internal.storage").setLevel(logging.WARNING)  # per report
    device, label = assigned_device(settings.gpus_per_trial)
    torch.set_num_threads(max(1, int(settings.cpus_per_trial)))
    base = {"device": label, "failed": False, "failure": ""}
    run = None
    try:
        run = _trial_run(axis_values(config), settings, device)
        checkpoint = tune.get_checkpoint()
        if checkpoint is not None:
            with checkpoint.as_directory() as folder:
                run.restore(Path(folder))
        while not run.done:
            run.step()
            with tempfile.TemporaryDirectory() as folder:
                run.save(Path(folder))
                progress = _progress(run, settings.objective)
                tune.report({**base, **progress}, checkpoint=tune.Checkpoint.from_directory(folder))
    except (TrainingDiverged, RewardError, ValueError) as error:
        done = run.report if run else 0
        tune.report({**base, "objective": 0.0, "reports_done": done, "failed": True, "failure": str(error)})


def reference_run(values: dict, *, settings: TrialSettings) -> dict:
    """The reference config trained to the end outside Tune: its device, curve rows and the
    failure (None unless it failed)."""
    device, label = assigned_device(settings.gpus_per_trial)
    torch.set_num_threads(max(1, int(settings.cpus_per_trial)))
    run, failure = None, None
    try:
        run = _trial_run(values, settings, device)
        while not run.done:
            run.step()
    except (TrainingDiverged, RewardError, ValueError) as error:
        failure = str(error)
    return {"device": label, "failure": failure, "rows": run.rows if run else []}


def _trial_run(values: dict, settings: TrialSettings, device: str) -> TrialRun:
    return TrialRun(
        values=values,
        tasks=settings.tasks,
        holdout=settings.holdout,
        seeds=settings.seeds,
        sample_budget=settings.sample_budget,
        reports=settings.reports,
        reward=settings.reward,
        device=device,
    )


def _progress(run: TrialRun, kind: str) -> dict:
    return {
        "objective": objective(run.rows, kind),
        "reports_done": run.report,
        **summary(run.rows, run.report - 1),
    }
