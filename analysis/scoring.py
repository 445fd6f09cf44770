"""Score each config over its seeds and apply the winner rule.

A config is a trial_id of one phase. On each task it is scored by the IQM of its seeds' exact
match (held-out exact match on a context set) with a 95% bootstrap interval; it is a winner on a
task when the interval's lower bound is at or above the threshold. Key ALL_TASKS ("both", the name
from the two-n studies, kept: summary.json and `ranked(scores, key="both")` use it) scores all its
(task, seed) runs together (strata = tasks) and is a winner when the config is a winner on every
task of the study. The other keys are task ids: "10" for the integer bandit at n=10, "digits".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.metrics import stratified_bootstrap_ci
from contract.schema import (
    COMPETING,
    CONFIG_COLUMNS,
    CONFIRM,
    LATER_COLUMNS,
    STATUSES,
    is_integer_task,
    scored,
)

ALL_TASKS = "both"  # the key of every task pooled
EPS = 1e-9  # exact matches are k/n; float sums of them may land one ulp below the threshold
SCORE_COLUMNS = (
    "trial_id",
    "key",
    "iqm",
    "ci_low",
    "ci_high",
    "frac_seeds_above",
    "seeds",
    "winner",
    "auc",
    "stuck",
)


def competing_runs(trials: pd.DataFrame, *, phase: str, horizon: str = "search") -> pd.DataFrame:
    """Rows of `phase` at `horizon` (search: the search's budget; long: a confirmation's longer
    one) that finished or stopped early with an exact match, one per (trial, task, seed)."""
    rows = trials[
        (trials["phase"] == phase)
        & (trials["horizon"].fillna("search") == horizon)
        & trials["status"].isin(COMPETING)
        & trials["exact_match"].notna()
    ]
    return rows.drop_duplicates(["trial_id", "task", "seed"], keep="last")


def trial_status(trials: pd.DataFrame) -> pd.Series:
    """Status per trial_id: failed if any row failed, else stopped_early if any, else finished."""
    rank = trials["status"].map({s: i for i, s in enumerate(STATUSES)}).fillna(len(STATUSES) - 1)
    worst = rank.groupby(trials["trial_id"]).max()
    return worst.map(dict(enumerate(STATUSES)))


def config_table(trials: pd.DataFrame, *, phase: str) -> pd.DataFrame:
    """One row per trial_id of `phase`: its config columns and its status."""
    rows = trials[trials["phase"] == phase]
    configs = rows.groupby("trial_id", sort=True)[list(CONFIG_COLUMNS)].first()
    configs["status"] = trial_status(rows)
    return configs


def trial_counts(trials: pd.DataFrame, *, phase: str) -> dict[str, int]:
    """How many trials of `phase` finished, stopped early and failed."""
    status = trial_status(trials[trials["phase"] == phase])
    return {s: int((status == s).sum()) for s in STATUSES}


def score_configs(runs: pd.DataFrame, *, tasks: list[str], threshold: float) -> pd.DataFrame:
    """Scores per (trial_id, key) with key the task for each task present and ALL_TASKS when
    all are. A context set's stuck count is left out (held-out contexts are scored, not stuck)."""
    rows = []
    for trial_id, group in runs.groupby("trial_id", sort=True):
        at = {t: group[group["task"] == t] for t in tasks}
        strata = {t: scored(g).to_numpy(float) for t, g in at.items() if len(g)}
        aucs = {t: g["auc_exact_match"].to_numpy(float) for t, g in at.items() if len(g)}
        stuck = {
            t: g["stuck"].to_numpy(float) if is_integer_task(t) else np.full(len(g), np.nan)
            for t, g in at.items()
            if len(g)
        }
        per_task = [
            _score(trial_id, t, [s], [aucs[t]], [stuck[t]], threshold=threshold) for t, s in strata.items()
        ]
        rows += per_task
        if len(strata) == len(tasks):
            joint = _score(
                trial_id,
                ALL_TASKS,
                list(strata.values()),
                list(aucs.values()),
                list(stuck.values()),
                threshold=threshold,
            )
            joint["winner"] = all(r["winner"] for r in per_task)
            rows.append(joint)
    return pd.DataFrame(rows, columns=list(SCORE_COLUMNS))


def ranked(scores: pd.DataFrame, *, key: str) -> pd.DataFrame:
    """Scores at `key`, best first: IQM, then interval lower bound, then fewer stuck inputs,
    then sample efficiency (the area under the exact-match curve), then trial_id."""
    at_key = scores[scores["key"] == key]
    return at_key.sort_values(
        ["iqm", "ci_low", "stuck", "auc", "trial_id"], ascending=[False, False, True, False, True]
    )


def winners(scores: pd.DataFrame, configs: pd.DataFrame, *, tasks: list[str]) -> dict[str, list[dict]]:
    """For each task and ALL_TASKS: the winners, best first, with their config columns."""
    keys = [*tasks, ALL_TASKS]
    return {
        key: [score_record(row, configs) for _, row in ranked(scores, key=key).iterrows() if row["winner"]]
        for key in keys
    }


def score_record(row: pd.Series, configs: pd.DataFrame) -> dict:
    """A scores row as a plain dict with the config's columns added."""
    record = {c: plain(row[c]) for c in SCORE_COLUMNS if c != "key"}
    record.update({c: plain(configs.at[row["trial_id"], c]) for c in CONFIG_COLUMNS})
    return record


def pick_best(scores: pd.DataFrame, configs: pd.DataFrame, long: pd.DataFrame | None = None) -> dict:
    """The config to use. With long-horizon confirmations (`long`: score_configs of them): the
    top one above the threshold at every task there with no stuck input, else the top one there
    (fewest stuck inputs first). Without: the top search winner at every task, else the best joint
    IQM, else the best IQM. Its search `scores` are reported either way."""
    pooled = ranked(scores, key=ALL_TASKS)
    won = bool(pooled["winner"].any())
    confirmed = ranked(long, key=ALL_TASKS) if long is not None and len(long) else pooled.iloc[:0]
    held = confirmed[confirmed["winner"] & (confirmed["stuck"] == 0)]
    if len(held):
        chosen = held.iloc[0]["trial_id"]
        reason = "above the threshold at every task on fresh seeds at the long horizon, with no stuck input"
    elif len(confirmed):
        chosen = confirmed.sort_values(
            ["stuck", "iqm", "ci_low", "trial_id"], ascending=[True, False, False, True]
        ).iloc[0]["trial_id"]
        reason = (
            "no confirmed config held at the long horizon without stuck inputs: the one with the fewest there"
        )
    if len(confirmed) and chosen in set(pooled["trial_id"]):
        top = pooled[pooled["trial_id"] == chosen].iloc[0]
    elif won:
        top, reason = pooled[pooled["winner"]].iloc[0], "above the threshold at every task"
    elif len(pooled):
        top, reason = pooled.iloc[0], "no config is above the threshold at every task: best joint IQM"
    else:
        top = scores.sort_values(["iqm", "ci_low", "auc"], ascending=False).iloc[0]
        reason = "no config was scored at every task: best IQM at any task"
    trial_id = top["trial_id"]
    mine = scores[scores["trial_id"] == trial_id]
    return {
        "trial_id": trial_id,
        "reason": reason,
        "winner_at_every_task": won,
        **{c: plain(configs.at[trial_id, c]) for c in CONFIG_COLUMNS},
        "scores": {
            row["key"]: {c: plain(row[c]) for c in SCORE_COLUMNS if c not in ("trial_id", "key")}
            for _, row in mine.iterrows()
        },
    }


def best_config(best: dict, trials: pd.DataFrame, *, tasks: list[str], holdout: float | None = None) -> dict:
    """The TrainConfig fields of `best` at the study's largest n (a study of context sets only:
    its first context set, with the study's `holdout`), for `banditune train --config`."""
    integer = [t for t in tasks if is_integer_task(t)]
    task = max(integer, key=int) if integer else tasks[0]
    at_task = trials[trials["task"] == task]
    own = at_task.loc[at_task["trial_id"] == best["trial_id"], "sample_budget"].dropna()
    budget = own if len(own) else at_task["sample_budget"].dropna()
    # group_size is 1 in the Parquet where the baseline uses no groups; the trainer wants >= 2
    # there too and ignores it, so the file leaves it to the trainer's default.
    # The later axes (speed knobs, policy) appear only where they differ from the trainer's defaults.
    config = {
        c: best[c]
        for c in CONFIG_COLUMNS
        if c not in LATER_COLUMNS and not (c == "group_size" and best[c] < 2)
    }
    config.update({c: best[c] for c, default in LATER_COLUMNS.items() if best.get(c, default) != default})
    config.update({"n": int(task)} if integer else {"contexts": task})
    if not integer and holdout is not None:
        config["holdout"] = float(holdout)
    if len(budget):
        config["sample_budget"] = int(budget.iloc[0])
    return config


def mean_drops(table: pd.DataFrame) -> dict[str, float]:
    """{key: the mean over configs of search IQM - confirmed IQM} of a `confirmation` table: how
    optimistic the selection on the search seeds was (positive: the fresh seeds score lower)."""
    if table.empty:
        return {}
    drops = (table["iqm_search"] - table["iqm_confirm"]).groupby(table["task"]).mean()
    return {str(key): float(value) for key, value in drops.items() if not pd.isna(value)}


def confirmation(
    trials: pd.DataFrame, search_scores: pd.DataFrame, *, tasks: list[str], threshold: float
) -> pd.DataFrame:
    """Per (trial_id, task) with task a task id or ALL_TASKS: the search scores (columns ending
    _search) next to those of the confirmation re-runs on fresh seeds at the search's budget (_confirm)
    and at the long horizon (_long)."""
    confirm = score_configs(competing_runs(trials, phase=CONFIRM), tasks=tasks, threshold=threshold)
    if confirm.empty:
        return confirm
    long = score_configs(
        competing_runs(trials, phase=CONFIRM, horizon="long"), tasks=tasks, threshold=threshold
    )
    merged = confirm.merge(
        search_scores, on=["trial_id", "key"], how="left", suffixes=("_confirm", "_search")
    )
    merged = merged.merge(
        long.add_suffix("_long").rename(columns={"trial_id_long": "trial_id", "key_long": "key"}),
        on=["trial_id", "key"],
        how="left",
    )
    order = {key: i for i, key in enumerate([*tasks, ALL_TASKS])}
    merged = merged.sort_values(["trial_id", "key"], key=lambda s: s.map(order) if s.name == "key" else s)
    return merged.rename(columns={"key": "task"})


def _score(
    trial_id: str,
    key: str,
    strata: list[np.ndarray],
    aucs: list[np.ndarray],
    stuck: list[np.ndarray],
    *,
    threshold: float,
) -> dict:
    """Scores of one config at `key`; `stuck` is the mean stuck inputs per seed, and `auc`
    (mean area under the exact-match curves) ranks configs tied on both by how early they
    learned."""
    point, low, high = stratified_bootstrap_ci(strata)
    pooled = np.concatenate(strata)
    return {
        "trial_id": trial_id,
        "key": key,
        "iqm": point,
        "ci_low": low,
        "ci_high": high,
        "frac_seeds_above": float(np.mean(pooled >= threshold - EPS)),
        "seeds": len(pooled),
        "winner": bool(low >= threshold - EPS),
        "auc": float(np.nanmean(np.concatenate(aucs))),
        "stuck": _mean_or_nan(np.concatenate(stuck)),
    }


def _mean_or_nan(values: np.ndarray) -> float:
    """Mean of the known values (stuck is null in files written before it existed)."""
    known = values[~np.isnan(values)]
    return float(known.mean()) if known.size else float("nan")


def plain(value):
    """JSON-ready: numpy scalars -> Python, NaN/NA -> None, dicts and lists converted item by item."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value
