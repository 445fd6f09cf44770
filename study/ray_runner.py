"""The study's driver: connecting to Ray, the Tuner (OptunaSearch with ASHA or FIFO; or a
population from the Optuna sampler under Tune's PopulationBasedTraining), resuming, study.json
and the reference run. The Tune callbacks are study.callbacks, the code inside a trial
study.worker.

The driver writes every result file: a Tune callback turns a trial's last checkpoint (its curve
rows) into `trials/<id>.parquet` and `curves/<id>.parquet` when the trial ends, whether it finished,
was stopped by ASHA or failed; the forum preset runs once as a plain Ray task beside the search.
With --storage, another callback copies them to STORAGE/NAME (study.mirror) as they are written.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import sys
import warnings
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import optuna
import ray
from ray import tune
from ray.tune.schedulers import ASHAScheduler, FIFOScheduler, PopulationBasedTraining
from ray.tune.search import BasicVariantGenerator, ConcurrencyLimiter, Searcher
from ray.tune.search.optuna import OptunaSearch
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from contract.layout import StudyPaths
from contract.schema import FAILED, FINISHED, REFERENCE, REFERENCE_ID, task_label
from contract.study_file import StudyRecord, load_record, write_record
from study import export
from study import storage as storage_io
from study.callbacks import ParquetExport, ProgressLines, StorageCopy, count_search_trials, write_trial
from study.mirror import Mirror
from study.objective import OBJECTIVE_NAMES, objective
from study.shipping import on_cluster
from study.space import axis_values, default_point, describe, search_space
from study.spec import Resources, StudySpec
from study.summary import print_summary, watch_command
from study.supervised import supervised_reference
from study.worker import TrialSettings, reference_run, study_trainable
from trainable.config import PRESETS
from trainable.contexts import SPLIT_SEED

EXPERIMENT = "tune"
REFERENCE_PRESET = "forum"
MAX_FAILURES = 2  # retries of a trial whose worker died (from its last checkpoint)
KEEP_CHECKPOINTS = 4
STARTUP_TRIALS = 30  # random trials before TPE models the results
NODE_CHECK_TIMEOUT_S = 120  # a node's first task starts a worker process
# PBT: every PBT_INTERVAL reports a trial in the bottom quarter continues from a top-quarter
# trial's checkpoint with its lr and entropy bonus perturbed (x 0.8 or 1.2, or redrawn from the
# space with probability 1/4); the other axes change the model or the data, so they stay.
PBT_INTERVAL = 2
PBT_AXES = ("lr", "entropy_coef")


def run_study(
    *, name: str, spec: StudySpec, paths: StudyPaths, resources: Resources, resume: bool, command: str
) -> int:
    """Run (or resume) the study: 0 when all its trials are done (some may have failed), 1 when
    every trial failed, 2 when the cluster cannot run it (refused before any trial starts), 130
    when interrupted."""
    started_ray = connect(resources.address, py_modules=resources.py_modules)
    try:
        gpu_mode = resources.gpus_per_trial > 0 and ray.cluster_resources().get("GPU", 0) > 0
        settings = trial_settings(spec, resources, gpu_mode=gpu_mode)
        storage = _ray_storage(name=name, paths=paths, resources=resources, resume=resume)
        try:
            check_storage_on_every_node(storage, given=resources.storage is not None)
        except ValueError as error:
            print(f"banditune study: error: {error}", file=sys.stderr, flush=True)
            if not resume:
                shutil.rmtree(paths.root, ignore_errors=True)  # nothing of the refused study stays
            return 2
        max_concurrent = resources.max_concurrent or fill_cluster(settings)
        meta = _begin_meta(name=name, spec=spec, paths=paths, storage=storage, resume=resume, command=command)
        copy = Mirror(paths.root, meta.copy) if meta.copy else None
        if copy is not None:
            copy.sync()
        _print_start(name, spec, paths, settings, max_concurrent, chosen=resources.max_concurrent is not None)
        reference = None
        if not paths.trial_file(REFERENCE_ID).exists():
            reference = _start_reference(settings)
        if resume:
            _clean_temp_files(paths)
        tuner = _tuner(
            name=name,
            spec=spec,
            paths=paths,
            settings=settings,
            meta=meta,
            resume=resume,
            max_concurrent=max_concurrent,
            copy=copy,
        )
        grid = tuner.fit()
        if spec.scheduler == "pbt":
            _tell_population(name, paths, grid)
        done = count_search_trials(paths)
        if done < spec.trials:
            if copy is not None:
                copy.sync()
            print(
                f"\nstudy {name!r} interrupted with {done} of {spec.trials} trials done;"
                f" continue it with: {command} --resume",
                file=sys.stderr,
            )
            return 130
        if reference is not None:
            _write_reference(ray.get(reference), name=name, spec=spec, paths=paths)
        if spec.contexts and not meta.supervised:
            meta = replace(meta, supervised=supervised_reference(spec))
        _fail_orphaned_trials(name, paths)
        write_record(replace(meta, ended=_now()), paths.study_json)
        if copy is not None:
            copy.sync()
        return print_summary(paths, spec)
    finally:
        if started_ray:
            ray.shutdown()


def _tuner(*, name, spec, paths, settings, meta, resume: bool, max_concurrent: int, copy) -> tune.Tuner:
    """The study's Tuner: on --resume, restored from its experiment when Tune saved one; else new."""
    experiment = meta.ray_experiment
    if resume and tune.Tuner.can_restore(experiment):
        return tune.Tuner.restore(
            experiment, trainable=_trainable(settings), resume_unfinished=True, resume_errored=True
        )
    return _new_tuner(
        name=name,
        spec=spec,
        paths=paths,
        settings=settings,
        storage=meta.ray_storage,
        max_concurrent=max_concurrent,
        copy=copy,
    )


def connect(address: str | None, *, py_modules: tuple[str, ...] = ()) -> bool:
    """Start or join Ray, shipping `py_modules` (the user's code) to every node; False when Ray
    was already initialised by the caller (left as is)."""
    # Tune snapshots its state whenever a trial has written KEEP_CHECKPOINTS checkpoints; that
    # keeps a resume exact, so its warning about frequent snapshots is noise here.
    os.environ.setdefault("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0")
    if ray.is_initialized():
        return False
    runtime_env = {"py_modules": list(py_modules)} if py_modules else None
    if not on_cluster(address):
        # Embedded: a new local Ray, never a `ray start` cluster found by chance. Ray puts the
        # current folder on the workers' sys.path, so a `--reward module:function` imports there.
        ray.init(address="local", include_dashboard=False, log_to_driver=True)
    else:
        # Inside `ray job submit` this merges with the job's runtime_env (its working_dir).
        ray.init(address=address, runtime_env=runtime_env)
    return True


def _print_start(name, spec, paths, settings, max_concurrent: int, *, chosen: bool) -> None:
    each = ", ".join(f"{v:g} {k.upper()}" for k, v in trial_resources(settings).items())
    print(
        f"study {name!r}: {spec.trials} trials on {', '.join(map(task_label, spec.tasks))},"
        f" {each} each, {max_concurrent} at a time"
        f"{'' if chosen else ' (all the cluster holds; --max-concurrent sets it)'};"
        f" results in {paths.root}",
        flush=True,
    )
    print(
        f"watch it live: {watch_command(paths)}  (then open http://127.0.0.1:8080;"
        " pip install -e '.[watch]' installs optuna-dashboard)",
        flush=True,
    )


def fill_cluster(settings: TrialSettings) -> int:
    """The trials that fit on the cluster at once: its GPUs (or CPUs) over one trial's share."""
    total = ray.cluster_resources()
    request = trial_resources(settings)
    kind = "gpu" if "gpu" in request else "cpu"
    return max(1, int(total.get(kind.upper(), 0) // request[kind]))


def check_storage_on_every_node(storage: str, *, given: bool) -> None:
    """On a cluster of several nodes, every node must read a file the driver wrote under
    `storage` and write its own (Tune's trials save their checkpoints there). ValueError (one
    line) naming the node that cannot."""
    nodes = [node for node in ray.nodes() if node["Alive"]]
    if len(nodes) < 2:
        return
    probe = storage_io.write_probe(storage)
    try:
        remote = ray.remote(storage_io.node_probe)
        checks = [
            remote.options(
                num_cpus=0,
                scheduling_strategy=NodeAffinitySchedulingStrategy(node["NodeID"], soft=False),
            ).remote(storage, probe)
            for node in nodes
        ]
        answers = ray.get(checks, timeout=NODE_CHECK_TIMEOUT_S)
    except ray.exceptions.GetTimeoutError:
        print(f"warning: a node did not answer the storage check in {NODE_CHECK_TIMEOUT_S} s", flush=True)
        return
    finally:
        storage_io.delete_probe(storage, probe)
    for node, answer in zip(nodes, answers):
        if answer is not None:
            shown = storage if given else f"{storage} (the default, inside the study folder)"
            raise ValueError(
                f"--storage {shown!r} cannot be written from node {node['NodeManagerAddress']}"
                f" ({node['NodeID'][:8]}: {answer}); expected storage every node can write: pass"
                " --storage s3://bucket/prefix (or gs://..., or a folder every node mounts)"
            )


def trial_settings(spec: StudySpec, resources: Resources, *, gpu_mode: bool) -> TrialSettings:
    """What every trial of the study shares (passed to the trainable)."""
    return TrialSettings(
        tasks=tuple(spec.tasks),
        holdout=spec.holdout,
        seeds=tuple(spec.seeds),
        sample_budget=dict(spec.sample_budget),
        reports=spec.reports,
        reward=spec.reward,
        gpus_per_trial=resources.gpus_per_trial if gpu_mode else 0.0,
        cpus_per_trial=resources.cpus_per_trial,
        objective=spec.objective,
    )


def trial_resources(settings: TrialSettings) -> dict:
    """Ray resources of one trial: its CPUs, and its GPU share on a cluster with GPUs."""
    gpus = settings.gpus_per_trial
    return {"cpu": settings.cpus_per_trial, **({"gpu": gpus} if gpus > 0 else {})}


def _trainable(settings: TrialSettings):
    fn = tune.with_parameters(study_trainable, settings=settings)
    return tune.with_resources(fn, trial_resources(settings))


def _new_tuner(*, name, spec, paths, settings, storage, max_concurrent, copy) -> tune.Tuner:
    journal = _journal(paths)
    param_space = None
    if spec.scheduler == "pbt":
        points = population(spec, name=name, storage=journal)
        # the whole population is live from the start (PBT pauses the ones ahead so the others
        # catch up); the cluster's resources cap how many train at once
        search_alg = BasicVariantGenerator()
        param_space = population_space(points)
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
    else:
        space = functools.partial(search_space, space=spec.space)
        # the trainer's defaults, at the largest n (the hardest) where their lr and entropy follow n
        start = default_point(n=max(spec.ns), space=spec.space) if spec.warm_start else None
        searcher = StudySearch(
            space,
            metric="objective",
            mode="max",
            sampler=sampler(spec),
            study_name=name,
            points_to_evaluate=[start] if start else None,
            storage=journal,
            max_trials=spec.trials,
        )
        search_alg = ConcurrencyLimiter(searcher, max_concurrent=max_concurrent)
        scheduler = (
            ASHAScheduler(
                time_attr="training_iteration", max_t=spec.reports, grace_period=1, reduction_factor=3
            )
            if spec.scheduler == "asha"
            else FIFOScheduler()  # every trial runs its whole budget: a sweep
        )
    callbacks = [
        ParquetExport(name=name, spec=spec, paths=paths),
        *([StorageCopy(copy)] if copy is not None else []),
        ProgressLines(spec, paths),
    ]
    return tune.Tuner(
        _trainable(settings),
        param_space=param_space,
        tune_config=tune.TuneConfig(
            metric="objective",
            mode="max",
            num_samples=1 if param_space else spec.trials,
            reuse_actors=True,
            search_alg=search_alg,
            scheduler=scheduler,
        ),
        run_config=tune.RunConfig(
            name=EXPERIMENT,
            storage_path=storage,
            callbacks=callbacks,
            failure_config=tune.FailureConfig(max_failures=MAX_FAILURES),
            checkpoint_config=tune.CheckpointConfig(num_to_keep=KEEP_CHECKPOINTS),
            verbose=0,
        ),
    )


def _journal(paths: StudyPaths) -> optuna.storages.JournalStorage:
    return optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(paths.journal)))


def population(spec: StudySpec, *, name: str, storage) -> list[dict]:
    """PBT's starting population: spec.trials points the study's sampler proposes (asked in the
    Optuna journal, so trial k is member k; with no results yet TPE and GP propose at random)."""
    study = optuna.create_study(
        study_name=name, storage=storage, sampler=sampler(spec), direction="maximize", load_if_exists=True
    )
    while len(study.trials) < spec.trials:
        search_space(study.ask(), space=spec.space)
    fixed = (optuna.trial.FixedTrial(t.params) for t in study.trials)
    return [{**t.params, **search_space(f, space=spec.space)} for t, f in zip(study.trials, fixed)]


def population_space(points: list[dict]) -> dict:
    """Tune's param_space for a population: a grid over the members, each axis its member's value
    (None for an axis its baseline does not use)."""
    axes = sorted({axis for point in points for axis in point})
    members = {"member": tune.grid_search(list(range(len(points))))}
    return members | {axis: tune.sample_from(functools.partial(_member_value, points, axis)) for axis in axes}


def _member_value(points: list[dict], axis: str, config: dict):
    return points[config["member"]].get(axis)


def _tell_population(name: str, paths: StudyPaths, grid) -> None:
    """Each member's Optuna trial gets the final objective of its Tune trial (the member it
    started as is in its folder's name: an exploit copies the whole config, `member` too)."""
    storage = _journal(paths)
    study = optuna.load_study(study_name=name, storage=storage)
    for result in grid:
        started = re.search(r"_member=(\d+)", Path(result.path).name)
        if started is None:
            continue
        member = study.trials[int(started.group(1))]
        if member.state == optuna.trial.TrialState.RUNNING and "objective" in (result.metrics or {}):
            study.tell(member.number, result.metrics["objective"])


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


def reference_values() -> dict:
    """The reference preset as trainer fields (its `inputs` included)."""
    preset = PRESETS[REFERENCE_PRESET]
    return {**preset, **axis_values(preset)}


def _start_reference(settings: TrialSettings):
    resources = trial_resources(settings)
    task = ray.remote(reference_run).options(
        num_cpus=resources["cpu"], num_gpus=resources.get("gpu", 0), max_retries=1
    )
    return task.remote(reference_values(), settings=settings)


def _write_reference(out: dict, *, name, spec, paths) -> None:
    failed = out["failure"] is not None
    write_trial(
        paths,
        name=name,
        trial_id=REFERENCE_ID,
        phase=REFERENCE,
        status=FAILED if failed else FINISHED,
        error=out["failure"],
        values=axis_values(reference_values()),
        spec=spec,
        curves=out["rows"],
        device=out["device"],
    )
    outcome = (
        f"FAILED: {out['failure']}" if failed else f"objective={objective(out['rows'], spec.objective):.4f}"
    )
    print(f"ended {REFERENCE_ID} ({REFERENCE_PRESET} preset, outside the search): {outcome}", flush=True)


def _fail_orphaned_trials(name: str, paths: StudyPaths) -> None:
    """Optuna trials still RUNNING once Tune is done were asked by a driver that was killed
    before Tune recorded them: mark them FAIL so the journal shows only real trials running."""
    storage = _journal(paths)
    study = optuna.load_study(study_name=name, storage=storage)
    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        storage.set_trial_system_attr(trial._trial_id, "banditune", "orphaned by a killed driver")
        storage.set_trial_state_values(trial._trial_id, optuna.trial.TrialState.FAIL)


def _clean_temp_files(paths: StudyPaths) -> None:
    """Remove half-written temp files a killed driver left (never under a final name)."""
    for folder in (paths.trials, paths.curves):
        for tmp in folder.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)


def _ray_storage(*, name: str, paths: StudyPaths, resources: Resources, resume: bool) -> str:
    """Where Tune keeps this study's experiment: STORAGE/NAME with --storage, else the study
    folder; a resumed study keeps its own."""
    if resume:
        return load_record(paths.study_json).ray_storage
    return storage_io.join(resources.storage, name) if resources.storage else str(paths.root)


def _begin_meta(*, name, spec, paths, storage, resume, command) -> StudyRecord:
    """Write study.json (a new one, or the saved one with this resume added)."""
    paths.trials.mkdir(exist_ok=True)
    paths.curves.mkdir(exist_ok=True)
    if resume:
        entry = {"command": command, "at": _now(), "git_commit": export.git_commit()}
        meta = load_record(paths.study_json).resume(entry)
    else:
        meta = StudyRecord.of_spec(
            name=name,
            spec=spec.to_json(),
            search_space=describe(spec.space),
            ray_storage=storage,
            ray_experiment=storage_io.join(storage, EXPERIMENT),
            copy=storage if storage != str(paths.root) else None,  # with --storage: study.mirror
            folder=str(paths.root),
            details={
                "command": command,
                "split_seed": SPLIT_SEED,
                "trials": spec.trials,
                "sample_budget": dict(spec.sample_budget),
                "reward": spec.reward,
                "objective": OBJECTIVE_NAMES[spec.objective],
                "reference": {"trial_id": REFERENCE_ID, "preset": REFERENCE_PRESET},
                "started": _now(),
                "versions": export.versions(),
                "git_commit": export.git_commit(),
            },
        )
    write_record(meta, paths.study_json)
    return meta


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
