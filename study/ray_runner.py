"""The study's driver: connecting to Ray, checking the storage, the Tuner (its search and scheduler
are study.search), resuming, study.json and the reference run. The Tune callbacks are
study.callbacks, the code inside a trial study.worker. It prints nothing: it tells the caller
what happens (study.events) and returns an `Outcome`.

The driver writes every result file: a Tune callback turns a trial's last checkpoint (its curve
rows) into `trials/<id>.parquet` and `curves/<id>.parquet` when the trial ends, whether it finished,
was stopped by ASHA or failed; the forum preset runs once as a plain Ray task beside the search.
With --storage, another callback copies them to STORAGE/NAME (study.mirror) as they are written.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timezone

import ray
from ray import tune
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from contract.errors import BadValue
from contract.layout import StudyPaths
from contract.schema import FAILED, FINISHED, REFERENCE, REFERENCE_ID
from contract.study_file import StudyRecord, load_record, write_record
from study import export, search
from study import storage as storage_io
from study.callbacks import ParquetExport, ProgressLines, StorageCopy, count_search_trials, write_trial
from study.events import NodeCheckLate, Outcome, ReferenceEnded, Started
from study.mirror import Mirror
from study.objective import OBJECTIVE_NAMES, objective
from study.search import fail_orphaned_trials, search_and_scheduler, tell_population
from study.shipping import on_cluster
from study.space import axis_values, describe
from study.spec import Resources, Study, StudySpec
from study.supervised import supervised_reference
from study.worker import TrialSettings, reference_run, study_trainable
from trainable.config import PRESETS
from trainable.contexts import SPLIT_SEED

EXPERIMENT = "tune"
REFERENCE_PRESET = "forum"
MAX_FAILURES = 2  # retries of a trial whose worker died (from its last checkpoint)
KEEP_CHECKPOINTS = 4
NODE_CHECK_TIMEOUT_S = 120  # a node's first task starts a worker process
# Tune's snapshots (tuner.pkl) of studies started before study.search existed name these here.
StudySearch, StudyPBT, _member_value = search.StudySearch, search.StudyPBT, search._member_value


def run_study(study: Study, *, on_event: Callable) -> Outcome:
    """Run (or resume) the study; `on_event` gets every study.events event (a module-level
    function: Tune pickles it with its experiment). Refused when the cluster cannot run it
    (before any trial starts); interrupted when fewer than its trials are done."""
    started_ray = connect(study.resources.address, py_modules=study.resources.py_modules)
    try:
        return _run(study, on_event)
    finally:
        if started_ray:
            ray.shutdown()


def _run(study: Study, on_event: Callable) -> Outcome:
    spec, paths, resources = study.spec, study.paths, study.resources
    gpu_mode = resources.gpus_per_trial > 0 and ray.cluster_resources().get("GPU", 0) > 0
    settings = trial_settings(spec, resources, gpu_mode=gpu_mode)
    saved = load_record(paths.study_json) if study.resume else None
    storage = saved.ray_storage if saved is not None else _ray_storage(study)
    try:
        late = check_storage_on_every_node(storage, given=resources.storage is not None)
    except ValueError as error:
        if not study.resume:
            shutil.rmtree(paths.root, ignore_errors=True)  # nothing of the refused study stays
        return Outcome(done=0, trials=spec.trials, refused=str(error))
    if late:
        on_event(NodeCheckLate(NODE_CHECK_TIMEOUT_S))
    at_once = resources.max_concurrent or fill_cluster(settings)
    meta = _begin_meta(study, storage=storage, saved=saved)
    copy = Mirror(paths.root, meta.copy) if meta.copy else None
    if copy is not None:
        copy.sync()
    on_event(Started(trial_resources(settings), at_once, chosen=resources.max_concurrent is not None))
    reference = None
    if not paths.trial_file(REFERENCE_ID).exists():
        reference = _start_reference(settings)
    if study.resume:
        _clean_temp_files(paths)
    tuner = _tuner(study, settings, meta, max_concurrent=at_once, copy=copy, on_event=on_event)
    grid = tuner.fit()
    if spec.scheduler == "pbt":
        tell_population(study, grid)
    done = count_search_trials(paths)
    if done < spec.trials:
        if copy is not None:
            copy.sync()
        return Outcome(done=done, trials=spec.trials)
    if reference is not None:
        on_event(_write_reference(ray.get(reference), study))
    if spec.contexts and not meta.supervised:
        meta = replace(meta, supervised=supervised_reference(spec))
    fail_orphaned_trials(study)
    write_record(replace(meta, ended=_now()), paths.study_json)
    if copy is not None:
        copy.sync()
    return Outcome(done=done, trials=spec.trials)


def _tuner(
    study: Study, settings: TrialSettings, meta: StudyRecord, *, max_concurrent: int, copy, on_event
) -> tune.Tuner:
    """The study's Tuner: on --resume, restored from its experiment when Tune saved one (with
    the callbacks it saved); else new."""
    experiment = meta.ray_experiment
    if study.resume and tune.Tuner.can_restore(experiment):
        return tune.Tuner.restore(
            experiment, trainable=_trainable(settings), resume_unfinished=True, resume_errored=True
        )
    search_alg, scheduler, param_space = search_and_scheduler(study, max_concurrent=max_concurrent)
    callbacks = [
        ParquetExport(study),
        *([StorageCopy(copy)] if copy is not None else []),
        ProgressLines(study, on_event=on_event),
    ]
    return tune.Tuner(
        _trainable(settings),
        param_space=param_space,
        tune_config=tune.TuneConfig(
            metric="objective",
            mode="max",
            num_samples=1 if param_space else study.spec.trials,
            reuse_actors=True,
            search_alg=search_alg,
            scheduler=scheduler,
        ),
        run_config=tune.RunConfig(
            name=EXPERIMENT,
            storage_path=meta.ray_storage,
            callbacks=callbacks,
            failure_config=tune.FailureConfig(max_failures=MAX_FAILURES),
            checkpoint_config=tune.CheckpointConfig(num_to_keep=KEEP_CHECKPOINTS),
            verbose=0,
        ),
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


def fill_cluster(settings: TrialSettings) -> int:
    """The trials that fit on the cluster at once: its GPUs (or CPUs) over one trial's share."""
    total = ray.cluster_resources()
    request = trial_resources(settings)
    kind = "gpu" if "gpu" in request else "cpu"
    return max(1, int(total.get(kind.upper(), 0) // request[kind]))


def check_storage_on_every_node(storage: str, *, given: bool) -> bool:
    """On a cluster of several nodes, every node must read a file the driver wrote under
    `storage` and write its own (Tune's trials save their checkpoints there). BadValue (one
    line) naming the node that cannot; True when a node did not answer in time (not checked)."""
    nodes = [node for node in ray.nodes() if node["Alive"]]
    if len(nodes) < 2:
        return False
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
        return True
    finally:
        storage_io.delete_probe(storage, probe)
    for node, answer in zip(nodes, answers):
        if answer is not None:
            shown = storage if given else f"{storage} (the default, inside the study folder)"
            raise BadValue(
                "--storage",
                shown,
                "storage every node can write: pass --storage s3://bucket/prefix (or gs://..., or a"
                " folder every node mounts)",
                problem=f"cannot be written from node {node['NodeManagerAddress']} ({node['NodeID'][:8]}:"
                f" {answer})",
            )
    return False


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


def _write_reference(out: dict, study: Study) -> ReferenceEnded:
    failed = out["failure"] is not None
    write_trial(
        study.paths,
        name=study.name,
        spec=study.spec,
        trial_id=REFERENCE_ID,
        phase=REFERENCE,
        status=FAILED if failed else FINISHED,
        error=out["failure"],
        values=axis_values(reference_values()),
        curves=out["rows"],
        device=out["device"],
    )
    score = None if failed else objective(out["rows"], study.spec.objective)
    return ReferenceEnded(REFERENCE_ID, REFERENCE_PRESET, out["failure"], score)


def _clean_temp_files(paths: StudyPaths) -> None:
    """Remove half-written temp files a killed driver left (never under a final name)."""
    for folder in (paths.trials, paths.curves):
        for tmp in folder.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)


def _ray_storage(study: Study) -> str:
    """Where Tune keeps a new study's experiment: STORAGE/NAME with --storage, else the study
    folder (a resumed study keeps its own, in its study.json)."""
    given = study.resources.storage
    return storage_io.join(given, study.name) if given else str(study.paths.root)


def _begin_meta(study: Study, *, storage: str, saved: StudyRecord | None) -> StudyRecord:
    """Write study.json: a new one, or `saved` (a resumed study's) with this resume added."""
    spec, paths = study.spec, study.paths
    paths.trials.mkdir(exist_ok=True)
    paths.curves.mkdir(exist_ok=True)
    if saved is not None:
        entry = {"command": study.command, "at": _now(), "git_commit": export.git_commit()}
        meta = saved.resume(entry)
    else:
        meta = StudyRecord.of_spec(
            name=study.name,
            spec=spec.to_json(),
            search_space=describe(spec.space),
            ray_storage=storage,
            ray_experiment=storage_io.join(storage, EXPERIMENT),
            copy=storage if storage != str(paths.root) else None,  # with --storage: study.mirror
            folder=str(paths.root),
            details={
                "command": study.command,
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
