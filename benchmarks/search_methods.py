"""Does the search earn its keep? TPE and random search under ASHA and under FIFO, and PBT, at the
same budget over several search seeds; each study's top configs then re-trained on fresh seeds.

Every study is a real `banditune study` on the main job's space (the study's default axes) at the
same trials, seeds per config, sample budget and reports, run in this process on one embedded Ray
of `--cpus` CPUs. Per method, over the search seeds: the winners found (the analysis' rule: the
lower end of the 95% interval of the IQM over a config's seeds at or above 0.95), the trials
until the first winner (in the order the sampler proposed them; PBT: its population's order),
the samples trained and the wall time; the best config's IQM on `--fresh-seeds` seeds the search
never used (all search seeds' runs pooled, a stratified bootstrap over search seeds for the 95%
interval); the mean drop from search seeds to fresh seeds over the `--top` confirmed configs of
each study (how optimistic picking on the search seeds was); and the probability that TPE+ASHA's
best config beats random+ASHA's on fresh seeds (rliable's probability of improvement, one run
per search seed: the best config's fresh-seed IQM).

    python benchmarks/search_methods.py [--search-seeds 5] [--trials 16] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import time
from pathlib import Path

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")

METHODS = {
    "tpe+asha": ["--sampler", "tpe", "--scheduler", "asha"],
    "random+asha": ["--sampler", "random", "--scheduler", "asha"],
    "tpe+fifo": ["--sampler", "tpe", "--scheduler", "fifo"],
    "random+fifo": ["--sampler", "random", "--scheduler", "fifo"],
    "pbt": ["--sampler", "random", "--scheduler", "pbt"],  # a random population, perturbed
}


def run_method(root: Path, method: str, seed: int, args) -> dict:
    """One study of `method` with search seed `seed`, its top configs confirmed: its figures."""
    from cli import main as cli

    name = f"{method.replace('+', '-')}-s{seed}"
    argv = ["study", "--results", str(root), "--name", name, "--seed", str(seed), *METHODS[method]]
    argv += ["--n", *map(str, args.n), "--reward", args.reward, "--trials", str(args.trials)]
    argv += ["--num-seeds", str(args.num_seeds), "--sample-budget", args.sample_budget]
    argv += ["--reports", str(args.reports), "--max-concurrent", str(args.cpus)]
    start = time.perf_counter()
    if cli.main(argv) != 0:
        raise RuntimeError(f"banditune {' '.join(argv)} failed")
    wall = time.perf_counter() - start
    confirm(root / name, top=args.top, fresh=args.fresh_seeds)
    return {"method": method, "search_seed": seed, "study": name, "wall_s": wall, **figures(root / name)}


def confirm(folder: Path, *, top: int, fresh: int) -> None:
    """`banditune confirm FOLDER --top K --num-seeds F --long-horizon 1`, in this process."""
    from experiments.confirm import confirm_one, make_plan

    plan = make_plan(folder, top=top, num_seeds=fresh, long=1)
    for i, job in enumerate(plan.jobs, start=1):
        confirm_one(job, plan, label=f"[{i}/{len(plan.jobs)}]")


def figures(folder: Path) -> dict:
    """Winners, trials until the first, samples trained, the best config, its fresh-seed scores,
    the confirmed configs' drop, from the study folder (the analysis' own scoring)."""
    from analysis.load import load_study
    from analysis.scoring import ALL_TASKS, competing_runs, confirmation, ranked, score_configs
    from contract.schema import CONFIRM, SEARCH, THRESHOLD, scored

    data = load_study(folder)
    trials, tasks = data.trials, data.tasks
    scores = score_configs(competing_runs(trials, phase=SEARCH), tasks=tasks, threshold=THRESHOLD)
    ranking = ranked(scores, key=ALL_TASKS)
    order = trial_order(folder, trials)
    winners = ranking.loc[ranking["winner"], "trial_id"].tolist()
    table = confirmation(trials, scores, tasks=tasks, threshold=THRESHOLD)
    table = table[table["task"] == ALL_TASKS]
    best = ranking["trial_id"].iloc[0]
    fresh = competing_runs(trials, phase=CONFIRM)
    search_curves = data.curves[data.curves["phase"] == SEARCH]
    return {
        "winners": len(winners),
        "first_winner": min((order[t] for t in winners), default=None),
        "samples": int(search_curves.groupby(["trial_id", "task", "seed"])["samples"].max().sum()),
        "best": best,
        "best_search_iqm": float(ranking["iqm"].iloc[0]),
        "best_fresh": [float(v) for v in scored(fresh[fresh["trial_id"] == best]).tolist()],
        "drops": (table["iqm_search"] - table["iqm_confirm"]).tolist(),
        "confirmed": table[["trial_id", "iqm_search", "iqm_confirm"]].to_dict("records"),
    }


def trial_order(folder: Path, trials) -> dict[str, int]:
    """trial_id -> its place (1, 2, ...) in the order the sampler proposed it: the Optuna trial
    whose lr and entropy bonus it has; a PBT trial's place in the population (its id's count)."""
    import optuna

    from contract.schema import SEARCH

    search = trials[trials["phase"] == SEARCH].drop_duplicates("trial_id")
    if search["trial_id"].str.fullmatch(r"\w+_\d{5}").all():  # PBT: Tune's own counter
        return {t: int(re.search(r"_(\d+)$", t).group(1)) + 1 for t in search["trial_id"]}
    storage = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(folder / "optuna.journal"))
    )
    study = optuna.load_study(study_name=folder.name, storage=storage)
    number = {(t.params["lr"], t.params["entropy_coef"]): t.number + 1 for t in study.trials}
    return {r.trial_id: number[(r.lr, r.entropy_coef)] for r in search.itertuples()}


def summarize(rows: list[dict]) -> dict:
    """Per method: the table's figures; and TPE+ASHA against random+ASHA."""
    import numpy as np

    from analysis.metrics import iqm, probability_of_improvement_ci, stratified_bootstrap_ci

    out = {}
    for method in METHODS:
        mine = [r for r in rows if r["method"] == method]
        if not mine:
            continue
        winners = [r["winners"] for r in mine]
        firsts = [r["first_winner"] for r in mine if r["first_winner"] is not None]
        fresh = stratified_bootstrap_ci([np.array(r["best_fresh"]) for r in mine])
        out[method] = {
            "studies": len(mine),
            "winners_median": float(np.median(winners)),
            "winners_range": [min(winners), max(winners)],
            "first_winner_median": float(np.median(firsts)) if firsts else None,
            "studies_with_a_winner": len(firsts),
            "best_fresh_iqm": fresh,
            "best_search_iqm_median": float(np.median([r["best_search_iqm"] for r in mine])),
            "mean_drop": float(np.mean([d for r in mine for d in r["drops"]])),
            "samples_per_study": float(np.mean([r["samples"] for r in mine])),
            "wall_s_per_study": float(np.mean([r["wall_s"] for r in mine])),
        }
    by_seed = {m: [float(iqm(np.array(r["best_fresh"]))) for r in rows if r["method"] == m] for m in METHODS}
    if by_seed["tpe+asha"] and by_seed["random+asha"]:
        out["tpe_over_random_asha"] = probability_of_improvement_ci(
            np.array(by_seed["tpe+asha"]), np.array(by_seed["random+asha"])
        )
    if by_seed["tpe+fifo"] and by_seed["random+fifo"]:
        out["tpe_over_random_fifo"] = probability_of_improvement_ci(
            np.array(by_seed["tpe+fifo"]), np.array(by_seed["random+fifo"])
        )
    if by_seed["pbt"] and by_seed["random+fifo"]:  # the same population, perturbed or not
        out["pbt_over_random_fifo"] = probability_of_improvement_ci(
            np.array(by_seed["pbt"]), np.array(by_seed["random+fifo"])
        )
    return out


def table(summary: dict) -> str:
    lines = [
        "| method | winners found: median [range] | trials to the first winner: median (studies with one)"
        " | best config on fresh seeds: IQM [95% CI] | best config on search seeds: median IQM"
        " | mean drop, search -> fresh | samples trained per study | wall per study |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for method in METHODS:
        s = summary.get(method)
        if s is None:
            continue
        first = "-" if s["first_winner_median"] is None else f"{s['first_winner_median']:g}"
        point, low, high = s["best_fresh_iqm"]
        low_w, high_w = s["winners_range"]
        lines.append(
            f"| {method} | {s['winners_median']:g} [{low_w}, {high_w}]"
            f" | {first} ({s['studies_with_a_winner']} of {s['studies']})"
            f" | {point:.3f} [{low:.3f}, {high:.3f}] | {s['best_search_iqm_median']:.3f}"
            f" | {s['mean_drop']:+.3f} | {s['samples_per_study'] / 1e6:.2f}M"
            f" | {s['wall_s_per_study']:.0f} s |"
        )
    pairs = {
        "tpe_over_random_asha": "TPE+ASHA > random+ASHA",
        "tpe_over_random_fifo": "TPE+FIFO > random+FIFO",
        "pbt_over_random_fifo": "PBT > random+FIFO",
    }
    for key, label in pairs.items():
        if key in summary:
            point, low, high = summary[key]
            lines.append(
                f"\nP({label}) on the best config's fresh-seed IQM, one run per search seed:"
                f" {point:.2f} [{low:.2f}, {high:.2f}]"
            )
    return "\n".join(lines)


def pbt_schedule(root: Path, rows: list[dict]) -> str:
    """The confirmed PBT config with a schedule (perturbed at least once) that did best on fresh
    seeds: its schedule and fresh-seed IQM beside the best static configs' of the same search
    seed at the same budget (random+FIFO: the same population unperturbed; TPE+FIFO)."""
    import numpy as np

    from analysis.load import load_study
    from analysis.metrics import iqm
    from analysis.schedules import schedule_segments
    from analysis.scoring import competing_runs
    from contract.schema import CONFIRM, scored

    found = []
    for row in (r for r in rows if r["method"] == "pbt"):
        data = load_study(root / row["study"])
        fresh = competing_runs(data.trials, phase=CONFIRM)
        for trial_id, runs in fresh.groupby("trial_id"):
            segments = schedule_segments(data.curves, trial_id, task=data.tasks[0])
            if segments:
                found.append((float(iqm(scored(runs).to_numpy())), row, trial_id, segments))
    if not found:
        return "\nNo confirmed PBT config was perturbed (each kept its starting lr and entropy bonus)."
    score, row, trial_id, segments = max(found, key=lambda f: f[0])
    static = {
        r["method"]: float(iqm(np.array(r["best_fresh"])))
        for r in rows
        if r["search_seed"] == row["search_seed"] and r["method"] in ("random+fifo", "tpe+fifo")
    }
    return (
        f"\nBest perturbed PBT config ({row['study']}, trial {trial_id}; {len(found)} perturbed of the"
        f" confirmed PBT configs): fresh-seed IQM {score:.3f}; schedule {json.dumps(segments)};"
        f" best static configs of the same search seed: "
        + ", ".join(f"{method} {value:.3f}" for method, value in static.items())
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--search-seeds", type=int, default=5)
    parser.add_argument("--methods", nargs="+", choices=list(METHODS), default=list(METHODS))
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--n", type=int, nargs="+", default=[10])
    parser.add_argument("--reward", default="squared")
    parser.add_argument("--num-seeds", type=int, default=3)
    parser.add_argument("--sample-budget", default="12k")
    parser.add_argument("--reports", type=int, default=6)
    parser.add_argument("--top", type=int, default=3)
    parser.add_argument("--fresh-seeds", type=int, default=10)
    parser.add_argument("--cpus", type=int, default=1, help="Ray's CPUs: trials at once")
    parser.add_argument("--out", default="results/search_methods")
    args = parser.parse_args()

    import ray
    import torch

    torch.set_num_threads(1)
    root = Path(args.out).resolve()
    root.mkdir(parents=True, exist_ok=True)
    ray.init(address="local", num_cpus=args.cpus, include_dashboard=False, log_to_driver=False)
    start = time.perf_counter()
    rows = []
    try:
        for seed in range(args.search_seeds):
            for method in args.methods:
                rows.append(run_method(root, method, seed, args))
                print(json.dumps(rows[-1]), flush=True)
    finally:
        ray.shutdown()
    wall = time.perf_counter() - start
    summary = summarize(rows)
    text = (
        f"{len(rows)} studies: {args.trials} trials, n={' '.join(map(str, args.n))}, reward"
        f" {args.reward}, {args.num_seeds} seeds per config, {args.sample_budget} samples per seed,"
        f" {args.reports} reports; top {args.top} confirmed on {args.fresh_seeds} fresh seeds;"
        f" {args.cpus} CPU(s), {os.cpu_count()} on the machine; {wall / 60:.1f} min in all\n\n"
        + table(summary)
        + pbt_schedule(root, rows)
    )
    print(text)
    (root / "search_methods.md").write_text(text + "\n")
    (root / "search_methods.json").write_text(json.dumps({"rows": rows, "summary": summary}, indent=2))


if __name__ == "__main__":
    main()
