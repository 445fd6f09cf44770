"""`analyze`: read a study folder, score it, and write report.md, PNG figures, summary.json and
best_config.json to RESULTS/NAME/report/ (or another folder)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from analysis import figures
from analysis.axes import axis_labels, fixed_axes, search_orders, short_label, varying_axes
from analysis.breakdown import (
    axis_table,
    collapse_shares,
    collapsed_configs,
    diagnosis_table,
    failed_trials,
)
from analysis.importance import param_importances
from analysis.load import StudyData, check_study_dir, load_study, study_name
from analysis.report import Findings, render
from analysis.schedules import schedule_segments
from analysis.scoring import (
    ALL_TASKS,
    best_config,
    competing_runs,
    config_table,
    confirmation,
    pick_best,
    plain,
    ranked,
    score_configs,
    trial_counts,
    winners,
)
from contract.errors import BadValue
from contract.layout import BEST_CONFIG_FILE, StudyPaths
from contract.schema import CONFIG_COLUMNS, CONFIRM, REFERENCE, SEARCH, THRESHOLD
from contract.study_file import StudyRecord

TOP_CURVES = 3
TOP_PARALLEL = 15


def check_inputs(
    results_dir: str | Path, *, threshold: float, out: str | Path | None
) -> tuple[Path | str, Path]:
    """Validate the arguments before any work: (study folder, output folder) or BadValue. The
    report goes to RESULTS/NAME/report by default, or to NAME-report in the current folder for a
    study read from storage (a URI)."""
    if not isinstance(threshold, (int, float)) or not 0 < threshold <= 1:
        raise BadValue("--threshold", threshold, "a number in (0, 1]")
    root = check_study_dir(results_dir)
    if out is not None:
        out_dir = Path(out)
    else:
        out_dir = StudyPaths(root).report if isinstance(root, Path) else Path(f"{study_name(root)}-report")
    if out_dir.exists() and not out_dir.is_dir():
        raise BadValue("--out", str(out_dir), "a folder (created if missing)", problem="a file")
    return root, out_dir


def analyze(results_dir: str | Path, *, threshold: float = THRESHOLD, out: str | Path | None = None) -> dict:
    """Analyze the study at `results_dir`, write the report files, and return the summary dict."""
    root, out_dir = check_inputs(results_dir, threshold=threshold, out=out)
    data = load_study(root)
    findings = compute(data, threshold=threshold)
    out_dir.mkdir(parents=True, exist_ok=True)
    findings.figures = draw(findings, data, out_dir=out_dir)
    summary = summarize(findings, data)
    _write_json(out_dir / "summary.json", summary)
    if findings.best is not None:
        best, holdout = findings.best, data.meta.holdout
        config = best_config(best, data.trials, tasks=findings.tasks, holdout=holdout)
        task = str(config.get("n", config.get("contexts")))
        schedule = schedule_segments(data.curves, best["trial_id"], task=task)
        if schedule:  # a PBT trial: its first values, then the schedule it ran with
            first = schedule[0]
            config |= {"lr": first["lr"], "entropy_coef": first["entropy_coef"], "schedule": schedule}
        _write_json(out_dir / BEST_CONFIG_FILE, config)
    (out_dir / "report.md").write_text(render(findings))
    return summary


def compute(data: StudyData, *, threshold: float) -> Findings:
    """Every table of the report, from the loaded study."""
    tasks, trials = data.tasks, data.trials
    configs = config_table(trials, phase=SEARCH)
    runs = competing_runs(trials, phase=SEARCH)
    scores = score_configs(runs, tasks=tasks, threshold=threshold)
    scored = configs.loc[scores["trial_id"].unique()]
    axes = varying_axes(scored)
    labels = axis_labels(scored, axes=axes, orders=search_orders(data.meta.search_space))
    collapsed = collapsed_configs(runs)
    search = trials[(trials["phase"] == SEARCH) & trials["objective"].notna()]
    long = score_configs(
        competing_runs(trials, phase=CONFIRM, horizon="long"), tasks=tasks, threshold=threshold
    )
    return Findings(
        study=data.meta.name or study_name(data.root),
        threshold=threshold,
        tasks=tasks,
        seeds=int(runs.groupby(["trial_id", "task"])["seed"].nunique().max()) if len(runs) else 0,
        counts=trial_counts(trials, phase=SEARCH),
        configs=configs,
        labels=labels,
        axes=axes,
        held=fixed_axes(scored),
        scores=scores,
        winners=winners(scores, configs, tasks=tasks),
        best=pick_best(scores, configs, long) if len(scores) else None,
        reference=_reference(trials, tasks=tasks, threshold=threshold),
        supervised=dict(data.meta.supervised),
        per_axis=axis_table(scores, labels, keys=tasks),
        collapsed=collapsed,
        collapse=collapse_shares(collapsed, labels),
        failures=failed_trials(trials, phase=SEARCH),
        importance=param_importances(
            search.groupby("trial_id")["objective"].first(), configs, axes=axes, direction="maximize"
        ),
        direction="maximize",
        confirmation=confirmation(trials, scores, tasks=tasks, threshold=threshold),
        diagnosis=diagnosis_table(data.diagnose)
        if data.diagnose is not None and len(data.diagnose)
        else None,
        skipped=list(data.skipped),
        search=search_settings(data.meta),
    )


def search_settings(meta: StudyRecord) -> dict:
    """The sampler, its seed and the scheduler of study.json (an older study: TPE and ASHA)."""
    if meta.search_seed is None:
        return {}
    return {"sampler": meta.sampler, "search_seed": meta.search_seed, "scheduler": meta.scheduler}


CAPTIONS = {
    "curves": "Exact match during training of the {top} best configs (solid) and the forum preset"
    " (dashed, black) on each task (held-out exact match on a context set): the line is the median"
    " over seeds, the band spans min to max.",
    "parallel": "The {parallel} best configs, one line each, across the axes and their exact match per"
    " task (colour = score); the forum preset is the dashed black line.",
    "axes": "Exact match of every config (IQM over its seeds) grouped by the value of each axis, one box"
    " per task; the dotted red line is the threshold.",
    "lr_entropy": "Learning rate against entropy bonus (log-log), one dot per config coloured by its"
    " exact match on each task; red rings are winners, the star is the forum preset.",
    "diagnosis": "Mean exact match of the forum preset with one axis changed to the best config's value"
    " (and all at once, or all but one), one bar per task.",
}


def draw(f: Findings, data: StudyData, *, out_dir: Path) -> dict[str, tuple[str, str]]:
    """Render the figures into `out_dir`: {name: (file name, caption)} of those drawn."""
    keys = list(f.tasks)
    color_key = ALL_TASKS if (f.scores["key"] == ALL_TASKS).any() else keys[-1]
    order = ranked(f.scores, key=color_key)["trial_id"].tolist()
    top = {t: short_label(t, f.configs.loc[t], axes=f.axes) for t in order[:TOP_CURVES]}
    reference_rows = {
        label: pd.Series({**r["config"], **{f"iqm {k}": s["iqm"] for k, s in r["scores"].items()}})
        for label, r in f.reference.items()
    }
    paths = {
        "curves": figures.learning_curves(
            data.curves,
            top=top,
            reference={r["trial_id"]: label for label, r in f.reference.items()},
            tasks=f.tasks,
            threshold=f.threshold,
            path=out_dir / "learning_curves.png",
        ),
        "parallel": figures.parallel_coordinates(
            order[:TOP_PARALLEL],
            f.configs.loc[f.labels.index],
            f.labels,
            f.scores,
            keys=keys,
            color_key=color_key,
            reference=reference_rows,
            path=out_dir / "parallel_coordinates.png",
        ),
        "axes": figures.axis_distributions(
            f.scores, f.labels, keys=keys, threshold=f.threshold, path=out_dir / "axis_distributions.png"
        ),
        "lr_entropy": figures.lr_entropy_scatter(
            f.scores,
            f.configs,
            keys=keys,
            threshold=f.threshold,
            reference=config_table(data.trials, phase=REFERENCE),
            path=out_dir / "lr_entropy.png",
        ),
    }
    if f.diagnosis is not None:
        paths["diagnosis"] = figures.diagnosis_bars(
            f.diagnosis, tasks=f.tasks, threshold=f.threshold, path=out_dir / "diagnosis.png"
        )
    counts = {"top": len(top), "parallel": min(TOP_PARALLEL, len(order))}
    drawn = {name: path for name, path in paths.items() if path is not None}
    return {name: (path.name, CAPTIONS[name].format(**counts)) for name, path in drawn.items()}


def summarize(f: Findings, data: StudyData) -> dict:
    """The summary.json content."""
    summary = {
        "study": f.study,
        "results": str(data.root),
        "threshold": f.threshold,
        "tasks": f.tasks,
        "winners": f.winners,
        "best": f.best,
        "counts": f.counts,
        "reference": f.reference,
        "supervised": f.supervised,
        "importance": f.importance,
        "held_fixed": f.held,
        "figures": [file for file, _ in f.figures.values()],
        "skipped_files": f.skipped,
    }
    if not f.confirmation.empty:
        summary["confirmation"] = [
            {column: plain(value) for column, value in row.items()}
            for row in f.confirmation.to_dict("records")
        ]
    return summary


def _reference(trials: pd.DataFrame, *, tasks: list[str], threshold: float) -> dict:
    """{label: {"trial_id", "config", "scores", "collapsed"}} for each reference (forum) trial."""
    configs = config_table(trials, phase=REFERENCE)
    runs = competing_runs(trials, phase=REFERENCE)
    scores = score_configs(runs, tasks=tasks, threshold=threshold)
    collapsed = collapsed_configs(runs)
    result = {}
    for trial_id in configs.index:
        label = "forum preset" if len(configs) == 1 else f"forum preset ({trial_id})"
        mine = scores[scores["trial_id"] == trial_id]
        share = collapsed[collapsed["trial_id"] == trial_id]
        result[label] = {
            "trial_id": trial_id,
            "config": {c: plain(configs.at[trial_id, c]) for c in CONFIG_COLUMNS},
            "scores": {
                r["key"]: {
                    c: plain(r[c])
                    for c in ("iqm", "ci_low", "ci_high", "frac_seeds_above", "seeds", "winner", "stuck")
                }
                for _, r in mine.iterrows()
            },
            "collapsed": {r["task"]: float(r["collapsed_share"]) for _, r in share.iterrows()},
        }
    return result


def _write_json(path: Path, content: dict) -> None:
    path.write_text(json.dumps(plain(content), indent=2, allow_nan=False) + "\n")
