"""One trial of a study without Ray: a config trained at every n, one report at a time.

Each report advances every n by 1/R of its sample budget (R = reports), so trials are compared at
equal progress (the objective is in study.objective).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from statistics import fmean

import torch

from contract.layout import StudyPaths
from contract.schema import COUNT_METRICS, CURVE_METRICS
from contract.write import auc_by_run, curve_table, trial_rows, write_trial
from study.export import provenance
from study.objective import objective
from study.space import train_kwargs
from trainable import Metrics, TrainConfig, Trainer

STATE_FILE = "state.pt"
CURVES_FILE = "curves.json"


class TrialRun:
    """`values` (AXIS_FIELDS, plus any other TrainConfig fields such as a preset's `inputs`)
    at every n in `ns`. Constructing it builds the trainers (ValueError for a bad reward)."""

    def __init__(
        self,
        *,
        values: dict,
        ns,
        seeds,
        sample_budget: dict[int, int],
        reports: int,
        reward: str,
        device: str,
    ):
        self.reports = reports
        self.trainers = {
            n: Trainer(
                TrainConfig(
                    n=n,
                    reward=reward,
                    seeds=tuple(seeds),
                    sample_budget=sample_budget[n],
                    device=device,
                    **train_kwargs(values),
                )
            )
            for n in ns
        }
        self.report = 0
        self.rows: list[dict] = []

    @property
    def done(self) -> bool:
        return self.report >= self.reports

    def step(self) -> None:
        """Train every n up to its next report point and record a curve row per seed."""
        for n, trainer in self.trainers.items():
            target = math.ceil(trainer.config.sample_budget * (self.report + 1) / self.reports)
            metrics = trainer.run(max(0, target - trainer.samples))
            self.rows.extend(curve_rows(n, trainer.config.seeds, self.report, metrics))
        self.report += 1

    def save(self, folder: Path) -> None:
        """Write everything needed to continue exactly here into `folder` (a checkpoint)."""
        trainers = {n: t.state_dict() for n, t in self.trainers.items()}
        torch.save({"report": self.report, "trainers": trainers}, folder / STATE_FILE)
        (folder / CURVES_FILE).write_text(json.dumps(self.rows))

    def restore(self, folder: Path) -> None:
        """Continue from a checkpoint folder that `save` wrote."""
        state = torch.load(folder / STATE_FILE, weights_only=False)
        self.report, self.rows = state["report"], load_curves(folder)
        for n, trainer in self.trainers.items():
            trainer.load_state_dict(state["trainers"][n])


def load_curves(folder: Path) -> list[dict]:
    """The curve rows a checkpoint folder holds (read without torch)."""
    return json.loads((folder / CURVES_FILE).read_text())


def curve_rows(n: int, seeds, report: int, m: Metrics) -> list[dict]:
    return [
        {
            "n": n,
            "seed": int(seed),
            "report": report,
            "samples": int(m.samples),
            **{
                k: (int(getattr(m, k)[i]) if k in COUNT_METRICS else float(getattr(m, k)[i]))
                for k in CURVE_METRICS
            },
            "wall_s": float(m.wall_s),
            "samples_per_s": float(m.samples_per_s),
        }
        for i, seed in enumerate(seeds)
    ]


def summary(rows: list[dict], report: int) -> dict:
    """Tune result metrics of the latest report: per n means and per (n, seed) values."""
    out = {}
    aucs = auc_by_run(rows)
    latest = [r for r in rows if r["report"] == report]
    for n in sorted({r["n"] for r in latest}):
        at_n = [r for r in latest if r["n"] == n]
        out[f"exact_match_n{n}"] = fmean([r["exact_match"] for r in at_n])
        out[f"auc_n{n}"] = fmean([aucs[(n, r["seed"])] for r in at_n])
        out[f"samples_n{n}"] = at_n[0]["samples"]
        for r in at_n:
            out[f"exact_match_n{n}_s{r['seed']}"] = r["exact_match"]
            out[f"auc_n{n}_s{r['seed']}"] = aucs[(n, r["seed"])]
    return out


def write_result(
    paths: StudyPaths,
    *,
    study: str,
    trial_id: str,
    phase: str,
    status: str,
    error: str | None,
    values: dict,
    reward: str,
    ns,
    seeds,
    sample_budget: dict[int, int],
    curves: list[dict],
    device: str,
    horizon: str = "search",
    file_id: str | None = None,
) -> None:
    """A trial's curve and trial files (named `file_id`, default its trial_id), scored by the
    study's objective; what the search, the reference run and confirm all write."""
    rows = trial_rows(
        study=study,
        trial_id=trial_id,
        phase=phase,
        status=status,
        error=error,
        values=values,
        reward=reward,
        ns=ns,
        seeds=seeds,
        sample_budget=sample_budget,
        curves=curves,
        device=device,
        provenance=provenance(),
        objective=objective(curves),
        horizon=horizon,
    )
    table = curve_table(study=study, trial_id=trial_id, phase=phase, curves=curves, horizon=horizon)
    write_trial(paths, file_id=file_id or trial_id, rows=rows, curves=table)
