"""`banditune diagnose`: from the forum preset, change one axis at a time to a target config's
value (and all at once), train each on every task (each n, each context set), and write a table
of what each change fixes.

The target is a study's best config (RESULTS/NAME/report/best_config.json, written by
`banditune analyze`), a config file, or the trainer's defaults. With --leave-one-out, each
changed axis also gets "all but AXIS": the target with that axis back at the preset's value,
which shows the changes that are needed together. Every variant uses the target's
reward, device and policy network; tasks, seeds and budgets are diagnose's own. A variant that
sets a group baseline on a batch that is not a multiple of its group size rounds the batch to
the nearest multiple (its name says so). The rows go to diagnose.parquet (temp file, then rename): one per
(variant, task, seed), the columns analysis.load reads first, then the variant's settings.

The trainer (torch) and the table (pandas) are imported inside the functions that use them: the
command line imports this module to build its options.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass

from contract.knobs import BY_NAME as KNOBS
from contract.schema import DIAGNOSE_METRICS, task_label
from contract.schema import DIAGNOSE_SETTINGS as SETTINGS  # COMMON and every AXES field
from study.export import git_commit
from trainable.config import GROUP_BASELINES, TrainConfig, from_preset, run_config

DEFAULT_SEEDS = 3
REFERENCE = "forum"
ALL = "all changes"
COMMON = ("reward", "device", "policy")  # the target's, in every variant
# A variant changes one knob with the knobs that join it (contract.knobs: a schedule with its
# rate, a baseline with its own settings).
AXES = {
    name: (name, *(f for f in SETTINGS if KNOBS[f].joins == name))
    for name in SETTINGS
    if not KNOBS[name].joins and name not in COMMON
}
PER_RUN = ("n", "contexts", "holdout", "seeds", "sample_budget", "eval_every")  # diagnose's own


@dataclass(frozen=True)
class Variant:
    name: str  # "forum", "+lr=0.003", "all changes", "all but lr"
    changed: str  # the axis it changes: "" for the preset, "all" or "all but AXIS"
    settings: dict  # the TrainConfig fields of SETTINGS


def target_settings(values: dict):
    """The SETTINGS of a target given as config fields (any PER_RUN fields are dropped)."""
    kept = {k: v for k, v in values.items() if k not in PER_RUN}
    return settings_of(TrainConfig.from_dict(kept))


def settings_of(config) -> dict:
    """A TrainConfig's SETTINGS; minibatch_size None where it is the whole batch (so that a
    variant that changes the batch size keeps one update per batch)."""
    s = {f: getattr(config, f) for f in SETTINGS}
    if s["minibatch_size"] == s["batch_size"]:
        s["minibatch_size"] = None
    return s


def variants(target: dict, *, leave_one_out: bool = False) -> list[Variant]:
    """The forum preset, one variant per axis on which `target` differs, all changes, and
    (leave_one_out) all changes but one axis, for each of those axes.
    ValueError when the target trains like the forum preset (nothing to diagnose)."""
    forum = settings_of(from_preset(REFERENCE, **{k: target[k] for k in COMMON}))
    base, goal = _effective(forum), _effective(target)
    changed = {axis: [f for f in fields if base[f] != goal[f]] for axis, fields in AXES.items()}
    changed = {axis: differ for axis, differ in changed.items() if differ}
    if not changed:
        raise ValueError(
            "the target config trains like the forum preset: nothing to diagnose;"
            " expected a target (--study or --config) that differs from it"
        )
    out = [Variant(REFERENCE, "", forum)]
    for axis, differ in changed.items():
        settings, fitted = _fit_groups({**forum, **{f: target[f] for f in AXES[axis]}})
        label = ",".join(f"{f}={_show(settings[f])}" for f in differ + fitted)
        out.append(Variant(f"+{label}", axis, settings))
    out.append(Variant(ALL, "all", dict(target)))
    for axis in changed if leave_one_out else ():
        settings, fitted = _fit_groups({**target, **{f: forum[f] for f in AXES[axis]}})
        note = "".join(f" ({f}={_show(settings[f])})" for f in fitted)
        out.append(Variant(f"all but {axis}{note}", f"all but {axis}", settings))
    return out


def _effective(settings: dict) -> dict:
    """The settings that change training: a baseline's own settings only where it uses them."""
    e = dict(settings)
    for field, used in (
        ("group_size", e["baseline"] in GROUP_BASELINES),
        ("ema_decay", e["baseline"] == "ema"),
        ("value_coef", e["baseline"] == "value"),
        ("clip", e["update_epochs"] > 1),
    ):
        if not used:
            e[field] = None
    return e


def _fit_groups(settings: dict) -> tuple[dict, list[str]]:
    """Round the batch to the nearest multiple of a group baseline's group size; the settings
    and the fields so changed."""
    group, batch = settings["group_size"], settings["batch_size"]
    if settings["baseline"] not in GROUP_BASELINES or batch % group == 0:
        return settings, []
    fitted = max(group, group * round(batch / group))
    return {**settings, "batch_size": fitted, "minibatch_size": None}, ["batch_size"]


def train_all(
    *, variants: list[Variant], tasks, seeds, budgets: dict[str, int], holdout: float
) -> list[dict]:
    """Train every variant on every task (seeds together); one row per (variant, task, seed)."""
    rows, total, start = [], len(variants) * len(tasks), time.perf_counter()
    for i, (v, task) in enumerate(((v, t) for v in variants for t in tasks), start=1):
        t0 = time.perf_counter()
        new = train_variant(v, task=task, holdout=holdout, seeds=seeds, budget=budgets[task])
        rows += [{**r, "git_commit": git_commit()} for r in new]
        shown = _means(new)
        print(
            f"[{i}/{total}] {v.name} {task_label(task, compact=True)}: {shown}"
            f" ({time.perf_counter() - t0:.0f} s,"
            f" {time.perf_counter() - start:.0f} s in all)",
            file=sys.stderr,
            flush=True,
        )
    return rows


def train_variant(variant: Variant, *, task: str, holdout: float, seeds, budget: int) -> list[dict]:
    """Rows of one variant on one task; a run that diverges gives null metrics and its error."""
    from trainable import Trainer, TrainingDiverged

    config = run_config(values=variant.settings, task=task, holdout=holdout, seeds=seeds, budget=budget)
    trainer, last, error = Trainer(config), None, None
    try:
        *_, last = trainer.run_to_budget()
    except TrainingDiverged as diverged:
        last, error = None, str(diverged)
    base = {
        "variant": variant.name,
        "changed": variant.changed,
        "task": task,
        "n": trainer.task.num_actions,
        "sample_budget": budget,
        "error": error,
        **{f: getattr(config, f) for f in SETTINGS},
    }
    return [{**base, "seed": seed, **_final(last, i)} for i, seed in enumerate(config.seeds)]


def _final(m, i: int) -> dict:
    if m is None:
        return dict.fromkeys((*DIAGNOSE_METRICS, "wall_s"))
    reached, heldout = m.samples_to_95[i], m.heldout_exact_match[i]
    return {
        "exact_match": float(m.exact_match[i]),
        "heldout_exact_match": None if math.isnan(heldout) else float(heldout),
        "p_correct": float(m.p_correct[i]),
        "distinct_actions": int(m.distinct_actions[i]),
        "stuck": int(m.stuck[i]),
        "samples_to_95": None if math.isnan(reached) else int(reached),
        "best_exact_match": float(m.best_exact_match[i]),
        "mae": float(m.mae[i]),
        "samples": int(m.samples),
        "wall_s": float(m.wall_s),
    }


def format_table(rows: list[dict]) -> str:
    """Variant x task: mean exact match (held out on a context set) and p_correct over the seeds
    (diverged runs: nan)."""
    import pandas as pd

    from analysis.breakdown import diagnosis_table

    table = diagnosis_table(pd.DataFrame(rows))
    tasks = list(dict.fromkeys(r["task"] for r in rows))
    names = {t: task_label(t, compact=True) for t in tasks}
    width = max(len(v) for v in table.index)
    head = f"{'variant':<{width}}  {'changed':<12}" + "".join(
        f"  {f'exact {names[t]}':>12}  {f'p_corr {names[t]}':>12}" for t in tasks
    )
    lines = [head]
    for variant, r in table.iterrows():
        cells = "".join(f"  {r[('exact_match', t)]:>12.3f}  {r[('p_correct', t)]:>12.3f}" for t in tasks)
        lines.append(f"{variant:<{width}}  {r[('changed', '')]:<12}{cells}")
    return "\n".join(lines)


def _means(rows: list[dict]) -> str:
    if rows[0]["error"]:
        return f"diverged ({rows[0]['error']})"
    exact, p_correct = (sum(r[k] for r in rows) / len(rows) for k in ("exact_match", "p_correct"))
    return f"exact_match {exact:.3f}, p_correct {p_correct:.3f}"


def _show(value) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)
