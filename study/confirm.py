"""`banditune confirm RESULTS/NAME`: re-train a study's top configs on fresh seeds.

The ranking is analysis': the IQM of exact match over a search trial's seeds at every n together.
Each config trains in this process at every n of the study, with its trial's per-n budgets and
the study's reports, on seeds the study never used (the first free ones from 1000), all seeds
at once. Its rows go to trials/confirm-<trial_id>.parquet and curves/confirm-<trial_id>.parquet
(the study's schema, phase "confirm", the search trial's trial_id), so `banditune analyze` shows
the confirmed scores next to the search scores. A config already confirmed on the same seeds and
budgets is skipped, so an interrupted confirm continues where it stopped.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import math
import sys
from dataclasses import dataclass
from pathlib import Path

from study.options import add_threads, apply_threads, check_threads
from study.progress import Progress

DEFAULT_TOP = 5
DEFAULT_SEEDS = 10
FIRST_FRESH_SEED = 1000
PHASE = "confirm"
PREFIX = "confirm-"


@dataclass(frozen=True)
class Job:
    """One search trial to confirm."""

    trial_id: str
    values: dict  # study.space.AXIS_FIELDS
    reward: str
    budgets: dict[int, int]


@dataclass(frozen=True)
class Plan:
    root: Path
    study: str
    ns: tuple[int, ...]
    seeds: tuple[int, ...]
    reports: int
    jobs: list[Job]


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("confirm", help="re-train a study's top configs on fresh seeds",
                            description=__doc__.splitlines()[0])
    p.add_argument("results", metavar="RESULTS/NAME", help="a study folder (holds trials/)")
    p.add_argument("--top", type=int, default=DEFAULT_TOP, metavar="K",
                   help=f"how many of the best search configs to confirm (default: {DEFAULT_TOP})")
    p.add_argument("--num-seeds", type=int, default=DEFAULT_SEEDS, metavar="S",
                   help=f"fresh seeds per config (default: {DEFAULT_SEEDS})")
    add_threads(p)
    p.set_defaults(plan=plan)


def plan(args: argparse.Namespace):
    """Check every input (ValueError); return the work."""
    check_threads(args.threads)
    planned = make_plan(args.results, top=args.top, num_seeds=args.num_seeds)
    return functools.partial(run, planned, threads=args.threads)


def run(plan: Plan, *, threads: int) -> int:
    """Confirm every job of `plan`, then print the comparison table."""
    apply_threads(threads)
    print(f"confirming {len(plan.jobs)} config(s) at n = {', '.join(map(str, plan.ns))} on"
          f" seeds {plan.seeds[0]}..{plan.seeds[-1]} ({len(plan.seeds)} seeds)", flush=True)
    for i, job in enumerate(plan.jobs, start=1):
        confirm_one(job, plan, label=f"[{i}/{len(plan.jobs)}]")
    print(comparison(plan.root))
    print(f"rows in {plan.root / 'trials'}/{PREFIX}*.parquet; run `banditune analyze"
          f" {plan.root}` for the report")
    return 0


def make_plan(results: str | Path, *, top: int, num_seeds: int) -> Plan:
    """What to train, checked before any training (ValueError, one line, for bad input)."""
    from analysis.load import check_study_dir, load_study
    from analysis.scoring import BOTH, competing_runs, config_table, ranked, score_configs
    from study.export import THRESHOLD
    from study.spec import check
    from study.study_cmd import DEFAULTS, check_reward

    check(top >= 1, "--top", top, "an integer >= 1")
    check(num_seeds >= 1, "--num-seeds", num_seeds, "an integer >= 1")
    root = check_study_dir(results)
    data = load_study(root)
    ns, trials = tuple(data.ns), data.trials
    scores = score_configs(competing_runs(trials, phase="search"), ns=list(ns),
                           threshold=THRESHOLD)
    best = ranked(scores, key=BOTH)["trial_id"].head(top).tolist() if len(scores) else []
    check(bool(best), "RESULTS/NAME", str(results),
          "a study with a search trial that finished (or stopped early) at every n")
    configs = config_table(trials, phase="search")
    jobs = [_job(t, configs.loc[t], trials, ns) for t in best]
    for reward in {j.reward for j in jobs}:
        check_reward(reward, ns)
    for job in jobs:  # every config valid before any training
        _configs(job, ns=ns, seeds=(0,))
    return Plan(root=root, study=str(data.meta.get("name") or root.name), ns=ns,
                seeds=fresh_seeds(data.meta, trials, num_seeds),
                reports=int(data.meta.get("reports") or DEFAULTS["reports"]), jobs=jobs)


def fresh_seeds(meta: dict, trials, count: int) -> tuple[int, ...]:
    """`count` seeds from FIRST_FRESH_SEED up that no search or reference run used."""
    used = set(meta.get("seeds") or []) | set(trials.loc[trials["phase"] != PHASE, "seed"])
    free = (s for s in itertools.count(FIRST_FRESH_SEED) if s not in used)
    return tuple(itertools.islice(free, count))


def _job(trial_id: str, config, trials, ns) -> Job:
    from study.space import axis_values

    rows = trials[(trials["trial_id"] == trial_id) & (trials["phase"] == "search")]
    budgets = {}
    for n in ns:
        known = rows.loc[rows["n"] == n, "sample_budget"].dropna()
        if known.empty:
            raise ValueError(f"trial {trial_id!r} has no sample_budget at n={n}; expected the"
                             " study's rows to record one")
        budgets[n] = int(known.iloc[0])
    return Job(trial_id=trial_id, values=axis_values(config.to_dict()),
               reward=str(config["reward"]), budgets=budgets)


def _configs(job: Job, *, ns, seeds):
    from study.space import train_kwargs
    from trainable import TrainConfig

    return [TrainConfig(n=n, reward=job.reward, seeds=seeds, sample_budget=job.budgets[n],
                        **train_kwargs(job.values)) for n in ns]


def confirm_one(job: Job, plan: Plan, *, label: str) -> None:
    """Train one config on the fresh seeds and write its trial and curve files."""
    from study import export
    from study.trial import TrialRun
    from trainable import TrainingDiverged

    target = plan.root / "trials" / f"{PREFIX}{job.trial_id}.parquet"
    if _already_done(target, job, plan):
        print(f"{label} {job.trial_id}: already confirmed on these seeds ({target.name})")
        return
    run = TrialRun(values=job.values, ns=plan.ns, seeds=plan.seeds, sample_budget=job.budgets,
                   reports=plan.reports, reward=job.reward, device="auto")
    status, error = "finished", None
    try:
        with Progress(total=plan.reports, desc=f"{label} {job.trial_id}",
                      unit="report") as progress:
            while not run.done:
                run.step()
                progress.update(run.report)
    except TrainingDiverged as diverged:
        status, error = "failed", str(diverged)
    device = str(next(iter(run.trainers.values())).device)
    curves = export.curve_table(study=plan.study, trial_id=job.trial_id, phase=PHASE,
                                curves=run.rows)
    export.write_atomic(curves, plan.root / "curves" / target.name)
    rows = export.trial_rows(study=plan.study, trial_id=job.trial_id, phase=PHASE,
                             status=status, error=error, values=job.values, reward=job.reward,
                             ns=plan.ns, seeds=plan.seeds, sample_budget=job.budgets,
                             curves=run.rows, device=device, provenance=export.provenance())
    export.write_atomic(export.trial_table(rows), target)
    finals = ", ".join(
        f"n={n}: {_mean(r['exact_match'] for r in rows if r['n'] == n)}" for n in plan.ns)
    print(f"{label} {job.trial_id} {status}: mean exact match {finals}"
          + (f" ({error})" if error else ""), flush=True)


def _already_done(path: Path, job: Job, plan: Plan) -> bool:
    import pyarrow.parquet as pq

    if not path.is_file():
        return False
    try:
        done = pq.read_table(path, columns=["n", "seed", "sample_budget"]).to_pylist()
    except (OSError, ValueError):  # unreadable (pyarrow errors are ValueErrors): train again
        return False
    wanted = {(n, s, job.budgets[n]) for n in plan.ns for s in plan.seeds}
    return {(r["n"], r["seed"], r["sample_budget"]) for r in done} == wanted


def comparison(root: Path) -> str:
    """The confirmed scores next to the search scores, as analysis computes them."""
    from analysis.load import load_study
    from analysis.scoring import competing_runs, confirmation, score_configs
    from study.export import THRESHOLD

    data = load_study(root)
    search = score_configs(competing_runs(data.trials, phase="search"), ns=data.ns,
                           threshold=THRESHOLD)
    table = confirmation(data.trials, search, ns=data.ns, threshold=THRESHOLD)
    head = f"{'trial':<24} {'n':>5}  {'search IQM [95% CI]':>24}"
    lines = [head + f"  {'confirmed IQM [95% CI]':>24}"]
    for r in table.itertuples():
        search = _ci(r.iqm_search, r.ci_low_search, r.ci_high_search)
        confirmed = _ci(r.iqm_confirm, r.ci_low_confirm, r.ci_high_confirm)
        lines.append(f"{r.trial_id:<24} {r.n:>5}  {search:>24}  {confirmed:>24}")
    return "\n".join(lines)


def _ci(point, low, high) -> str:
    return "-" if math.isnan(point) else f"{point:.3f} [{low:.3f}, {high:.3f}]"


def _mean(values) -> str:
    values = [v for v in values if v is not None]
    return f"{sum(values) / len(values):.3f}" if values else "-"
