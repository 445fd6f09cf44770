"""The supervised reference of a study's context sets, recorded in study.json for the report."""

from __future__ import annotations

from statistics import fmean

from study.spec import StudySpec
from trainable.config import run_config
from trainable.supervised import supervised_accuracy


def supervised_reference(spec: StudySpec) -> dict[str, dict]:
    """Per context set: the trainer's defaults' network trained with cross-entropy on the labels,
    on the study's seeds and per-task sample budget; accuracy per seed on each split."""
    out = {}
    for task in spec.contexts:
        config = run_config(
            values={},
            task=task,
            holdout=spec.holdout,
            seeds=spec.seeds,
            budget=spec.sample_budget[task],
            device="cpu",
        )
        accuracy = {split: [float(a) for a in acc] for split, acc in supervised_accuracy(config).items()}
        out[task] = {
            "method": "cross-entropy on the labels, the trainer's default network, lr and batch size",
            "seeds": list(spec.seeds),
            "samples": config.sample_budget,
            "accuracy": accuracy,
            "mean": {split: fmean(acc) for split, acc in accuracy.items()},
        }
    return out
