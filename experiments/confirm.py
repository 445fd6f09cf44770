"""`banditune confirm RESULTS/NAME`: re-train a study's top configs on fresh seeds, at the
search's budget and at a longer horizon.

The ranking is analysis': the IQM of exact match over a search trial's seeds on every task
together (held-out exact match on a context set). The top K are taken round-robin over the
baselines of the configs above the threshold at every task (see `candidates`). Each config
trains in this process on every task of the study (its n, its context sets with the study's
holdout) on seeds the study never used (the first free ones from 1000), all seeds at once,
for F times its trial's per-task budget with F times the study's reports (F = --long-horizon),
so the first R reports fall where the search's did. With constant schedules those first R reports
are the search horizon; with an lr or entropy schedule (which spans the budget) the search horizon
is a second run at the search's budget.
The search horizon is written to trials/confirm-<trial_id>.parquet, the long one to
trials/confirm-long-<trial_id>.parquet (and curves/ likewise; the study's schema, phase
"confirm", `horizon` search or long, the search trial's trial_id), so `banditune analyze` shows
both next to the search scores. A config already confirmed on the same seeds and budgets is
skipped, so an interrupted confirm continues.

analysis (pandas), the trial (torch) and the trainer are imported inside the functions that use
them: the command line imports this module to build its options.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from contract.errors import check
from contract.layout import StudyPaths
from contract.schema import (
    CONFIRM,
    CONFIRM_PREFIX,
    FAILED,
    FINISHED,
    SCHEDULE_COLUMNS,
    SEARCH,
    THRESHOLD,
    is_integer_task,
    scored,
    task_label,
)
from contract.write import TrialRecord
from experiments.progress import Progress
from study.space import axis_values, train_kwargs
from study.spec import default
from study.tasks import resolve_tasks
from trainable.config import run_config
from trainable.defaults import DEFAULT_HOLDOUT

DEFAULT_TOP = 5
DEFAULT_SEEDS = 10
DEFAULT_LONG = 5
FIRST_FRESH_SEED = 1000


@dataclass(frozen=True)
class Job:
    """One search trial to confirm."""

    trial_id: str
    values: dict  # contract.schema.AXIS_COLUMNS
    reward: str
    budgets: dict[str, int]
    rates: list[tuple[float, float]] | None = None  # a PBT trial's (lr, entropy_coef) per report


@dataclass(frozen=True)
class Plan:
    root: Path
    study: str
    tasks: tuple[str, ...]
    holdout: float
    seeds: tuple[int, ...]
    reports: int
    long: int  # the long horizon, in multiples of the search budget
    jobs: list[Job]
    objective: str = "hold"  # the study's (study.objective.OBJECTIVES), scoring the confirm rows


def make_plan(
    results: str | Path, *, top: int, num_seeds: int, long: int = DEFAULT_LONG, policy: str | None = None
) -> Plan:
    """What to train, checked before any training (ValueError, one line, for bad input); with
    `policy`, the top configs of those that use that network."""
    from analysis.load import check_study_dir, load_study, study_name
    from analysis.scoring import ALL_TASKS, competing_runs, config_table, ranked, score_configs

    check(top >= 1, "--top", top, "an integer >= 1")
    check(num_seeds >= 1, "--num-seeds", num_seeds, "an integer >= 1")
    check(long >= 1, "--long-horizon", long, "an integer >= 1")
    root = check_study_dir(results)
    data = load_study(root)
    tasks, trials = tuple(data.tasks), data.trials
    holdout = float(data.meta.holdout or DEFAULT_HOLDOUT)
    scores = score_configs(competing_runs(trials, phase=SEARCH), tasks=list(tasks), threshold=THRESHOLD)
    configs = config_table(trials, phase=SEARCH)
    if policy is not None:
        searched = sorted(set(configs["policy"]))
        check(policy in searched, "--policy", policy, f"a policy the study searched ({', '.join(searched)})")
        scores = scores[scores["trial_id"].map(configs["policy"]) == policy]
    best = candidates(ranked(scores, key=ALL_TASKS), configs, top=top) if len(scores) else []
    check(
        bool(best),
        "RESULTS/NAME",
        str(results),
        "a study with a search trial that finished (or stopped early) on every task",
    )
    jobs = [_job(t, configs.loc[t], trials, tasks, curves=data.curves) for t in best]
    checked = resolve_tasks(
        ns=[int(t) for t in tasks if is_integer_task(t)],
        contexts=[t for t in tasks if not is_integer_task(t)],
        holdout=holdout,
        study=True,
    )
    for job in jobs:  # every config valid before any training
        _configs(job, tasks=tasks, holdout=holdout, seeds=(0,))
    checked.check_code(
        rewards=sorted({j.reward for j in jobs}),
        policies={j.values["policy"] for j in jobs},
        encodings=sorted({j.values["encoding"] for j in jobs}),
    )
    return Plan(
        root=root,
        study=data.meta.name or study_name(root),
        tasks=tasks,
        holdout=holdout,
        seeds=fresh_seeds(data.meta.seeds, trials, num_seeds),
        reports=int(data.meta.reports or default("reports")),
        long=long,
        jobs=jobs,
        objective=data.meta.objective,
    )


def candidates(ranking, configs, *, top: int) -> list[str]:
    """The `top` trial ids to confirm: the winners at every task round-robin over their baselines
    (the best of each baseline in rank order, then the second best of each, ...), then the rest
    in rank order. `ranking`: analysis' ranked scores on every task; `configs`: by trial_id.
    The search cannot see past its budget, so the candidates span the families that might hold."""
    families: dict[str, list[str]] = {}
    for trial_id in ranking.loc[ranking["winner"], "trial_id"]:
        families.setdefault(configs.at[trial_id, "baseline"], []).append(trial_id)
    spread = [t for rank in itertools.zip_longest(*families.values()) for t in rank if t is not None]
    rest = [t for t in ranking["trial_id"] if t not in set(spread)]
    return (spread + rest)[:top]


def fresh_seeds(searched, trials, count: int) -> tuple[int, ...]:
    """`count` seeds from FIRST_FRESH_SEED up that no search (its seeds `searched`) or reference run used."""
    used = set(searched) | set(trials.loc[trials["phase"] != CONFIRM, "seed"])
    free = (s for s in itertools.count(FIRST_FRESH_SEED) if s not in used)
    return tuple(itertools.islice(free, count))


def _job(trial_id: str, config, trials, tasks, *, curves) -> Job:
    from analysis.schedules import report_rates

    rows = trials[(trials["trial_id"] == trial_id) & (trials["phase"] == SEARCH)]
    budgets = {}
    for task in tasks:
        known = rows.loc[rows["task"] == task, "sample_budget"].dropna()
        if known.empty:
            raise ValueError(
                f"trial {trial_id!r} has no sample_budget on {task_label(task)}; expected the study's"
                " rows to record one"
            )
        budgets[task] = int(known.iloc[0])
    return Job(
        trial_id=trial_id,
        values=axis_values(config.to_dict()),
        reward=str(config["reward"]),
        budgets=budgets,
        rates=report_rates(curves, trial_id),
    )


def _configs(job: Job, *, tasks, holdout: float, seeds):
    return [
        run_config(
            values=train_kwargs(job.values),
            task=task,
            holdout=holdout,
            seeds=seeds,
            budget=job.budgets[task],
            reward=job.reward,
        )
        for task in tasks
    ]


def confirm_one(job: Job, plan: Plan, *, label: str) -> None:
    """Train one config on the fresh seeds to the long horizon; write both horizons' files.

    With constant schedules the search horizon is the first reports of the long run. A schedule
    (of the lr or the entropy bonus) spans the sample budget, so there the search horizon is a run
    of its own at the search's budget, as a user who trains the config as it is gets it."""
    from study.trial import write_result

    paths = StudyPaths(plan.root)
    files = {"search": f"{CONFIRM_PREFIX}{job.trial_id}", "long": f"{CONFIRM_PREFIX}long-{job.trial_id}"}
    if all(_already_done(paths.trial_file(f), job, plan) for f in files.values()):
        print(f"{label} {job.trial_id}: already confirmed on these seeds")
        return
    long_budget = {task: b * plan.long for task, b in job.budgets.items()}
    status, error, rows, device = _train(job, plan, budgets=long_budget, long=plan.long, label=label)
    views = {"long": (status, error, rows, long_budget)}
    if not (spans_budget(job.values) or job.rates) or plan.long == 1:
        views["search"] = (status, error, [r for r in rows if r["report"] < plan.reports], job.budgets)
    else:
        views["search"] = (*_train(job, plan, budgets=job.budgets, long=1, label=label)[:3], job.budgets)
    for horizon, (status, error, curves, budgets) in views.items():
        record = TrialRecord(
            study=plan.study,
            trial_id=job.trial_id,
            phase=CONFIRM,
            status=status,
            error=error,
            values=job.values,
            reward=job.reward,
            tasks=plan.tasks,
            seeds=plan.seeds,
            sample_budget=budgets,
            curves=curves,
            device=device,
            horizon=horizon,
        )
        write_result(paths, record, file_id=files[horizon], objective_kind=plan.objective)
    finals = ", ".join(
        f"{task_label(task, compact=True)}: {_final(views[horizon][2], task)}"
        for task in plan.tasks
        for horizon in ("search", "long")
    )
    errors = "; ".join(dict.fromkeys(v[1] for v in views.values() if v[1]))
    print(
        f"{label} {job.trial_id} {views['long'][0]}: mean exact match / stuck inputs at 1x and"
        f" {plan.long}x, {finals}" + (f" ({errors})" if errors else ""),
        flush=True,
    )


def spans_budget(values: dict) -> bool:
    """Whether a config's training depends on its sample budget: an lr or entropy schedule."""
    return any(values.get(column, "constant") != "constant" for column in SCHEDULE_COLUMNS)


def _train(job: Job, plan: Plan, *, budgets: dict[str, int], long: int, label: str):
    """Train `job` on the fresh seeds to `budgets` with `long` times the study's reports:
    (status, error, curve rows, device). A PBT trial's schedule stretches over the `long` horizon
    (each search report's values hold for `long` reports)."""
    from study.trial import TrialRun
    from trainable import TrainingDiverged

    run = TrialRun(
        values=job.values,
        tasks=plan.tasks,
        holdout=plan.holdout,
        seeds=plan.seeds,
        sample_budget=budgets,
        reports=plan.reports * long,
        reward=job.reward,
        device="auto",
        rates=[r for r in job.rates for _ in range(long)] if job.rates else None,
    )
    status, error = FINISHED, None
    try:
        with Progress(total=run.reports, desc=f"{label} {job.trial_id} {long}x", unit="report") as progress:
            while not run.done:
                run.step()
                progress.update(run.report)
    except TrainingDiverged as diverged:
        status, error = FAILED, str(diverged)
    return status, error, run.rows, str(next(iter(run.trainers.values())).device)


def _final(rows: list[dict], task: str) -> str:
    last = max((r["report"] for r in rows if r["task"] == task), default=None)
    at = [r for r in rows if r["task"] == task and r["report"] == last]
    if not at:
        return "-"
    return f"{sum(scored(r) for r in at) / len(at):.3f} / {sum(r['stuck'] for r in at) / len(at):.1f}"


def _already_done(path: Path, job: Job, plan: Plan) -> bool:
    if not path.is_file():
        return False
    try:
        done = pq.read_table(path, columns=["task", "seed", "sample_budget", "horizon"]).to_pylist()
    except (OSError, ValueError):  # unreadable (pyarrow errors are ValueErrors): train again
        return False
    factor = plan.long if done and done[0]["horizon"] == "long" else 1
    wanted = {(t, s, job.budgets[t] * factor) for t in plan.tasks for s in plan.seeds}
    return {(r["task"], r["seed"], r["sample_budget"]) for r in done} == wanted


def comparison(root: Path) -> str:
    """The confirmed scores next to the search scores, as analysis computes them."""
    from analysis.load import load_study
    from analysis.scoring import competing_runs, confirmation, mean_drops, score_configs

    data = load_study(root)
    search = score_configs(competing_runs(data.trials, phase=SEARCH), tasks=data.tasks, threshold=THRESHOLD)
    table = confirmation(data.trials, search, tasks=data.tasks, threshold=THRESHOLD)
    head = (
        f"{'trial':<24} {'task':>5}  {'search IQM [95% CI]':>24}  {'confirmed IQM [95% CI]':>24}"
        f"  {'drop':>6}  {'long IQM [95% CI]':>24}  {'long stuck':>10}"
    )
    lines = [head]
    for r in table.itertuples():
        search = _ci(r.iqm_search, r.ci_low_search, r.ci_high_search)
        confirmed = _ci(r.iqm_confirm, r.ci_low_confirm, r.ci_high_confirm)
        long = _ci(r.iqm_long, r.ci_low_long, r.ci_high_long)
        drop = r.iqm_search - r.iqm_confirm
        lines.append(
            f"{r.trial_id:<24} {r.task:>5}  {search:>24}  {confirmed:>24}  {drop:>+6.3f}  {long:>24}"
            f"  {r.stuck_long:>10.2f}"
        )
    drops = mean_drops(table)
    if drops:
        lines.append(
            "mean drop from the search seeds to fresh seeds (search IQM - confirmed IQM): "
            + ", ".join(f"{value:+.3f} at {key}" for key, value in drops.items())
        )
    return "\n".join(lines)


def _ci(point, low, high) -> str:
    return "-" if math.isnan(point) else f"{point:.3f} [{low:.3f}, {high:.3f}]"
