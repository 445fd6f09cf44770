"""How the best lr and entropy bonus move with n, from one or more studies (Parquet only).

At each n of the studies, the top configs are the `top` best search configs by IQM exact match at that
n (ties: interval, stuck inputs, area; analysis.scoring.ranked). Their lr and entropy_coef give a
point (the geometric median) and an interval (the smallest and largest of them). The rule is a
power law fitted by least squares in log-log space to the points: value = c * n ** b. A parameter
with one value in every top config (a sweep that held it) is reported as held, not fitted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from analysis.load import check_study_dir, load_study, study_meta, study_name  # noqa: E402
from analysis.scoring import competing_runs, config_table, ranked, score_configs  # noqa: E402
from contract.schema import SEARCH, THRESHOLD, integer_task, is_integer_task  # noqa: E402

PARAMETERS = ("lr", "entropy_coef")


@dataclass(frozen=True)
class PowerLaw:
    """value = coef * n ** exponent."""

    coef: float
    exponent: float

    def __call__(self, n) -> np.ndarray:
        return self.coef * np.asarray(n, dtype=float) ** self.exponent


def fit_power_law(ns: np.ndarray, values: np.ndarray) -> PowerLaw:
    """Least squares of log(values) on log(ns): (k,), (k,) -> the power law (k >= 2)."""
    exponent, intercept = np.polyfit(np.log(ns), np.log(values), 1)
    return PowerLaw(coef=float(np.exp(intercept)), exponent=float(exponent))


def top_configs(results: list[str | Path], *, top: int, threshold: float = THRESHOLD) -> pd.DataFrame:
    """One row per (n, rank) for the `top` search configs at each n of the studies, with the
    config's columns, its IQM and whether it won (interval lower bound >= threshold)."""
    rows = []
    for folder in results:
        data = load_study(check_study_dir(folder))
        configs = config_table(data.trials, phase=SEARCH)
        tasks = data.tasks
        scores = score_configs(competing_runs(data.trials, phase=SEARCH), tasks=tasks, threshold=threshold)
        for n in (int(t) for t in tasks if is_integer_task(t)):
            at_n = ranked(scores, key=integer_task(n))
            for rank, (_, score) in enumerate(at_n.head(top).iterrows(), start=1):
                config = configs.loc[score["trial_id"]]
                rows.append(
                    {
                        "study": study_name(data.root),
                        "n": n,
                        "rank": rank,
                        "trial_id": score["trial_id"],
                        "iqm": score["iqm"],
                        "winner": bool(score["winner"]),
                        "winners_at_n": int(at_n["winner"].sum()),
                        **config.to_dict(),
                    }
                )
    return pd.DataFrame(rows)


def trend(top: pd.DataFrame) -> pd.DataFrame:
    """Per n: each parameter's geometric median over the top configs and its [min, max]."""
    out = []
    for n, group in top.groupby("n", sort=True):
        row = {"n": int(n), "winners": int(group["winners_at_n"].iloc[0]), "best_iqm": group["iqm"].max()}
        for p in PARAMETERS:
            values = group[p].to_numpy(float)
            row[p] = float(np.exp(np.median(np.log(values))))
            row[p + "_low"], row[p + "_high"] = float(values.min()), float(values.max())
        out.append(row)
    return pd.DataFrame(out)


def study_ns(results: list[str | Path]) -> list[int]:
    """The distinct integer-bandit n of the studies (study.json's "n"); ValueError (one line)
    for a folder that is not a study."""
    ns = set()
    for folder in results:
        root = check_study_dir(folder)
        ns.update(study_meta(root).ns)
    return sorted(ns)


def write_scale(results: list[str | Path], *, out: str | Path, top: int) -> dict:
    """Fit the rule; write scale.json, scale.md and scale.png under `out`; return the JSON."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    table = trend(top_configs(results, top=top))
    ns = table["n"].to_numpy(float)
    held = {p: float(table[p].iloc[0]) for p in PARAMETERS if _held(table, p)}
    rules = {p: fit_power_law(ns, table[p].to_numpy(float)) for p in PARAMETERS if p not in held}
    summary = {
        "studies": [Path(r).name for r in results],
        "top": top,
        "rule": {p: {"coef": r.coef, "exponent": r.exponent} for p, r in rules.items()},
        "held": held,
        "per_n": table.to_dict(orient="records"),
    }
    (out / "scale.json").write_text(json.dumps(summary, indent=2) + "\n")
    (out / "scale.md").write_text(_markdown(table, rules, held, top=top))
    _plot(table, rules, held, path=out / "scale.png", top=top)
    return summary


def _held(table: pd.DataFrame, p: str) -> bool:
    """Whether every top config at every n has the same value of `p`."""
    return table[p + "_low"].min() == table[p + "_high"].max()


def _markdown(table: pd.DataFrame, rules: dict[str, PowerLaw], held: dict[str, float], *, top: int) -> str:
    lines = [
        f"| n | configs above {THRESHOLD:g} | best IQM | lr (top {top}: median [min, max]) |"
        f" entropy_coef (top {top}) |",
        "|---|---|---|---|---|",
    ]
    for _, r in table.iterrows():
        lines.append(
            f"| {int(r['n'])} | {int(r['winners'])} | {r['best_iqm']:.3f} |"
            f" {r['lr']:.2g} [{r['lr_low']:.2g}, {r['lr_high']:.2g}] |"
            f" {r['entropy_coef']:.2g} [{r['entropy_coef_low']:.2g}, {r['entropy_coef_high']:.2g}] |"
        )
    lines.append("")
    for p, rule in rules.items():
        lines.append(f"- fitted: {p} = {rule.coef:.3g} * n^{rule.exponent:.3f}")
    for p, value in held.items():
        lines.append(f"- held: {p} = {value:.3g} at every n (not searched)")
    return "\n".join(lines) + "\n"


def _plot(
    table: pd.DataFrame, rules: dict[str, PowerLaw], held: dict[str, float], *, path: Path, top: int
) -> None:
    ns = table["n"].to_numpy(float)
    grid = np.geomspace(ns.min(), 1000, 50)
    fig, axes = plt.subplots(1, len(PARAMETERS), figsize=(9, 3.6))
    for ax, p in zip(axes, PARAMETERS, strict=True):
        if p in held:
            ax.axhline(held[p], linestyle=":", label=f"held at {held[p]:.3g}")
            ax.set(xscale="log", xlim=(grid[0] / 1.5, grid[-1] * 1.5), ylim=(0, 2 * held[p]))
            ax.set(xlabel="n", ylabel=p, title=f"{p}: held, not searched")
            ax.legend(fontsize=8)
            continue
        point = table[p].to_numpy(float)
        # clipped at 0: the geometric median of equal values can round a hair outside them
        below = np.maximum(point - table[p + "_low"].to_numpy(float), 0)
        above = np.maximum(table[p + "_high"].to_numpy(float) - point, 0)
        ax.errorbar(ns, point, yerr=[below, above], fmt="o", capsize=3, label=f"top {top} configs")
        rule = rules[p]
        ax.plot(grid, rule(grid), "--", label=f"{rule.coef:.3g} n^{rule.exponent:.2f}")
        ax.set(xscale="log", yscale="log", xlabel="n", ylabel=p, title=f"best {p} against n")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
