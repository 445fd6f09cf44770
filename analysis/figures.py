"""The report's figures (matplotlib, Agg backend, PNG). Each function draws one file and returns
its path, or None when there is nothing to draw."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis.axes import CATEGORICAL, LOG_SCALE, category_order, format_value, log_floor
from analysis.scoring import ALL_TASKS
from contract.schema import INTEGER_ONLY, is_integer_task, scored, task_label

DPI = 110


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def learning_curves(
    curves: pd.DataFrame,
    *,
    top: dict[str, str],
    reference: dict[str, str],
    tasks: list[str],
    threshold: float,
    path: Path,
) -> Path | None:
    """Exact match (held out on a context set) vs samples per task: median over seeds with a
    min-max band.

    top / reference: {trial_id: legend label} of search / reference trials.
    """
    series = [(tid, "search", label, i, "-") for i, (tid, label) in enumerate(top.items())]
    series += [(tid, "reference", label, None, "--") for tid, label in reference.items()]
    wanted = curves[curves["trial_id"].isin([s[0] for s in series])]
    if wanted.empty:
        return None
    wanted = wanted.assign(exact_match=scored(wanted))
    plt = _pyplot()
    fig, axes = plt.subplots(
        1, len(tasks), figsize=(6.5 * len(tasks), 5.2), squeeze=False, sharey=True, layout="constrained"
    )
    for ax, task in zip(axes[0], tasks):
        for trial_id, phase, label, index, style in series:
            rows = wanted[
                (wanted["trial_id"] == trial_id) & (wanted["phase"] == phase) & (wanted["task"] == task)
            ]
            if rows.empty:
                continue
            curve = rows.groupby("report").agg(
                samples=("samples", "median"),
                mid=("exact_match", "median"),
                low=("exact_match", "min"),
                high=("exact_match", "max"),
            )
            color = "black" if index is None else plt.cm.tab10(index % 10)
            on_top = 20 if index is None else 10 - index  # the best config drawn over the others
            ax.plot(
                curve["samples"],
                curve["mid"],
                style,
                color=color,
                lw=1.8,
                label=label,
                zorder=on_top,
            )
            ax.fill_between(curve["samples"], curve["low"], curve["high"], color=color, alpha=0.15)
        ax.axhline(threshold, color="red", lw=0.9, ls=":", label=f"threshold {threshold:g}")
        title = task_label(task) if is_integer_task(task) else f"{task} (held-out contexts)"
        ax.set(title=title, xlabel="training samples", ylim=(-0.02, 1.02))
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("exact match (greedy, all n inputs / held-out contexts)")
    _legend_below(fig, axes)
    fig.suptitle(
        "Learning curves: best configs vs the forum preset (dashed)\n"
        "line = median over seeds, band = min to max over seeds"
    )
    return _save(fig, path)


def axis_distributions(
    scores: pd.DataFrame, labels: pd.DataFrame, *, keys: list[str], threshold: float, path: Path
) -> Path | None:
    """One panel per axis: boxes of per-config exact match (IQM over seeds) per value, one per task
    (the integer bandit's only on the axes that only it reads)."""
    if labels.empty or scores.empty:
        return None
    plt = _pyplot()
    columns = min(3, len(labels.columns))
    rows = -(-len(labels.columns) // columns)
    fig, axes = plt.subplots(
        rows, columns, figsize=(5.2 * columns, 3.9 * rows), squeeze=False, layout="constrained"
    )
    width = 0.8 / len(keys)
    rng = np.random.default_rng(0)
    for ax, axis in zip(axes.flat, labels.columns):
        categories = list(labels[axis].cat.categories)
        for k, key in enumerate(keys):
            if axis in INTEGER_ONLY and not is_integer_task(key):
                continue  # a context set's network reads its features, not this axis
            iqm = scores.loc[scores["key"] == key].set_index("trial_id")["iqm"]
            values = labels.loc[iqm.index, axis]
            color = plt.cm.tab10(k)
            for c, category in enumerate(categories):
                group = iqm[values == category].to_numpy()
                if not len(group):
                    continue
                x = c + (k - (len(keys) - 1) / 2) * width
                box = ax.boxplot(
                    group, positions=[x], widths=width * 0.85, patch_artist=True, showfliers=False
                )
                box["boxes"][0].set(facecolor=color, alpha=0.35)
                box["medians"][0].set(color=color)
                jitter = rng.uniform(-width * 0.3, width * 0.3, len(group))
                ax.scatter(x + jitter, group, s=7, color=color, alpha=0.8, zorder=3)
        ax.axhline(threshold, color="red", lw=0.9, ls=":")
        ax.set_xticks(range(len(categories)), [str(c) for c in categories], rotation=25, ha="right")
        ax.set(title=axis, ylim=(-0.03, 1.03), xlim=(-0.6, len(categories) - 0.4))
        ax.set_ylabel("config exact match (IQM)")
        ax.grid(axis="y", alpha=0.3)
    for ax in list(axes.flat)[len(labels.columns) :]:
        ax.set_visible(False)
    handles = [plt.Rectangle((0, 0), 1, 1, color=plt.cm.tab10(k), alpha=0.5) for k in range(len(keys))]
    handles.append(plt.Line2D([], [], color="red", ls=":"))
    names = [task_label(key) for key in keys] + [f"threshold {threshold:g}"]
    fig.legend(handles, names, loc="outside lower center", ncol=len(names))
    fig.suptitle(
        "Exact match of each config (IQM over its seeds) by axis value\n"
        "box = quartiles, whiskers = 1.5 IQR, dots = configs"
    )
    return _save(fig, path)


def lr_entropy_scatter(
    scores: pd.DataFrame,
    configs: pd.DataFrame,
    *,
    keys: list[str],
    reference: pd.DataFrame,
    threshold: float,
    path: Path,
) -> Path | None:
    """lr vs entropy_coef per task, coloured by exact match; winners ringed, the forum preset starred.

    reference: config rows (lr, entropy_coef) of the reference trials, possibly empty.
    """
    if scores.empty:
        return None
    plt = _pyplot()
    fig, axes = plt.subplots(
        1, len(keys), figsize=(5.6 * len(keys) + 1, 5.0), squeeze=False, layout="constrained"
    )
    for ax, key in zip(axes[0], keys):
        at = scores[scores["key"] == key].sort_values("iqm")
        lr = configs.loc[at["trial_id"], "lr"].to_numpy(float)
        ent = configs.loc[at["trial_id"], "entropy_coef"].to_numpy(float)
        points = ax.scatter(lr, ent, c=at["iqm"], cmap="viridis", vmin=0, vmax=1, s=28, zorder=2)
        _mark_winners_and_reference(ax, lr, ent, at["winner"].to_numpy(bool), reference, threshold)
        for name, values in (
            ("x", np.append(lr, reference["lr"])),
            ("y", np.append(ent, reference["entropy_coef"])),
        ):
            _log_axis(ax, name, values)
        ax.set(
            title=task_label(key),
            xlabel="learning rate (lr)",
            ylabel="entropy_coef (0 = no entropy bonus)",
        )
        ax.grid(alpha=0.3, which="major")
    fig.colorbar(points, ax=axes.ravel().tolist(), label="config exact match (IQM over seeds)")
    _legend_below(fig, axes)
    fig.suptitle("Learning rate x entropy bonus, coloured by exact match")
    return _save(fig, path)


def parallel_coordinates(
    ranked_ids: list[str],
    configs: pd.DataFrame,
    labels: pd.DataFrame,
    scores: pd.DataFrame,
    *,
    keys: list[str],
    color_key: str,
    reference: dict[str, pd.Series],
    path: Path,
) -> Path | None:
    """One line per top config across its axes and its exact match per task; colour = score at `color_key`.

    ranked_ids: top trial_ids, best first; reference: {label: row with the axes and "iqm <key>" values}.
    """
    if not ranked_ids:
        return None
    plt = _pyplot()
    axes = list(labels.columns)
    table = configs.loc[ranked_ids, axes].copy()
    by_key = scores.pivot_table(index="trial_id", columns="key", values="iqm")
    for key in keys:
        table[f"iqm {key}"] = by_key.reindex(ranked_ids)[key].to_numpy() if key in by_key else np.nan
    ref = pd.DataFrame(list(reference.values()), index=list(reference.keys()))
    columns = list(table.columns)
    scaled, ticks = {}, {}
    for column in columns:
        scaled[column], ticks[column] = _scale(
            column,
            configs,
            labels,
            pd.concat([table[column], ref.get(column, pd.Series(dtype=float))]),
        )
    fig, ax = plt.subplots(figsize=(1.35 * len(columns) + 2.5, 5.6), layout="constrained")
    x = np.arange(len(columns))
    color_values = by_key.reindex(ranked_ids)[color_key].to_numpy(float)
    low, high = np.nanmin(color_values), np.nanmax(color_values)
    norm = plt.Normalize(low if high > low else high - 0.01, high)
    for i, trial_id in enumerate(ranked_ids):
        y = [scaled[c].loc[trial_id] if trial_id in scaled[c].index else np.nan for c in columns]
        ax.plot(x, y, color=plt.cm.viridis(norm(color_values[i])), lw=1.6, alpha=0.85)
    for name in ref.index:
        y = [scaled[c].get(name, np.nan) for c in columns]
        ax.plot(x, y, color="black", ls="--", lw=2.2, label=name)
    _axis_ticks(ax, x, columns, ticks)
    ax.set_xticks(x, ["exact match\n" + task_label(c.removeprefix("iqm ")) for c in columns], fontsize=9)
    ax.set(yticks=[], ylim=(-0.06, 1.06), xlim=(-0.3, len(columns) - 0.3))
    ax.spines[["left", "right", "top"]].set_visible(False)
    if len(ref):
        fig.legend(loc="outside lower left", fontsize=9)
    colorbar = fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap="viridis"), ax=ax, pad=0.02)
    ranking = "all tasks" if color_key == ALL_TASKS else task_label(color_key)
    colorbar.set_label(f"exact match (IQM), {ranking}")
    fig.suptitle(
        f"Top {len(ranked_ids)} configs by exact match ({ranking}): their settings and exact match per task"
    )
    return _save(fig, path)


def _mark_winners_and_reference(ax, lr, ent, won, reference: pd.DataFrame, threshold: float) -> None:
    """Ring the winners' dots in red; star the reference configs."""
    if won.any():
        ax.scatter(
            lr[won],
            ent[won],
            s=110,
            facecolors="none",
            edgecolors="red",
            lw=1.4,
            zorder=3,
            label=f"winner at this n (CI low >= {threshold:g})",
        )
    if len(reference):
        ax.scatter(
            reference["lr"],
            reference["entropy_coef"],
            marker="*",
            s=260,
            color="black",
            edgecolors="white",
            zorder=4,
            label="forum preset",
        )


def _axis_ticks(ax, x, columns: list[str], ticks: dict) -> None:
    """A vertical line per column with its value labels beside it."""
    for xi, column in zip(x, columns):
        ax.axvline(xi, color="grey", lw=0.8)
        for position, text in ticks[column]:
            ax.text(
                xi + 0.04,
                position,
                text,
                fontsize=7.5,
                va="center",
                ha="left",
                bbox={"facecolor": "white", "alpha": 0.7, "lw": 0, "pad": 0.5},
            )


def diagnosis_bars(table: pd.DataFrame, *, tasks: list[str], threshold: float, path: Path) -> Path | None:
    """Horizontal bars of mean exact match per diagnosis variant, one bar per task.

    table: index = variant (in display order), columns ("exact_match", task) for each task.
    """
    if table.empty:
        return None
    plt = _pyplot()
    ns = tasks
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(table) * len(ns) + 1.8), layout="constrained")
    height = 0.8 / len(ns)
    y = np.arange(len(table))
    for k, n in enumerate(ns):
        values = (
            table[("exact_match", n)].to_numpy(float)
            if ("exact_match", n) in table
            else np.full(len(y), np.nan)
        )
        offset = (k - (len(ns) - 1) / 2) * height
        ax.barh(y + offset, values, height=height * 0.9, color=plt.cm.tab10(k), label=task_label(n))
        for yi, v in zip(y + offset, values):
            if np.isfinite(v):
                ax.text(v + 0.01, yi, f"{v:.2f}", va="center", fontsize=8)
    ax.axvline(threshold, color="red", ls=":", lw=1, label=f"threshold {threshold:g}")
    ax.set_yticks(y, list(table.index))
    ax.invert_yaxis()
    ax.set(xlim=(0, 1.1), xlabel="mean exact match over seeds")
    ax.grid(axis="x", alpha=0.3)
    fig.legend(loc="outside lower center", ncol=len(ns) + 1, fontsize=8.5)
    fig.suptitle("Diagnosis: the forum preset with one axis changed at a time to the best config's value")
    return _save(fig, path)


def _scale(column: str, configs: pd.DataFrame, labels: pd.DataFrame, values: pd.Series):
    """Map a column's values to [0, 1] on a parallel-coordinates axis: (scaled, [(position, text)])."""
    if column.startswith("iqm "):
        return values.astype(float), [(t, f"{t:g}") for t in (0, 0.5, 1)]
    if column in CATEGORICAL:  # the study's values and any the reference adds
        known = list(labels[column].cat.categories)
        categories = category_order([*known, *values], order=known)
        step = 1 / max(1, len(categories) - 1)
        position = {c: i * step for i, c in enumerate(categories)}
        return values.map(position).astype(float), [(p, str(c)) for c, p in position.items()]
    known = pd.concat([configs[column], values]).astype(float).dropna()
    floor = log_floor(known, axis=column)
    if floor is not None:  # 0 sits below the smallest positive value, labelled "0"
        known, values = known.replace(0, floor), values.astype(float).replace(0, floor)
    low, high = known.min(), known.max()
    transform = np.log10 if column in LOG_SCALE and low > 0 else (lambda v: v)
    span = (transform(high) - transform(low)) or 1.0
    scaled = (transform(values.astype(float)) - transform(low)) / span
    marks = np.unique(known) if known.nunique() <= 5 else np.array([low, high])
    texts = ["0" if m == floor else format_value(m) for m in marks]
    return scaled, [((transform(m) - transform(low)) / span, t) for m, t in zip(marks, texts)]


def _log_axis(ax, which: str, values: np.ndarray) -> None:
    """Log scale for positive values; symlog (linear near 0) when some are 0; else linear."""
    values = values[np.isfinite(values)]
    if not len(values) or values.min() < 0 or values.max() <= 0:
        return
    if values.min() > 0:
        getattr(ax, f"set_{which}scale")("log")
    else:
        threshold = values[values > 0].min()
        getattr(ax, f"set_{which}scale")("symlog", linthresh=threshold)
        getattr(ax, f"set_{which}lim")(-0.3 * threshold, 2 * values.max())


def _legend_below(fig, axes) -> None:
    entries = {}
    for ax in axes.flat:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            entries.setdefault(label, handle)
    fig.legend(
        entries.values(),
        entries.keys(),
        loc="outside lower center",
        ncol=min(3, len(entries)),
        fontsize=8.5,
    )


def _save(fig, path: Path) -> Path:
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path
