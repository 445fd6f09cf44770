"""What a search trial's lr and entropy bonus were report by report (curve columns `lr` and
`entropy_coef`): a PBT trial changes them at report boundaries, and `confirm` and `train` re-run
that schedule (trainable.piecewise)."""

from __future__ import annotations

import pandas as pd

from contract.schema import SEARCH


def report_rates(curves: pd.DataFrame, trial_id: str) -> list[tuple[float, float]] | None:
    """(lr, entropy_coef) per report of a search trial, or None where they never change (a
    static config) or are not recorded (a study written before the columns)."""
    rows = curves[(curves["trial_id"] == trial_id) & (curves["phase"] == SEARCH)]
    rows = rows.dropna(subset=["lr", "entropy_coef"])
    if rows.empty:
        return None
    per_report = rows.groupby("report")[["lr", "entropy_coef"]].first().sort_index()
    if len(per_report.drop_duplicates()) < 2:
        return None
    return [(float(lr), float(bonus)) for lr, bonus in per_report.itertuples(index=False, name=None)]


def schedule_segments(curves: pd.DataFrame, trial_id: str, *, task: str) -> list[dict] | None:
    """The trial's schedule on `task` as a config file's `schedule`: segments {"samples": start
    (per seed), "lr", "entropy_coef"} where the values change; None for a static config."""
    rates = report_rates(curves, trial_id)
    if rates is None:
        return None
    rows = curves[(curves["trial_id"] == trial_id) & (curves["phase"] == SEARCH) & (curves["task"] == task)]
    ends = rows.groupby("report")["samples"].first().sort_index().tolist()
    segments: list[dict] = []
    for start, (lr, bonus) in zip([0, *ends[:-1]], rates):
        if not segments or (segments[-1]["lr"], segments[-1]["entropy_coef"]) != (lr, bonus):
            segments.append({"samples": int(start), "lr": lr, "entropy_coef": bonus})
    return segments
