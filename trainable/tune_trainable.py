"""The Ray Tune trainable of a study (and the reference run): one config at every n.

Each `ray.tune.report` follows one report of `study.trial.TrialRun` (every n advanced by 1/R of
its budget) and carries a checkpoint: the trainers' states and the curve rows so far, so a
restored trial continues where it was. A reward or a config that fails (`ValueError`,
`TrainingDiverged`) ends the trial with `failed: True` and objective 0 (the worst score) instead
of an exception, so the study goes on and nothing retries a deterministic failure.
"""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path

import ray
import torch
from ray import tune

from study.objective import objective
from study.space import axis_values
from study.trial import TrialRun, summary
from trainable.trainer import TrainingDiverged

STATE_FILE = "state.pt"
CURVES_FILE = "curves.json"


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


def study_trainable(config: dict, *, settings: dict) -> None:
    """Tune function trainable. `config`: a point of study.space; `settings`: what all trials
    share (ns, seeds, sample_budget, reports, reward, gpus_per_trial, cpus_per_trial)."""
    logging.getLogger("ray.train._internal.storage").setLevel(logging.WARNING)  # per report
    device, label = assigned_device(settings["gpus_per_trial"])
    torch.set_num_threads(max(1, int(settings["cpus_per_trial"])))
    base = {"device": label, "failed": False, "failure": ""}
    run = None
    try:
        run = _trial_run(axis_values(config), settings, device)
        checkpoint = tune.get_checkpoint()
        if checkpoint is not None:
            with checkpoint.as_directory() as folder:
                run.load(load_state(Path(folder)))
        while not run.done:
            run.step()
            with tempfile.TemporaryDirectory() as folder:
                save_state(run, Path(folder))
                tune.report({**base, **_progress(run)},
                            checkpoint=tune.Checkpoint.from_directory(folder))
    except (TrainingDiverged, ValueError) as error:
        done = run.report if run else 0
        tune.report({**base, "objective": 0.0, "reports_done": done, "failed": True,
                     "failure": str(error)})


def reference_run(values: dict, *, settings: dict) -> dict:
    """The reference config trained to the end outside Tune: its device, curve rows and the
    failure (None unless it failed)."""
    device, label = assigned_device(settings["gpus_per_trial"])
    torch.set_num_threads(max(1, int(settings["cpus_per_trial"])))
    run, failure = None, None
    try:
        run = _trial_run(values, settings, device)
        while not run.done:
            run.step()
    except (TrainingDiverged, ValueError) as error:
        failure = str(error)
    return {"device": label, "failure": failure, "rows": run.rows if run else []}


def _trial_run(values: dict, settings: dict, device: str) -> TrialRun:
    return TrialRun(values=values, ns=settings["ns"], seeds=settings["seeds"],
                    sample_budget=settings["sample_budget"], reports=settings["reports"],
                    reward=settings["reward"], device=device)


def _progress(run: TrialRun) -> dict:
    return {"objective": objective(run.rows), "reports_done": run.report,
            **summary(run.rows, run.report - 1)}


def save_state(run: TrialRun, folder: Path) -> None:
    trainers = {n: trainer.state_dict() for n, trainer in run.trainers.items()}
    torch.save({"report": run.report, "trainers": trainers}, folder / STATE_FILE)
    (folder / CURVES_FILE).write_text(json.dumps(run.rows))


def load_state(folder: Path) -> dict:
    state = torch.load(folder / STATE_FILE, weights_only=False)
    return {**state, "rows": load_curves(folder)}


def load_curves(folder: Path) -> list[dict]:
    """The curve rows a checkpoint folder holds."""
    return json.loads((folder / CURVES_FILE).read_text())
