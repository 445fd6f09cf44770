"""What a study is (`StudySpec`), how to run it (`Resources`) and the two with its name and folder
(`Study`), validated before Ray starts; the study's defaults (the fields' defaults here, which
the command line's options and help read).

Every check raises contract.errors.BadValue: the option, the bad value and what is allowed.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path

from contract.errors import BadValue, check
from contract.layout import StudyPaths
from contract.schema import integer_task
from contract.study_file import StudyRecord, load_record
from study import mirror
from study import storage as storage_io
from study.axes import AXES, LOG, default_space
from trainable.defaults import DEFAULT_HOLDOUT

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
ADDRESS_PATTERN = re.compile(r"^(auto|[^\s:/]+:\d+)$")
# asha: Tune's ASHA stops the weaker trials early; fifo: every trial trains its whole budget
SCHEDULERS = ("asha", "fifo", "pbt")
# Optuna's samplers that handle the space's categorical and conditional axes (study.search.sampler)
SAMPLERS = ("tpe", "random", "qmc", "gp")
DEFAULT_NAME = "study"  # the study's folder under DEFAULT_RESULTS
DEFAULT_RESULTS = "results"
DEFAULT_NS = (10, 100)  # none when a study has context sets alone
DEFAULT_NUM_SEEDS = 5


@dataclass(frozen=True)
class StudySpec:
    """Everything that defines a study's results; saved in study.json and fixed on --resume.

    Its tasks are the integer bandit at each n, then each context set; `sample_budget` is keyed
    by task ("10", "digits")."""

    ns: tuple[int, ...]
    seeds: tuple[int, ...]  # 0..DEFAULT_NUM_SEEDS-1 by default
    sample_budget: dict[str, int]  # by default trainable.config.default_budget(task, study=True)
    reports: int = 10
    trials: int = 100
    reward: str = "abs"
    search_seed: int = 0
    # {axis: the values searched, or (low, high) on a log scale} (study.axes, study.space)
    space: dict[str, tuple] = field(default_factory=default_space)
    warm_start: bool = False  # True: the first trial is the trainer's defaults
    contexts: tuple[str, ...] = ()
    holdout: float = DEFAULT_HOLDOUT
    scheduler: str = "asha"  # one of SCHEDULERS
    objective: str = "hold"  # one of study.objective.OBJECTIVES
    sampler: str = "tpe"  # one of SAMPLERS, seeded by search_seed

    @property
    def tasks(self) -> tuple[str, ...]:
        return (*map(integer_task, self.ns), *self.contexts)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict) -> StudySpec:
        return cls(
            ns=tuple(d["ns"]),
            seeds=tuple(d["seeds"]),
            sample_budget={str(task): int(b) for task, b in d["sample_budget"].items()},
            reports=d["reports"],
            trials=d["trials"],
            reward=d["reward"],
            search_seed=d["search_seed"],
            space=_saved_space(d),
            warm_start=d.get("warm_start", True),  # studies from before the option had it
            contexts=tuple(d.get("contexts", ())),
            **{key: d.get(key, default(key)) for key in ("holdout", "scheduler", "objective", "sampler")},
        )


def default(name: str):
    """The default of StudySpec's field `name` (or Resources')."""
    for kind in (StudySpec, Resources):
        for f in fields(kind):
            if f.name == name and f.default is not MISSING:
                return f.default
    raise KeyError(name)


def _saved_space(d: dict) -> dict[str, tuple]:
    """The space of a saved spec. Older study.json files keep the categories under plural names in
    `axes` and the numbers in `ranges` (or neither: the default space); a category or choice
    axis added since held the value its row calls absent (a constant schedule, the trainer's
    default knob)."""
    saved = d.get("space") or {
        **{name.removesuffix("s"): values for name, values in d["axes"].items()},
        **d.get("ranges", {}),
    }

    def before(axis) -> tuple:
        return axis.default if axis.knob.older is None or axis.kind == LOG else (axis.knob.older,)

    return {a.name: tuple(saved.get(a.name, before(a))) for a in AXES}


@dataclass(frozen=True)
class Resources:
    """Where and on what a study runs (may change between a run and its --resume)."""

    gpus_per_trial: float = 0.25  # a trial's GPU share where the cluster has GPUs
    cpus_per_trial: float = 1.0
    address: str | None = None  # None: an embedded Ray (RAY_ADDRESS if set, else a new local one)
    storage: str | None = None  # Ray's experiment folder (e.g. s3://...); None: in the study folder
    max_concurrent: int | None = None  # trials at once; None: as many as the cluster holds
    py_modules: tuple[str, ...] = ()  # user code shipped to every node (on a cluster)


@dataclass(frozen=True)
class Study:
    """One study as the command line checked it and the driver (study.ray_runner) runs it."""

    name: str
    spec: StudySpec
    paths: StudyPaths
    resources: Resources
    resume: bool = False
    command: str = ""  # the command line as given, for study.json


def check_resources(
    *,
    gpus_per_trial: float,
    cpus_per_trial: float,
    address: str | None,
    storage: str | None,
    max_concurrent: int | None,
) -> Resources:
    check(
        gpus_per_trial >= 0 and (gpus_per_trial <= 1 or gpus_per_trial.is_integer()),
        "--gpus-per-trial",
        gpus_per_trial,
        "a fraction in [0, 1] (0.25 packs four trials on a GPU) or a whole number of GPUs",
    )
    check(cpus_per_trial > 0, "--cpus-per-trial", cpus_per_trial, "a number > 0")
    if max_concurrent is not None:
        check(max_concurrent >= 1, "--max-concurrent", max_concurrent, "an integer >= 1")
    # Without --address, ray.init joins RAY_ADDRESS if set. Ray Client (ray://) would run Tune,
    # and so the result writer, on the head node, away from --results on this machine.
    option, joined = ("--address", address) if address else ("RAY_ADDRESS", os.environ.get("RAY_ADDRESS", ""))
    check(
        not joined.startswith("ray://"),
        option,
        joined,
        "auto or HOST:PORT; for a remote cluster run `ray job submit --address"
        " http://HEAD:8265 -- banditune study ... --address auto`",
    )
    if address is not None:
        check(bool(ADDRESS_PATTERN.match(address)), "--address", address, "auto or HOST:PORT")
    if storage is not None:
        check(
            "://" in storage or os.path.isabs(storage),
            "--storage",
            storage,
            "an absolute path or a URI such as s3://bucket/prefix",
        )
    return Resources(
        gpus_per_trial=gpus_per_trial,
        cpus_per_trial=cpus_per_trial,
        address=address,
        storage=storage,
        max_concurrent=max_concurrent,
    )


def prepare_folder(
    results: str, name: str, *, resume: bool, storage: str | None = None
) -> tuple[StudyPaths, int]:
    """The study folder, and how many files were fetched into it: refused if it exists without
    --resume (or is missing with it). On --resume, a study missing here is fetched from its copy
    under `storage` (--storage)."""
    check(
        bool(NAME_PATTERN.match(name)),
        "--name",
        name,
        "letters, digits, '_', '.' and '-', starting with a letter or digit",
    )
    root = Path(results).expanduser().resolve()
    paths, fetched = StudyPaths(root / name), 0
    if resume:
        if not paths.study_json.is_file() and storage is not None:
            storage_io.check_writable(storage, option="--storage", shown=storage)
            fetched = _fetch_study(paths, storage_io.join(storage, name), name=name, results=results)
        check(
            paths.study_json.is_file(),
            "--resume --name",
            name,
            f"an existing study under {root} (no study.json in {paths.root}; a study run with"
            " --storage URI is also fetched from URI/NAME with --storage URI)",
        )
        _check_folder(load_record(paths.study_json), paths, results=results)
        check_writable(paths.root, "--results", results)
        return paths, fetched
    check(
        not paths.root.exists(),
        "--name",
        name,
        f"a new study name: {paths.root} exists (add --resume to continue it)",
    )
    check_writable(paths.root, "--results", results)
    return paths, fetched


def _fetch_study(paths: StudyPaths, copy: str, *, name: str, results: str) -> int:
    """Bring the study's copy at `copy` (study.mirror) into `paths.root`: the files fetched.
    ValueError (one line) naming both places when neither holds the study, or where it ran."""
    meta = mirror.stored_meta(copy)
    check(
        meta is not None,
        "--resume --name",
        name,
        f"a study in --results or in --storage: neither {paths.study_json} nor"
        f" {storage_io.join(copy, 'study.json')} exists",
    )
    _check_folder(meta, paths, results=results)
    return mirror.fetch(copy, paths.root)


def _check_folder(meta: StudyRecord, paths: StudyPaths, *, results: str) -> None:
    """A study resumes in the folder it ran in: Tune's saved callbacks and Optuna's journal
    keep that path (studies from before study.json's "folder" resume anywhere)."""
    ran_in = meta.folder or str(paths.root)
    check(
        ran_in == str(paths.root),
        "--results",
        results,
        f"{os.path.dirname(ran_in)}, where the study ran: its Tune experiment and Optuna journal"
        " keep that path",
    )


def check_writable(folder: Path, option: str, value: str) -> None:
    """BadValue unless this user can create files in `folder` (made if missing)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".probe-"):
            pass
    except OSError as error:
        raise BadValue(
            option, value, "a folder this user can write", problem=f"not writable ({error.strerror})"
        ) from None


def load_saved_spec(paths: StudyPaths) -> tuple[StudySpec, StudyRecord]:
    """The spec and the study.json of an existing study."""
    record = load_record(paths.study_json)
    return StudySpec.from_json(record.spec), record
