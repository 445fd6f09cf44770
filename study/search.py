"""How the study searches: the Optuna sampler, Tune's search algorithm and scheduler (OptunaSearch
under ASHA or FIFO; or a population from the sampler under PopulationBasedTraining), and the
study's Optuna journal (the population's results, the trials a killed driver left running)."""

from __future__ import annotations

import functools
import re
import warnings
from pathlib import Path

import optuna
from ray import tune
from ray.tune.schedulers import ASHAScheduler, FIFOScheduler, PopulationBasedTraining
from ray.tune.search import BasicVariantGenerator, ConcurrencyLimiter, Searcher
from ray.tune.search.optuna import OptunaSearch

from contract.layout import StudyPaths
from study.space import default_point, search_space
from study.spec import Study, StudySpec

STARTUP_TRIALS = 30  # random trials before TPE models the results
# PBT: every PBT_INTERVAL reports a trial in the bottom quarter continues from a top-quarter
# trial's checkpoint with its lr and entropy bonus perturbed (x 0.8 or 1.2, or redrawn from the
# space with probability 1/4); the other axes change the model or the data, so they stay.
PBT_INTERVAL = 2
PBT_AXES = ("lr", "entropy_coef")


def search_and_scheduler(study: Study, *, max_concurrent: int):
    """(Tune's search algorithm, its trial scheduler, its param_space: None but for PBT's grid
    over the population)."""
    spec, journal = study.spec, open_journal(study.paths)
    if spec.scheduler == "pbt":
        points = population(study, storage=journal)
        # the whole population is live from the start (PBT pauses the ones ahead so the others
        # catch up); the cluster's resources cap how many train at once
        scheduler = StudyPBT(
            reports=spec.reports,
            time_attr="training_iteration",
            perturbation_interval=PBT_INTERVAL,
            hyperparam_mutations={
                axis: tune.loguniform(*spec.space[axis])
                for axis in PBT_AXES
                if len(set(spec.space[axis])) > 1
            },
        )
        return BasicVariantGenerator(), scheduler, population_space(points)
    space = functools.partial(search_space, space=spec.space)
    # the trainer's defaults, at the largest n (the hardest) where their lr and entropy follow n
    start = default_point(n=max(spec.ns), space=spec.space) if spec.warm_start else None
    searcher = StudySearch(
        space,
        metric="objective",
        mode="max",
        sampler=sampler(spec),
        study_name=study.name,
        points_to_evaluate=[start] if start else None,
        storage=journal,
        max_trials=spec.trials,
    )
    scheduler = (
        ASHAScheduler(time_attr="training_iteration", max_t=spec.reports, grace_period=1, reduction_factor=3)
        if spec.scheduler == "asha"
        else FIFOScheduler()  # every trial runs its whole budget: a sweep
    )
    return ConcurrencyLimiter(searcher, max_concurrent=max_concurrent), scheduler, None


def open_journal(paths: StudyPaths) -> optuna.storages.JournalStorage:
    """The study's Optuna journal (optuna.journal in its folder)."""
    return optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(paths.journal)))


def sampler(spec: StudySpec) -> optuna.samplers.BaseSampler:
    """The study's Optuna sampler (spec.sampler), seeded by spec.search_seed.

    tpe: multivariate with `group` (a joint density per set of parameters that occur together,
    e.g. group_size with the group baselines), constant liar (trials in flight count as bad, so K
    workers do not all sample the same spot), random for its first startup_trials; random;
    qmc: a scrambled Sobol sequence (an axis only some trials have is sampled at random); gp: a
    Gaussian process over the parameters every trial has (categorical ones too), the others at
    random, random for its first startup_trials."""
    seed, startup = spec.search_seed, startup_trials(spec.trials)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if spec.sampler == "random":
            return optuna.samplers.RandomSampler(seed=seed)
        if spec.sampler == "qmc":
            return optuna.samplers.QMCSampler(scramble=True, seed=seed, warn_independent_sampling=False)
        if spec.sampler == "gp":
            return optuna.samplers.GPSampler(
                seed=seed, n_startup_trials=startup, warn_independent_sampling=False
            )
        return optuna.samplers.TPESampler(
            seed=seed, multivariate=True, group=True, constant_liar=True, n_startup_trials=startup
        )


def startup_trials(trials: int) -> int:
    """Random trials before TPE or GP model the results: a third of the trials, at most
    STARTUP_TRIALS (30 of the default 100; 6 of 20, so a small study is not all random)."""
    return max(1, min(STARTUP_TRIALS, trials // 3))


def population(study: Study, *, storage) -> list[dict]:
    """PBT's starting population: spec.trials points the study's sampler proposes (asked in the
    Optuna journal, so trial k is member k; with no results yet TPE and GP propose at random)."""
    spec = study.spec
    optuna_study = optuna.create_study(
        study_name=study.name,
        storage=storage,
        sampler=sampler(spec),
        direction="maximize",
        load_if_exists=True,
    )
    while len(optuna_study.trials) < spec.trials:
        search_space(optuna_study.ask(), space=spec.space)
    trials = optuna_study.trials
    fixed = (optuna.trial.FixedTrial(t.params) for t in trials)
    return [{**t.params, **search_space(f, space=spec.space)} for t, f in zip(trials, fixed)]


def population_space(points: list[dict]) -> dict:
    """Tune's param_space for a population: a grid over the members, each axis its member's value
    (None for an axis its baseline does not use)."""
    axes = sorted({axis for point in points for axis in point})
    members = {"member": tune.grid_search(list(range(len(points))))}
    return members | {axis: tune.sample_from(functools.partial(_member_value, points, axis)) for axis in axes}


def _member_value(points: list[dict], axis: str, config: dict):
    return points[config["member"]].get(axis)


def tell_population(study: Study, grid) -> None:
    """Each member's Optuna trial gets the final objective of its Tune trial (the member it
    started as is in its folder's name: an exploit copies the whole config, `member` too)."""
    optuna_study = optuna.load_study(study_name=study.name, storage=open_journal(study.paths))
    for result in grid:
        started = re.search(r"_member=(\d+)", Path(result.path).name)
        if started is None:
            continue
        member = optuna_study.trials[int(started.group(1))]
        if member.state == optuna.trial.TrialState.RUNNING and "objective" in (result.metrics or {}):
            optuna_study.tell(member.number, result.metrics["objective"])


def fail_orphaned_trials(study: Study) -> None:
    """Optuna trials still RUNNING once Tune is done were asked by a driver that was killed
    before Tune recorded them: mark them FAIL so the journal shows only real trials running."""
    storage = open_journal(study.paths)
    optuna_study = optuna.load_study(study_name=study.name, storage=storage)
    for trial in optuna_study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        storage.set_trial_system_attr(trial._trial_id, "banditune", "orphaned by a killed driver")
        storage.set_trial_state_values(trial._trial_id, optuna.trial.TrialState.FAIL)


class StudyPBT(PopulationBasedTraining):
    """PBT that leaves a trial's last report alone: an exploit there would only copy another
    trial's finished run into it."""

    def __init__(self, *, reports: int, **kwargs):
        super().__init__(**kwargs)
        self.reports = reports

    def on_trial_result(self, tune_controller, trial, result: dict) -> str:
        if result.get("reports_done", 0) >= self.reports:
            return self.CONTINUE
        return super().on_trial_result(tune_controller, trial, result)


class StudySearch(OptunaSearch):
    """OptunaSearch for a study that may be resumed from a Tune snapshot older than its journal.

    It ignores results for a trial Optuna has already closed: one that ended just before the
    driver was killed, after Tune's last snapshot, so that --resume runs its last reports again
    from its checkpoint (deterministically; its files are kept as they are). And it asks no new
    trial once the journal holds `max_trials` that count: closed ones, and running ones that
    Tune resumes; a trial that finished after the snapshot is not replaced by a new one. A
    running trial Tune never recorded (asked just before the kill) does not count: it is
    replaced, and marked failed when the study ends."""

    max_trials: int | None = None  # None in a searcher pickled before the limit existed

    def __init__(self, *args, max_trials: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_trials = max_trials

    def suggest(self, trial_id: str):
        if trial_id not in self._ot_trials and self.max_trials is not None:
            if self._trials_that_count() >= self.max_trials:
                return Searcher.FINISHED
        return super().suggest(trial_id)

    def _trials_that_count(self) -> int:
        resumed = {t.number for t in self._ot_trials.values()}
        running = optuna.trial.TrialState.RUNNING
        trials = self._ot_study.get_trials(deepcopy=False)
        return sum(t.state != running or t.number in resumed for t in trials)

    def on_trial_result(self, trial_id: str, result: dict) -> None:
        try:
            super().on_trial_result(trial_id, result)
        except optuna.exceptions.UpdateFinishedTrialError:
            pass
