"""How each axis value fares, and what the failures share.

Per-axis table after Andrychowicz et al. 2020 ("What matters in on-policy RL"): for each axis
value, the 95th percentile of the per-config score over configs with that value (with a bootstrap
interval over configs) and the value's share of the top 5% of configs.
"""

from __future__ import annotations

import math

import pandas as pd

from analysis.metrics import percentile_95, stratified_bootstrap_ci
from analysis.scoring import ranked
from contract.schema import INTEGER_ONLY, is_integer_task, scored

TOP_FRACTION = 0.05
COLLAPSE_MAX_DISTINCT = 2


def axis_table(scores: pd.DataFrame, labels: pd.DataFrame, *, keys: list[str]) -> pd.DataFrame:
    """Rows (axis, value, key): configs, p95, p95_low, p95_high, top_share, all_share.

    scores: `score_configs` output; labels: `axis_labels` indexed by trial_id. Axes that only
    the integer bandit reads (the encoding) have no rows at a context set's key.
    """
    rows = []
    for key in keys:
        iqm = ranked(scores, key=key).set_index("trial_id")["iqm"]
        if iqm.empty:
            continue
        top = iqm.index[: max(1, math.ceil(TOP_FRACTION * len(iqm)))]
        for axis in labels.columns:
            if axis in INTEGER_ONLY and not is_integer_task(key):
                continue
            values = labels.loc[iqm.index, axis]
            for value in labels[axis].cat.categories:
                group = iqm[values == value].to_numpy()
                p95, low, high = (
                    stratified_bootstrap_ci([group], statistic=percentile_95)
                    if len(group)
                    else (math.nan,) * 3
                )
                rows.append(
                    {
                        "axis": axis,
                        "value": value,
                        "key": key,
                        "configs": len(group),
                        "p95": p95,
                        "p95_low": low,
                        "p95_high": high,
                        "top_share": float((labels.loc[top, axis] == value).mean()),
                        "all_share": len(group) / len(iqm),
                    }
                )
    return pd.DataFrame(rows)


def collapsed_configs(runs: pd.DataFrame) -> pd.DataFrame:
    """Per (trial_id, task): the share of seeds whose greedy policy collapsed (distinct_actions
    <= 2), and `collapsed` when that is more than half of them."""
    hit = (runs["distinct_actions"] <= COLLAPSE_MAX_DISTINCT).rename("collapsed_share")
    share = hit.groupby([runs["trial_id"], runs["task"]]).mean().reset_index()
    share["collapsed"] = share["collapsed_share"] > 0.5
    return share


def collapse_shares(collapsed: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """Rows (task, axis, value): how many collapsed configs have the value, their share, and the
    share of the value among all scored configs on that task (the base rate to compare with)."""
    rows = []
    for task, at_task in collapsed.groupby("task", sort=False):
        hit = at_task.loc[at_task["collapsed"], "trial_id"]
        if hit.empty:
            continue
        for axis in labels.columns:
            if axis in INTEGER_ONLY and not is_integer_task(task):
                continue
            for value in labels[axis].cat.categories:
                in_all = labels.loc[at_task["trial_id"], axis] == value
                in_hit = labels.loc[hit, axis] == value
                rows.append(
                    {
                        "task": task,
                        "axis": axis,
                        "value": value,
                        "collapsed": int(in_hit.sum()),
                        "collapsed_share": float(in_hit.mean()),
                        "all_share": float(in_all.mean()),
                    }
                )
    return pd.DataFrame(rows)


def failed_trials(trials: pd.DataFrame, *, phase: str) -> pd.DataFrame:
    """Failed trials of `phase` grouped by the first line of their error: error, trials, trial_ids."""
    failed = trials[(trials["phase"] == phase) & (trials["status"] == "failed")]
    first = failed.groupby("trial_id")["error"].first().fillna("(no error message)")
    first = first.map(lambda e: str(e).strip().splitlines()[0] if str(e).strip() else "(empty)")
    grouped = first.reset_index().groupby("error")["trial_id"].agg(list).reset_index()
    grouped["trials"] = grouped["trial_id"].map(len)
    return grouped.rename(columns={"trial_id": "trial_ids"}).sort_values("trials", ascending=False)


def diagnosis_table(diagnose: pd.DataFrame) -> pd.DataFrame:
    """Mean exact match (held out on a context set) and p_correct per variant (rows, in file
    order) and task: columns (metric, task), plus ("changed", "") naming the axis each variant
    changes."""
    order = list(dict.fromkeys(diagnose["variant"]))
    table = (
        diagnose.assign(exact_match=scored(diagnose))
        .pivot_table(index="variant", columns="task", values=["exact_match", "p_correct"], aggfunc="mean")
        .reindex(order)
    )
    changed = diagnose.groupby("variant")["changed"].first().reindex(order).fillna("")
    table[("changed", "")] = changed
    return table
