"""Fake study folders in the results contract's schemas (contract/schema.py), with planted
winners, a decoy, failures and a reference; rows leave out the columns a writer may leave null."""

from __future__ import annotations

import json
import math
import zlib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from contract.schema import CURVE_SCHEMA, TRIAL_SCHEMA

NS = (10, 100)
SEEDS = (0, 1, 2, 3, 4)
FRESH_SEEDS = (100, 101, 102, 103, 104)
BUDGET = {10: 20_000, 100: 200_000}
REPORTS = 12
FORUM = {
    "reward": "abs",
    "encoding": "scalar",
    "baseline": "none",
    "reward_scale": "raw",
    "lr": 1e-3,
    "lr_schedule": "constant",
    "entropy_schedule": "constant",
    "entropy_coef": 1e-4,
    "batch_size": 50,
    "hidden": 64,
    "group_size": 1,
}


def config(**changes) -> dict:
    """The forum preset with some axes changed."""
    return {**FORUM, **changes}


def trial(
    trial_id: str,
    cfg: dict,
    exact: dict[int, list[float]],
    *,
    phase: str = "search",
    status: str = "finished",
    seeds: tuple[int, ...] = SEEDS,
) -> dict:
    """A fake trial: {"rows": trial rows, "curves": curve rows}; exact[n] = final exact match per seed."""
    failed = status == "failed"
    finals = [x for values in exact.values() for x in values]
    objective = None if failed else float(np.mean(finals))
    rows, curves = [], []
    for n, values in exact.items():
        for seed, final in zip(seeds, values):
            row = {
                "study": "fixture",
                "trial_id": trial_id,
                "phase": phase,
                "status": status,
                "error": "RuntimeError: CUDA out of memory\nTraceback..." if failed else None,
                "n": n,
                "seed": seed,
                **cfg,
                "sample_budget": BUDGET[n],
                "objective": objective,
                "device": "cpu",
                "torch_version": "2.13.0",
                "ray_version": "2.x",
                "optuna_version": "5.0.0",
                "git_commit": "abc123",
            }
            metrics = _metrics(n, final)
            row.update(dict.fromkeys(metrics) if failed else metrics)  # failed: every metric null
            rows.append(row)
            if not failed:
                curves += _curve(row)
    return {"rows": rows, "curves": curves}


def _metrics(n: int, final: float) -> dict:
    distinct = 1 if final <= 0.1 else max(2, round(final * n))  # near 0: one output for all
    return {
        "exact_match": final,
        "p_correct": 0.9 * final,
        "mae": (1 - final) * n / 4,
        "regret": (1 - final) * n / 4,
        "entropy": 0.2,
        "distinct_actions": distinct,
        "reward_mean": -(1 - final) * n / 4,
        "samples": BUDGET[n],
        "samples_to_95": BUDGET[n] // 2 if final >= 0.95 else None,
        "best_exact_match": final,
        "auc_exact_match": final / 2,
        "wall_s": 3.0,
        "samples_per_s": BUDGET[n] / 3.0,
    }


def _curve(row: dict) -> list[dict]:
    rate = 2 + zlib.crc32(row["trial_id"].encode()) % 5  # how fast this trial learns
    points = []
    for report in range(REPORTS):
        progress = (1 - math.exp(-rate * (report + 1) / REPORTS)) / (1 - math.exp(-rate))
        exact = round(row["exact_match"] * progress * row["n"]) / row["n"]
        points.append(
            {
                "study": "fixture",
                "trial_id": row["trial_id"],
                "phase": row["phase"],
                "n": row["n"],
                "seed": row["seed"],
                "report": report,
                "samples": (report + 1) * BUDGET[row["n"]] // REPORTS,
                "exact_match": exact,
                "p_correct": 0.9 * exact,
                "mae": (1 - exact) * row["n"] / 4,
                "regret": (1 - exact) * row["n"] / 4,
                "entropy": 0.2,
                "distinct_actions": max(1, round(exact * row["n"])),
                "reward_mean": -(1 - exact),
                "wall_s": 0.1 * report,
                "samples_per_s": 1000.0,
            }
        )
    return points


def write_study(
    root: Path, trials: list[dict], *, diagnose: list[dict] | None = None, ns: tuple = NS
) -> Path:
    """Write a study folder: trials/ and curves/ (one file per trial and phase), study.json."""
    (root / "trials").mkdir(parents=True)
    (root / "curves").mkdir()
    for t in trials:
        name = f"{t['rows'][0]['trial_id']}-{t['rows'][0]['phase']}.parquet"
        pq.write_table(pa.Table.from_pylist(t["rows"], schema=TRIAL_SCHEMA), root / "trials" / name)
        if t["curves"]:
            pq.write_table(
                pa.Table.from_pylist(t["curves"], schema=CURVE_SCHEMA),
                root / "curves" / name,
            )
    meta = {
        "name": root.name,
        "command": "banditune study fixture",
        "search_space": {},
        "n": list(ns),
        "seeds": list(SEEDS),
        "trials": len(trials),
        "started": "2026-01-01T00:00:00",
        "ended": "2026-01-01T01:00:00",
        "versions": {},
        "git_commit": "abc123",
    }
    (root / "study.json").write_text(json.dumps(meta))
    if diagnose is not None:
        pq.write_table(pa.Table.from_pylist(diagnose), root / "diagnose.parquet")
    return root


PLANTED_A = config(
    encoding="onehot",
    baseline="rloo",
    reward_scale="standardize",
    lr=3e-3,
    batch_size=64,
    group_size=4,
)
PLANTED_B = config(encoding="embedding", baseline="grpo", lr=1e-2, batch_size=64, group_size=8)


def planted_trials() -> list[dict]:
    """Two configs with every seed at 1.0, a decoy with one seed at 0.1, and clear losers."""
    ones = [1.0] * len(SEEDS)
    decoy = [1.0] * (len(SEEDS) - 1) + [0.1]
    return [
        trial(
            "planted_a",
            PLANTED_A,
            {n: ones for n in NS},
        ),
        trial(
            "planted_b",
            PLANTED_B,
            {n: ones for n in NS},
        ),
        trial("decoy", config(encoding="onehot", baseline="value", lr=5e-3), {n: decoy for n in NS}),
        trial("loser_1", config(lr=3e-4), {10: [0.6, 0.5, 0.7, 0.6, 0.6], 100: [0.01] * 5}),
        trial(
            "loser_2",
            config(encoding="binary", entropy_coef=1e-2),
            {10: [0.9, 0.8, 0.9, 0.9, 0.8], 100: [0.5, 0.4, 0.6, 0.5, 0.5]},
        ),
        trial(
            "loser_3",
            config(encoding="fourier", baseline="ema", lr=1e-4),
            {10: [0.7] * 5, 100: [0.3] * 5},
            status="stopped_early",
        ),
        trial(
            "broken",
            config(encoding="onehot", batch_size=4096),
            {n: [0.0] * 5 for n in NS},
            status="failed",
        ),
        trial(
            "forum",
            FORUM,
            {10: [0.6, 0.6, 0.5, 0.7, 0.6], 100: [0.01, 0.02, 0.01, 0.01, 0.01]},
            phase="reference",
        ),
        trial(
            "planted_a",
            PLANTED_A,
            {n: ones for n in NS},
            phase="confirm",
            seeds=FRESH_SEEDS,
        ),
        trial(
            "planted_b",
            PLANTED_B,
            {n: [1.0, 0.8, 0.9, 1.0, 0.7] for n in NS},
            phase="confirm",
            seeds=FRESH_SEEDS,
        ),
    ]


def diagnose_rows() -> list[dict]:
    """A diagnose.parquet: the forum preset, one change at a time, and all changes at once."""
    variants = {
        "forum": ("", {10: 0.6, 100: 0.01}),
        "+encoding=onehot": ("encoding", {10: 0.9, 100: 0.7}),
        "+baseline=rloo": ("baseline", {10: 0.7, 100: 0.05}),
        "+reward_scale=standardize": ("reward_scale", {10: 0.65, 100: 0.02}),
        "all changes": ("all", {10: 1.0, 100: 0.99}),
    }
    return [
        {
            "variant": variant,
            "changed": changed,
            "n": n,
            "seed": seed,
            "exact_match": score,
            "p_correct": 0.9 * score,
            "distinct_actions": max(1, round(score * n)),
            "samples_to_95": 1000 if score >= 0.95 else None,
        }
        for variant, (changed, scores) in variants.items()
        for n, score in scores.items()
        for seed in SEEDS[:3]
    ]


def synthetic_trials(*, configs: int = 36, seed: int = 0) -> list[dict]:
    """A plausible study: scores depend on encoding, baseline, lr and entropy_coef, plus seed noise."""
    rng = np.random.default_rng(seed)
    encodings = {
        "scalar": (0.6, 0.01),
        "scalar01": (0.7, 0.15),
        "onehot": (1.0, 0.99),
        "embedding": (1.0, 0.97),
        "fourier": (0.9, 0.7),
        "binary": (0.85, 0.6),
    }
    baselines = {
        "none": 0.8,
        "ema": 0.93,
        "batch_mean": 0.95,
        "rloo": 1.0,
        "grpo": 1.0,
        "value": 0.97,
    }
    trials = []
    for i in range(configs):
        cfg = config(
            encoding=str(rng.choice(list(encodings))),
            baseline=str(rng.choice(list(baselines))),
            reward_scale=str(rng.choice(["raw", "range", "standardize"])),
            lr=float(10 ** rng.uniform(-4.5, -1.5)),
            entropy_coef=float(10 ** rng.uniform(-5, -1)) * (rng.random() > 0.2),
            batch_size=int(rng.choice([16, 32, 64, 128, 256])),
            hidden=int(rng.choice([32, 64, 128])),
        )
        cfg["group_size"] = int(rng.choice([4, 8])) if cfg["baseline"] in ("rloo", "grpo") else 1
        lr_fit = math.exp(-((math.log10(cfg["lr"]) + 2.5) ** 2) / 2.0)
        ent_fit = 1.0 if cfg["entropy_coef"] < 3e-3 else 0.8
        exact = {}
        for j, n in enumerate(NS):
            mean = encodings[cfg["encoding"]][j] * baselines[cfg["baseline"]] * ent_fit * (0.3 + 0.7 * lr_fit)
            noisy = np.clip(
                mean + 0.05 + rng.normal(0, 0.02, len(SEEDS)) - 0.1 * (rng.random(len(SEEDS)) < 0.05),
                0,
                1,
            )
            exact[n] = [round(x * n) / n for x in noisy]
        status = "stopped_early" if max(exact[NS[-1]]) < 0.3 and i % 2 else "finished"
        trials.append(trial(f"t{i:02d}", cfg, exact, status=status))
    trials.append(
        trial(
            "t_oom",
            config(encoding="onehot", hidden=1024),
            {n: [0.0] * 5 for n in NS},
            status="failed",
        )
    )
    trials.append(trial("forum", FORUM, {10: [0.6, 0.6, 0.5, 0.7, 0.6], 100: [0.01] * 5}, phase="reference"))
    return trials
