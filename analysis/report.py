"""Render the analysis as report.md for the reader who asked "what am I doing wrong?"."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from analysis.axes import format_value
from analysis.breakdown import COLLAPSE_MAX_DISTINCT, TOP_FRACTION
from analysis.metrics import BOOTSTRAP_REPS
from analysis.scoring import ALL_TASKS, mean_drops, ranked
from contract.schema import CONFIG_COLUMNS, INTEGER_ONLY, is_integer_task, task_label

MAX_ROWS = 20


@dataclass
class Findings:
    """Everything the report shows, computed by `analysis.analyze.analyze`."""

    study: str
    threshold: float
    tasks: list[str]  # "10" (the integer bandit at n=10), "digits" (a context set)
    seeds: int
    counts: dict
    configs: pd.DataFrame
    labels: pd.DataFrame  # axis value (or bin) per scored config, one column per varying axis
    axes: list[str]
    held: dict  # {axis: value} for the axes the study held fixed (one value for every config)
    scores: pd.DataFrame
    winners: dict
    best: dict | None
    reference: dict  # {label: {"config": dict, "scores": {key: {...}}, "collapsed": {task: share}}}
    per_axis: pd.DataFrame
    collapsed: pd.DataFrame
    collapse: pd.DataFrame
    failures: pd.DataFrame
    importance: dict
    direction: str
    confirmation: pd.DataFrame
    diagnosis: pd.DataFrame | None
    supervised: dict = field(default_factory=dict)  # {context set: study.json's "supervised" entry}
    figures: dict = field(default_factory=dict)  # {name: (file name, caption)}
    skipped: list = field(default_factory=list)
    search: dict = field(default_factory=dict)  # study.json's sampler, search_seed, scheduler


def render(f: Findings) -> str:
    """The whole report as Markdown."""
    sections = [
        _header(f),
        _answer(f),
        _method(f),
        _winners(f),
        _axes(f),
        _importance(f),
        _failures(f),
        _confirmation(f),
        _diagnosis(f),
        _skipped(f),
    ]
    return "\n\n".join(s for s in sections if s).rstrip() + "\n"


def _every(f: Findings) -> str:
    """'every n' for a study of integer bandits, 'every task' once it has a context set."""
    return "every n" if all(map(is_integer_task, f.tasks)) else "every task"


def _key_label(key: str, f: Findings) -> str:
    if key == ALL_TASKS:
        return "all n" if all(map(is_integer_task, f.tasks)) else "all tasks"
    return task_label(key)


def _header(f: Findings) -> str:
    c = f.counts
    integer = [t for t in f.tasks if is_integer_task(t)]
    contexts = [t for t in f.tasks if not is_integer_task(t)]
    where = [f"n = {', '.join(integer)}"] if integer else []
    where += [f"{t} (exact match on its held-out contexts)" for t in contexts]
    return (
        f"# banditune analysis: {f.study}\n\n"
        f"Question: which settings make REINFORCE reach at least {f.threshold:g} exact match at "
        f"every {' and on '.join(where)}, reliably across seeds?\n\n"
        f"Data: {sum(c.values())} search trials ({c['finished']} finished, {c['stopped_early']} "
        f"stopped early by the scheduler, {c['failed']} failed), up to {f.seeds} seeds per config and task."
        + _search_line(f.search)
    )


def _search_line(search: dict) -> str:
    """' Search: Optuna's tpe sampler (seed 0), scheduler asha.' from study.json (older: tpe)."""
    if not search:
        return ""
    return (
        f" Search: Optuna's {search.get('sampler', 'tpe')} sampler (seed {search.get('search_seed', 0)}),"
        f" scheduler {search.get('scheduler', 'asha')}."
    )


def _answer(f: Findings) -> str:
    lines = ["## Short answer", ""]
    winners = f.winners[ALL_TASKS]
    if f.best is None:
        return "\n".join(lines + ["No search trial finished: there is nothing to score."])
    if winners:
        lines.append(
            f"**{len(winners)} config(s) are above {f.threshold:g} at {_every(f)}** (the lower end of the "
            f"95% interval of the IQM over seeds is at or above {f.threshold:g}). The one to use "
            f"({f.best['reason']}):"
        )
    else:
        lines.append(
            f"**No config is above {f.threshold:g} at {_every(f)}.** The best over"
            f" {_key_label(ALL_TASKS, f)} ({f.best['reason']}):"
        )
    lines += ["", _config_block(f.best, f)]
    for label, ref in f.reference.items():
        lines += [
            "",
            _reference_line(label, ref, f),
            "",
            _difference(ref["config"], f.best, f.held),
        ]
    lines += [_supervised_line(task, ref, f.best) for task, ref in f.supervised.items()]
    lines.append(_figure(f, "curves"))
    return "\n".join(lines)


def _config_block(best: dict, f: Findings) -> str:
    scores = best["scores"]
    keys = [*f.tasks, ALL_TASKS]
    rows = [
        [
            _key_label(k, f),
            _ci(scores[k]),
            _frac(scores[k]),
            _num(scores[k].get("stuck")),
            _yes(scores[k]["winner"]),
        ]
        for k in keys
        if k in scores
    ]
    settings = ", ".join(
        f"{c}={format_value(best[c])}" for c in best if c not in ("scores", "reason", "winner_at_every_task")
    )
    return f"`{settings}`\n\n" + _table(
        ["scored at", "IQM [95% CI]", "seeds >= threshold", "stuck inputs per seed", "winner"], rows
    )


def _supervised_line(task: str, ref: dict, best: dict) -> str:
    """How close bandit feedback comes to full supervision on a context set."""
    held = ref["mean"].get("heldout")
    ours = best["scores"].get(task, {}).get("iqm")
    against = "" if ours is None or not held else f" The config above: {ours:.3f}, {ours / held:.0%} of it."
    return (
        f"\nFull supervision on {task}: the trainer's default network trained with cross-entropy on the"
        f" labels ({ref['samples']:,} samples, seeds {', '.join(map(str, ref['seeds']))}) reaches a held-out"
        f" exact match of {held:.3f} (mean over seeds; {ref['mean']['train']:.3f} on the training"
        f" contexts).{against}"
    )


def _reference_line(label: str, ref: dict, f: Findings) -> str:
    parts = []
    for task in f.tasks:
        score = ref["scores"].get(task)
        if score is None:
            continue
        collapsed = ref["collapsed"].get(task, 0.0)
        note = f", collapsed on {collapsed:.0%} of seeds" if collapsed else ""
        stuck = score.get("stuck")
        if stuck is not None and not pd.isna(stuck):
            note += f", **{stuck:.1f} of {task} inputs stuck** on a wrong action per seed"
        held = "" if is_integer_task(task) else " held out"
        parts.append(f"{task_label(task)}: {_ci(score)}{held}{note}")
    scored = "; ".join(parts) if parts else "no finished runs"
    return f"The {label} scores {scored}."


def _difference(reference: dict, best: dict, held: dict) -> str:
    """Every setting where the best config and the forum preset differ, searched or not: an axis
    the study held fixed is marked, since its value was given to the study, not found by it."""
    changes = [
        f"- `{a}`: {format_value(reference[a])} -> **{format_value(best[a])}**"
        + (" (held fixed by the study: every config used it)" if a in held else "")
        for a in CONFIG_COLUMNS
        if a in reference and a in best and not _same(reference[a], best[a])
    ]
    if not changes:
        return "The best config has the same settings as the forum preset."
    return "What the best config does differently from the forum preset:\n\n" + "\n".join(changes)


def _same(a, b) -> bool:
    return a == b or (pd.isna(a) and pd.isna(b))


def _method(f: Findings) -> str:
    return (
        "## How configs are scored\n\n"
        "Each config is scored on each task (each n of the integer bandit, each context set) by the "
        "interquartile mean (IQM: the mean of the middle 50% of its seeds, as "
        "`scipy.stats.trim_mean(x, 0.25)`, rliable) of its seeds' final exact match (on a context set: "
        "on its held-out contexts, never trained on), with a 95% percentile interval from a stratified "
        f"bootstrap ({BOOTSTRAP_REPS} resamples of the seeds, with replacement, within each task). A "
        "config is a **winner** on a task when the interval's lower end is at or above "
        f'{f.threshold:g}, so one lucky seed never makes a winner; "{_key_label(ALL_TASKS, f)}" pools '
        "every (task, seed) run of the config (strata = tasks) and a config wins it when it wins on "
        "every task. Only finished and early-stopped search trials compete; failed ones are "
        "counted below. These are search scores: the best of many configs is optimistic (winner's "
        "curse); re-runs on fresh seeds (`banditune confirm`) say how much."
    )


def _winners(f: Findings) -> str:
    lines = ["## Winners"]
    for key in [*f.tasks, ALL_TASKS]:
        title = (
            task_label(key) if key != ALL_TASKS else f"{_every(f)} (scored over {_key_label(ALL_TASKS, f)})"
        )
        found = f.winners[key]
        axes = [a for a in f.axes if is_integer_task(key) or key == ALL_TASKS or a not in INTEGER_ONLY]
        lines += ["", f"### Above {f.threshold:g} at {title}: {len(found)} config(s)", ""]
        if found:
            rows = found[:MAX_ROWS]
            more = len(found) - len(rows)
            lines.append(_score_table(rows + _references(f, key), axes))
            if more:
                lines.append(f"\n... and {more} more in summary.json.")
        else:
            top = ranked(f.scores, key=key).head(5)
            lines.append("None. The five best by IQM (not winners):\n")
            records = [_record(row, f) for _, row in top.iterrows()]
            lines.append(_score_table(records + _references(f, key), axes))
    lines.append(_figure(f, "parallel"))
    return "\n".join(lines)


def _references(f: Findings, key: str) -> list[dict]:
    """The forum preset's score at `key`, as a last row beside the winners."""
    return [
        {"trial_id": label, **ref["scores"][key], **ref["config"]}
        for label, ref in f.reference.items()
        if key in ref["scores"]
    ]


def _record(row: pd.Series, f: Findings) -> dict:
    return {**row.to_dict(), **f.configs.loc[row["trial_id"], f.axes].to_dict()}


def _score_table(records: list[dict], axes: list[str]) -> str:
    rows = [
        [str(i + 1), f"`{r['trial_id']}`", _ci(r), _frac(r), *[format_value(r[a]) for a in axes]]
        for i, r in enumerate(records)
    ]
    return _table(["#", "trial", "IQM [95% CI]", "seeds >= threshold", *axes], rows)


def _axes(f: Findings) -> str:
    lines = [
        "## What matters: each axis value",
        "",
        (
            "For each value of each axis: the 95th percentile of the exact match (IQM over seeds) of the "
            "configs with that value, with a 95% bootstrap interval over configs (what the value allows "
            f"when the rest is tuned), and its share of the top {TOP_FRACTION:.0%} of configs next to its "
            "share of all configs (Andrychowicz et al. 2020). A value whose top share is far above its "
            "share of all configs is a value the best configs need."
        ),
    ]
    if f.per_axis.empty:
        return "\n".join(lines + ["", "No axis varies in this study."])
    keys = list(f.tasks)
    for axis, rows in f.per_axis.groupby("axis", sort=False):
        header = ["value", "configs"] + [
            h for k in keys for h in (f"p95 {_short(k)} [CI]", f"top share {_short(k)}")
        ]
        body = []
        for value, by_value in rows.groupby("value", sort=False, observed=True):
            at = by_value.set_index("key")
            cells = [str(value), str(int(at["configs"].max()))]
            for k in keys:
                if k not in at.index or not at.at[k, "configs"]:
                    cells += ["-", "-"]
                    continue
                r = at.loc[k]
                cells += [
                    f"{r['p95']:.2f} [{r['p95_low']:.2f}, {r['p95_high']:.2f}]",
                    f"{r['top_share']:.0%} (of all: {r['all_share']:.0%})",
                ]
            body.append(cells)
        only = " (the integer bandit only: a context set's network reads its features)"
        lines += ["", f"### {axis}{only if axis in INTEGER_ONLY and keys != _integer(f) else ''}"]
        lines += ["", _table(header, body)]
    lines += [_figure(f, "axes"), _figure(f, "lr_entropy")]
    return "\n".join(lines)


def _importance(f: Findings) -> str:
    lines = [
        "## Hyperparameter importance",
        "",
        (
            "Optuna's evaluators on a study rebuilt from the Parquet rows (one trial per search trial "
            f"with an objective, direction = {f.direction}). PED-ANOVA: how much each axis matters for "
            "reaching the top 10% of objectives; fANOVA: the share of the objective's variance each axis "
            "explains in a random forest."
        ),
    ]
    for name, result in f.importance.items():
        lines += ["", f"### {name}", ""]
        if "error" in result:
            lines.append(f"Not available: {result['error']}")
            continue
        rows = [[axis, f"{value:.3f}"] for axis, value in result["importances"].items()]
        lines.append(_table(["axis", "importance (sums to 1)"], rows))
    if f.held:
        fixed = ", ".join(f"{a}={format_value(v)}" for a, v in f.held.items())
        lines += ["", f"Not ranked, since the study held them fixed (one value for every config): {fixed}."]
    return "\n".join(lines)


def _failures(f: Findings) -> str:
    lines = [
        "## Failures",
        "",
        f"### Collapse (the greedy policy gives <= {COLLAPSE_MAX_DISTINCT} distinct outputs)",
        "",
        (
            "A config collapsed at n when more than half of its seeds ended with at most "
            f"{COLLAPSE_MAX_DISTINCT} distinct greedy outputs over the n inputs (a context set's "
            "training contexts)."
        ),
    ]
    for task in f.tasks:
        lines += _collapse_at(f, task)
    lines += ["", "### Failed trials", ""]
    if f.failures.empty:
        lines.append("None.")
    else:
        rows = [
            [str(r.trials), r.error, ", ".join(f"`{t}`" for t in r.trial_ids[:5])]
            for r in f.failures.itertuples()
        ]
        lines.append(_table(["trials", "error (first line)", "examples"], rows))
    return "\n".join(lines)


def _collapse_at(f: Findings, task: str) -> list[str]:
    """How many configs collapsed on a task, and the axis values over-represented among them."""
    at_task = f.collapsed[f.collapsed["task"] == task]
    hit = int(at_task["collapsed"].sum())
    where = f"At {task_label(task)}" if is_integer_task(task) else f"On {task}"
    lines = ["", f"{where}: **{hit} of {len(at_task)} configs collapsed**."]
    if not hit:
        return lines
    shares = f.collapse[
        (f.collapse["task"] == task) & (f.collapse["collapsed_share"] > f.collapse["all_share"])
    ]
    common = shares[
        (shares["collapsed_share"] >= 0.5) & (shares["collapsed_share"] >= 1.5 * shares["all_share"])
    ]
    if len(common):
        traits = "; ".join(
            f"{r.axis} = {r.value} ({r.collapsed_share:.0%} of them vs {r.all_share:.0%} of all)"
            for r in common.itertuples()
        )
        lines.append(f"What they share: {traits}.")
    rows = [
        [r.axis, str(r.value), str(r.collapsed), f"{r.collapsed_share:.0%}", f"{r.all_share:.0%}"]
        for r in shares.itertuples()
    ]
    header = ["axis", "value", "collapsed configs", "share of collapsed", "share of all configs"]
    return lines + [
        "",
        "Values more common among the collapsed configs than among all:",
        "",
        _table(header, rows),
    ]


def _confirmation(f: Findings) -> str:
    if f.confirmation.empty:
        return ""
    rows = []
    for r in f.confirmation.itertuples():
        rows.append(
            [
                f"`{r.trial_id}`",
                _key_label(r.task, f),
                _interval(r.iqm_search, r.ci_low_search, r.ci_high_search),
                _interval(r.iqm_confirm, r.ci_low_confirm, r.ci_high_confirm),
                "-" if pd.isna(r.iqm_search - r.iqm_confirm) else f"{r.iqm_search - r.iqm_confirm:+.3f}",
                f"{r.frac_seeds_above_confirm:.0%} of {r.seeds_confirm}",
                _interval(r.iqm_long, r.ci_low_long, r.ci_high_long),
                _num(r.stuck_long),
                _yes(r.winner_search) + " -> " + _yes(r.winner_confirm) + " -> " + _yes(r.winner_long),
            ]
        )
    return (
        "## Confirmation on fresh seeds\n\nThe top configs re-trained on seeds the search never "
        "saw, scored at the search's budget and at the long horizon (`banditune confirm "
        "--long-horizon F`: F times the budget). A drop from the search score is the winner's "
        "curse; a drop at the long horizon, or stuck inputs there, is a config that does not "
        "hold what it reached. "
        + _drops_line(f.confirmation, f)
        + "\n\n"
        + _table(
            [
                "trial",
                "scored at",
                "search IQM [CI]",
                "confirmed IQM [CI]",
                "drop",
                "fresh seeds >= threshold",
                "long-horizon IQM [CI]",
                "long-horizon stuck per seed",
                "winner: search -> confirmed -> long",
            ],
            rows,
        )
    )


def _drops_line(table: pd.DataFrame, f: Findings) -> str:
    """'Mean drop from the search seeds to fresh seeds: 0.012 at n=10, ...' (search IQM - confirmed)."""
    drops = mean_drops(table)
    shown = ", ".join(f"{value:+.3f} at {_key_label(key, f)}" for key, value in drops.items())
    if not drops:
        return ""
    return f"Mean drop from the search seeds to fresh seeds (search IQM - confirmed IQM): {shown}."


def _interval(point, low, high) -> str:
    return "-" if pd.isna(point) else f"{point:.3f} [{low:.3f}, {high:.3f}]"


def _diagnosis(f: Findings) -> str:
    if f.diagnosis is None:
        return ""
    table = f.diagnosis
    tasks = [t for t in f.tasks if ("exact_match", t) in table] or [
        c for m, c in table.columns if m == "exact_match"
    ]
    header = ["variant", "changed"] + [
        h for t in tasks for h in (f"exact match {_short(t)}", f"p_correct {_short(t)}")
    ]
    rows = []
    for variant, r in table.iterrows():
        cells = [str(variant), str(r[("changed", "")])]
        for t in tasks:
            cells += [_num(r.get(("exact_match", t))), _num(r.get(("p_correct", t)))]
        rows.append(cells)
    return (
        "## Diagnosis: which single change fixes the forum setup\n\n"
        "Starting from the forum preset, one axis at a time is set to the best config's value "
        '(and all at once; "all but X" rows, when present, change every axis except X); means'
        " over seeds.\n\n"
        + "\n".join(_fixes(table, t, f.threshold) for t in tasks)
        + "\n\n"
        + _table(header, rows)
        + _figure(f, "diagnosis")
    )


def _fixes(table: pd.DataFrame, task: str, threshold: float) -> str:
    """One line: the variants whose mean exact match on a task reaches the threshold."""
    column = ("exact_match", task)
    reached = [str(v) for v, x in table[column].items() if x >= threshold] if column in table else []
    names = ", ".join(f"`{v}`" for v in reached) or "none"
    return f"- {task_label(task)}: mean exact match >= {threshold:g} with {names}."


def _short(task: str) -> str:
    """'n=10' or 'digits', for table headers."""
    return task_label(task, compact=True)


def _integer(f: Findings) -> list[str]:
    return [t for t in f.tasks if is_integer_task(t)]


def _skipped(f: Findings) -> str:
    if not f.skipped:
        return "## Skipped files\n\nNone: every file was read."
    return "## Skipped files\n\nThese could not be read and are left out:\n\n" + "\n".join(
        f"- `{s}`" for s in f.skipped
    )


def _figure(f: Findings, name: str) -> str:
    if name not in f.figures:
        return ""
    file, caption = f.figures[name]
    return f"\n\n![{caption}]({file})\n\n*{caption}*"


def _table(header: list[str], rows: list[list[str]]) -> str:
    def escape(text) -> str:
        return str(text).replace("|", "\\|")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(escape(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _ci(score: dict) -> str:
    return f"{score['iqm']:.3f} [{score['ci_low']:.3f}, {score['ci_high']:.3f}]"


def _frac(score: dict) -> str:
    return f"{score['frac_seeds_above']:.0%} of {score['seeds']}"


def _yes(flag) -> str:
    if flag is None or pd.isna(flag):
        return "-"
    return "yes" if flag else "no"


def _num(value) -> str:
    return "-" if value is None or pd.isna(value) else f"{value:.2f}"
