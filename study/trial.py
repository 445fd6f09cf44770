"""One trial of a study without Ray: a config trained on every task, one report at a time.

Each report advances every task by 1/R of its sample budget (R = reports), so trials are compared
at equal progress (the objective is in study.objective). Every curve row records the base lr and
entropy bonus the report trained with: a PBT trial changes them at report boundaries.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from statistics import fmean

import torch

from contract.layout import StudyPaths
from contract.schema import COUNT_METRICS, CURVE_METRICS, HELDOUT_METRIC, REACHED, is_integer_task, scored
from contract.write import TrialRecord, auc_by_run, curve_table, task_of, trial_rows, write_trial
from study.export import provenance
from study.objective import objective
from study.space import train_kwargs
from trainable import Metrics, Trainer
from trainable.config import run_config
from trainable.defaults import DEFAULT_HOLDOUT

STATE_FILE = "state.pt"
CURVES_FILE = "curves.json"


class TrialRun:
    """`values` (AXIS_COLUMNS, plus any other TrainConfig fields such as a preset's `inputs`)
    on every task in `tasks` (the integer bandit's "10", a context set's "digits"). Constructing
    it builds the trainers (ValueError for a bad reward or bad contexts). `rates`, one (lr,
    entropy_coef) per report, replaces values' lr and entropy bonus report by report (a PBT
    trial's schedule re-run)."""

    def __init__(
        self,
        *,
        values: dict,
        tasks,
        seeds,
        sample_budget: dict[str, int],
        reports: int,
        reward: str,
        device: str,
        holdout: float = DEFAULT_HOLDOUT,
        rates: list[tuple[float, float]] | None = None,
    ):
        self.reports, self.rates = reports, rates
        self.trainers = {
            task: Trainer(
                run_config(
                    values=train_kwargs(values),
                    task=task,
                    holdout=holdout,
                    seeds=seeds,
                    budget=sample_budget[task],
                    reward=reward,
                    device=device,
                )
            )
            for task in tasks
        }
        self.report = 0
        self.rows: list[dict] = []

    @property
    def done(self) -> bool:
        return self.report >= self.reports

    def step(self) -> None:
        """Train every task up to its next report point and record a curve row per seed."""
        for task, trainer in self.trainers.items():
            if self.rates:
                lr, entropy_coef = self.rates[self.report]
                trainer.set_rates(lr=lr, entropy_coef=entropy_coef)
            target = math.ceil(trainer.config.sample_budget * (self.report + 1) / self.reports)
            metrics = trainer.run(max(0, target - trainer.samples))
            n = trainer.task.num_actions
            rates = {"lr": trainer.config.lr, "entropy_coef": trainer.config.entropy_coef}
            self.rows.extend(
                {**row, **rates} for row in curve_rows(task, n, trainer.config.seeds, self.report, metrics)
            )
        self.report += 1

    def save(self, folder: Path) -> None:
        """Write everything needed to continue exactly here into `folder` (a checkpoint)."""
        trainers = {task: t.state_dict() for task, t in self.trainers.items()}
        torch.save({"report": self.report, "trainers": trainers}, folder / STATE_FILE)
        (folder / CURVES_FILE).write_text(json.dumps(self.rows))

    def restore(self, folder: Path) -> None:
        """Continue from a checkpoint folder that `save` wrote, with this run's lr and entropy
        bonus (a PBT trial continues another's checkpoint with its own perturbed values)."""
        state = torch.load(folder / STATE_FILE, weights_only=False)
        self.report, self.rows = state["report"], load_curves(folder)
        saved = {str(task): s for task, s in state["trainers"].items()}  # older checkpoints: by n
        for task, trainer in self.trainers.items():
            trainer.load_state_dict(saved[task])
            trainer.set_rates(lr=trainer.config.lr, entropy_coef=trainer.config.entropy_coef)


def load_curves(folder: Path) -> list[dict]:
    """The curve rows a checkpoint folder holds (read without torch)."""
    return json.loads((folder / CURVES_FILE).read_text())


def curve_rows(task: str, n: int, seeds, report: int, m: Metrics) -> list[dict]:
    """One curve row per seed of an evaluation on `task` (n: its number of actions), with the
    trainer's samples_to_95 and samples_to_99 so far (what the trial row takes)."""
    return [
        {
            "task": task,
            "n": n,
            "seed": int(seed),
            "report": report,
            "samples": int(m.samples),
            **{
                k: (int(getattr(m, k)[i]) if k in COUNT_METRICS else float(getattr(m, k)[i]))
                for k in CURVE_METRICS
            },
            HELDOUT_METRIC: None if math.isnan(m.heldout_exact_match[i]) else float(m.heldout_exact_match[i]),
            "wall_s": float(m.wall_s),
            "samples_per_s": float(m.samples_per_s),
            **{k: None if math.isnan(getattr(m, k)[i]) else int(getattr(m, k)[i]) for k in REACHED},
        }
        for i, seed in enumerate(seeds)
    ]


def result_key(task: str) -> str:
    """A task in Tune's result names: n10 for the integer bandit, digits, my_mod_fn otherwise."""
    return f"n{task}" if is_integer_task(task) else re.sub(r"\W", "_", task)


def summary(rows: list[dict], report: int) -> dict:
    """Tune result metrics of the latest report: per task means and per (task, seed) values of
    exact match (held-out exact match on a context set) and its area under the curve."""
    out = {}
    aucs = auc_by_run(rows)
    latest = [r for r in rows if r["report"] == report]
    for task in dict.fromkeys(task_of(r) for r in latest):
        at = [r for r in latest if task_of(r) == task]
        key = result_key(task)
        out[f"exact_match_{key}"] = fmean([scored(r) for r in at])
        out[f"auc_{key}"] = fmean([aucs[(task, r["seed"])] for r in at])
        out[f"samples_{key}"] = at[0]["samples"]
        for r in at:
            out[f"exact_match_{key}_s{r['seed']}"] = scored(r)
            out[f"auc_{key}_s{r['seed']}"] = aucs[(task, r["seed"])]
    return out


def write_result(
    paths: StudyPaths, record: TrialRecord, *, file_id: str | None = None, objective_kind: str = "hold"
) -> None:
    """A trial's curve and trial files (named `file_id`, default its trial_id), scored by the
    study's objective (`objective_kind`); what the search, the reference run and confirm all write."""
    rows = trial_rows(record, provenance=provenance(), objective=objective(record.curves, objective_kind))
    write_trial(paths, file_id=file_id or record.trial_id, rows=rows, curves=curve_table(record))
