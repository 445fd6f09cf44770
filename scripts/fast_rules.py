"""Search the fast config's rules in N: how lr, the entropy bonus, the batch and the budget scale.

The study (`banditune study --objective speed`) searches one value per axis for all its N; a config
that must hold at any N needs values that change with N. This search (Optuna's TPE, in process, one
torch thread) gives lr, bonus and batch as a value at N=100 and an exponent, c * (N / 100) ** e, and
the budget as c * N ** 1.5, over the family the speed study found (one-hot, batch_mean,
standardize, 4 clipped steps per batch, output init 0, width 128). Each trial trains N=100 on
seeds 0-9 and N=300 on seeds 0-1 to the budget; its score is the worst of, per N, the worst seed's
samples to 0.99 over the aim (40k at N=100, 3 N² at N=300), plus 0.5 for every seed that ends
below 0.99, never reaches it or ends with an input stuck. Trial 0 is the config it replaces.
Its trial 10 gave docs/fast_config.json's values; the published config then added the output
layer's fourier part and Adam's epsilon 1e-3 and halved the budget (docs/FINDINGS.md, "How
fast"), which this search does not vary.

    python scripts/fast_rules.py --trials 40 --seed 0 --out results/fast_rules.jsonl
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import optuna
import torch

from trainable import TrainConfig, Trainer

REF_N = 100
TASKS = ((100, tuple(range(10)), 40_000), (300, (0, 1), 270_000))  # (n, seeds, aim)
FAMILY = {
    "reward": "abs",
    "encoding": "onehot",
    "baseline": "batch_mean",
    "reward_scale": "standardize",
    "hidden": 128,
    "output_init": 0.0,
    "update_epochs": 4,
}
PREVIOUS = {  # the fast config before this search (lr, bonus and batch as at N=100)
    "lr100": 0.019,
    "lrexp": 0.0,
    "ent100": 0.17,
    "entexp": 0.0,
    "entropy_schedule": "constant",
    "lr_schedule": "cosine",
    "batch100": 255,
    "bexp": 0.6,
    "bcoef": 80,
    "clip": 0.2,
    "adam_beta1": 0.5,
    "adam_beta2": 0.99,
}


def rule(at_ref: float, exponent: float) -> dict:
    """The power law through `at_ref` at N=100 with `exponent`, as a config file writes it."""
    return {"coef": at_ref * REF_N**-exponent, "exponent": exponent}


def suggest(trial: optuna.Trial) -> dict:
    """A config file's values (rules in N where they scale) for `trial`."""
    return {
        **FAMILY,
        "lr": rule(
            trial.suggest_float("lr100", 0.007, 0.03, log=True), trial.suggest_float("lrexp", -0.7, 0.1)
        ),
        "entropy_coef": rule(
            trial.suggest_float("ent100", 0.12, 0.4, log=True), trial.suggest_float("entexp", -0.5, 0.3)
        ),
        "entropy_schedule": trial.suggest_categorical("entropy_schedule", ["constant", "linear", "cosine"]),
        "lr_schedule": trial.suggest_categorical("lr_schedule", ["linear", "cosine"]),
        "batch_size": rule(
            trial.suggest_int("batch100", 160, 400, log=True), trial.suggest_float("bexp", 0.5, 0.9)
        ),
        "sample_budget": {"coef": trial.suggest_int("bcoef", 60, 160, step=10), "exponent": 1.5},
        "clip": trial.suggest_float("clip", 0.15, 0.35),
        "adam_beta1": trial.suggest_categorical("adam_beta1", [0.5, 0.7]),
        "adam_beta2": trial.suggest_categorical("adam_beta2", [0.99, 0.995, 0.999]),
    }


def score_task(values: dict, *, n: int, seeds: tuple[int, ...], aim: int) -> dict:
    """Train `values` at `n` on `seeds` to the budget: the worst seed's samples to 0.99 (twice the
    budget where a seed never gets there), the failing seeds and the score."""
    config = TrainConfig.from_dict({**values, "n": n, "seeds": seeds, "device": "cpu"})
    *_, metrics = Trainer(config).run_to_budget()
    reached = metrics.samples_to_99
    failing = int(np.isnan(reached).sum() + (metrics.stuck > 0).sum() + (metrics.exact_match < 0.99).sum())
    worst = float(np.nanmax(np.where(np.isnan(reached), 2 * config.sample_budget, reached)))
    return {"worst": worst, "failing": failing, "score": worst / aim + 0.5 * failing}


def objective(trial: optuna.Trial, *, out: Path) -> float:
    values = suggest(trial)
    score, tasks = 0.0, {}
    for n, seeds, aim in TASKS:
        tasks[n] = score_task(values, n=n, seeds=seeds, aim=aim)
        score = max(score, tasks[n]["score"])
        if score > 3:  # hopeless at this N: spare the larger one
            break
    line = json.dumps({"trial": trial.number, "score": score, "tasks": tasks, "params": trial.params})
    print(line, flush=True)
    with out.open("a") as f:
        f.write(line + "\n")
    return score


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=40)
    p.add_argument("--seed", type=int, default=0, help="the TPE sampler's seed")
    p.add_argument("--out", type=Path, default=Path("results/fast_rules.jsonl"))
    args = p.parse_args()
    torch.set_num_threads(1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sampler = optuna.samplers.TPESampler(seed=args.seed, multivariate=True, n_startup_trials=10)
    study = optuna.create_study(sampler=sampler)
    study.enqueue_trial(PREVIOUS)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study.optimize(lambda trial: objective(trial, out=args.out), n_trials=args.trials)
    print(json.dumps({"best_trial": study.best_trial.number, "params": study.best_trial.params}))


if __name__ == "__main__":
    main()
