"""What a study is (`StudySpec`) and how to run it (`Resources`), validated before Ray starts.

Every check raises `ValueError` with one line naming the option, the bad value and what is allowed.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from contract.layout import StudyPaths
from contract.schema import integer_task
from study.space import DEFAULT_RANGES, SPEED_AXES, SPEED_RANGES
from trainable.config import BASELINES, ENCODINGS, REWARD_SCALES
from trainable.contexts import DEFAULT_HOLDOUT
from trainable.runs import default_budget
from trainable.schedules import SCHEDULES

AXES = {
    "encodings": ENCODINGS,
    "baselines": BASELINES,
    "reward_scales": REWARD_SCALES,
    "lr_schedules": SCHEDULES,
    "entropy_schedules": SCHEDULES,
}
# What a study searches unless told: every value but two kinds, on evidence. The raw-scalar
# encodings never passed 0.12 at n=100 (the first study and this round's pilots, 64 trials): one
# input line cut into a few ReLU pieces cannot give 100 inputs 100 outputs. And of 1005 trials in
# this round's pilot studies (300k-500k samples at n=100), every one of the 55 configs that passed
# 0.95 at n=100 standardized its advantages; the best of 653 with raw, range or gap scaling was
# 0.77, and TPE spent whole studies on their plateaus. Those scales leave the advantages in units
# that change with n and with the policy's spread, so no one entropy coefficient means the same
# at n=10 and n=100. The forum reference run keeps scalar + raw in every study;
# `--encodings` / `--reward-scales` search the rest. The entropy bonus is held constant unless
# `--entropy-schedules` asks: annealing it is what lets n=1000 learn (docs/FINDINGS.md), but at
# n <= 100 the search finds its winners without it, and each axis thins 100 trials further.
DEFAULT_AXES = {
    **AXES,
    "encodings": tuple(e for e in ENCODINGS if not e.startswith("scalar")),
    "reward_scales": ("standardize",),
    "entropy_schedules": ("constant",),
}
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
ADDRESS_PATTERN = re.compile(r"^(auto|[^\s:/]+:\d+)$")
_SUFFIX = {"k": 1_000, "m": 1_000_000}
_BUDGET_HELP = (
    "a positive integer (200000, 200k, 3M) or per-task pairs such as 10=200000,100=3000000,digits=1M"
)
# asha: Tune's ASHA stops the weaker trials early; fifo: every trial trains its whole budget
SCHEDULERS = ("asha", "fifo")


@dataclass(frozen=True)
class StudySpec:
    """Everything that defines a study's results; saved in study.json and fixed on --resume.

    Its tasks are the integer bandit at each n, then each context set; `sample_budget` is keyed
    by task ("10", "digits")."""

    ns: tuple[int, ...]
    seeds: tuple[int, ...]
    sample_budget: dict[str, int]
    reports: int
    trials: int
    reward: str
    search_seed: int
    axes: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_AXES))
    warm_start: bool = False  # True: the first trial is the trainer's defaults
    contexts: tuple[str, ...] = ()
    holdout: float = DEFAULT_HOLDOUT
    # lr and entropy_coef: (low, high) on a log scale; batch_size, hidden, group_size: the choices
    ranges: dict[str, tuple] = field(default_factory=lambda: dict(DEFAULT_RANGES))
    scheduler: str = "asha"  # one of SCHEDULERS
    objective: str = "hold"  # one of study.objective.OBJECTIVES

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
            # studies from before the schedule axes trained at a constant lr and entropy bonus
            axes={
                "lr_schedules": ("constant",),
                "entropy_schedules": ("constant",),
                **{k: tuple(v) for k, v in d["axes"].items()},
            },
            warm_start=d.get("warm_start", True),
            contexts=tuple(d.get("contexts", ())),
            holdout=d.get("holdout", DEFAULT_HOLDOUT),
            ranges={key: tuple(d.get("ranges", {}).get(key, v)) for key, v in DEFAULT_RANGES.items()},
            scheduler=d.get("scheduler", "asha"),
            objective=d.get("objective", "hold"),
        )


@dataclass(frozen=True)
class Resources:
    """Where and on what a study runs (may change between a run and its --resume)."""

    gpus_per_trial: float
    cpus_per_trial: float
    address: str | None  # None: an embedded Ray (RAY_ADDRESS if set, else a new local one)
    storage: str | None  # Ray's experiment folder (e.g. s3://...); None: inside the study folder
    max_concurrent: int | None = None  # trials at once; None: as many as the cluster holds
    py_modules: tuple[str, ...] = ()  # user code shipped to every node (on a cluster)


def check(ok: bool, option: str, value, allowed: str) -> None:
    if not ok:
        raise ValueError(f"{option} {value!r} is not allowed; expected {allowed}")


def parse_budget(text: str, tasks: tuple[str, ...], *, study: bool) -> dict[str, int]:
    """'200k' -> every task; '10=200000,digits=1M' -> those tasks (others keep their default
    budget: a study's with `study`, else the trainer's; trainable.runs.default_budget)."""
    budgets = {task: default_budget(task, study=study) for task in tasks}
    text = text.strip()
    if "=" not in text:
        value = _count(text)
        check(value is not None, "--sample-budget", text, _BUDGET_HELP)
        return dict.fromkeys(tasks, value)
    for part in text.split(","):
        key, sep, raw = part.rpartition("=")
        value = _count(raw)
        check(bool(sep) and bool(key.strip()) and value is not None, "--sample-budget", text, _BUDGET_HELP)
        check(
            key.strip() in tasks,
            "--sample-budget",
            text,
            f"budgets only for the study's tasks ({', '.join(tasks)})",
        )
        budgets[key.strip()] = value
    return budgets


def _count(text: str) -> int | None:
    """'3M' -> 3000000; None unless a positive whole count."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*", text)
    if not match:
        return None
    value = float(match.group(1)) * _SUFFIX.get(match.group(2).lower(), 1)
    return int(value) if value >= 1 and value == int(value) else None


def check_axes(axes: dict[str, list[str] | None]) -> dict[str, tuple[str, ...]]:
    """The values each axis may take (DEFAULT_AXES unless restricted); unknown values are
    refused."""
    out = {}
    for axis, allowed in AXES.items():
        chosen = axes.get(axis) or list(DEFAULT_AXES[axis])
        for value in chosen:
            check(value in allowed, "--" + axis.replace("_", "-"), value, "one of " + ", ".join(allowed))
        check(
            len(set(chosen)) == len(chosen),
            "--" + axis.replace("_", "-"),
            " ".join(chosen),
            "distinct values",
        )
        out[axis] = tuple(chosen)
    return out


RANGE_OPTIONS = {
    "lr": "--lr-range",
    "entropy_coef": "--entropy-range",
    "batch_size": "--batch-sizes",
    "hidden": "--hidden-sizes",
    "group_size": "--group-sizes",
    "output_init": "--output-inits",
    "adam_beta1": "--adam-beta1s",
    "adam_beta2": "--adam-beta2s",
    "update_epochs": "--update-epochs",
}
# The speed knobs' allowed values: (test, what is allowed)
_SPEED_CHECKS = {
    "output_init": (lambda v: v >= 0, "numbers >= 0"),
    "adam_beta1": (lambda v: 0 <= v < 1, "numbers in [0, 1)"),
    "adam_beta2": (lambda v: 0 <= v < 1, "numbers in [0, 1)"),
    "update_epochs": (lambda v: v >= 1, "integers >= 1"),
}


def default_ranges(objective: str) -> dict[str, tuple]:
    """The numeric space a study searches unless told: SPEED_RANGES for the speed objective."""
    return dict(SPEED_RANGES if objective == "speed" else DEFAULT_RANGES)


def check_ranges(
    ranges: dict[str, list | None], defaults: dict[str, tuple] = DEFAULT_RANGES
) -> dict[str, tuple]:
    """The numeric space (`defaults` where not given): lr and entropy_coef as LOW HIGH with
    0 < LOW <= HIGH (LOW = HIGH fixes the value), sizes as distinct positive integers, the speed
    knobs as distinct values (one value holds it); every group size must divide every batch
    size (a batch is whole groups)."""
    out = {}
    for key, default in defaults.items():
        option, chosen = RANGE_OPTIONS[key], ranges.get(key)
        if chosen is None:
            out[key] = tuple(default)
            continue
        shown = " ".join(f"{v:g}" for v in chosen)
        if key in ("lr", "entropy_coef"):
            low, high = chosen
            check(0 < low <= high, option, shown, "LOW HIGH with 0 < LOW <= HIGH (log scale)")
        elif key in SPEED_AXES:
            ok, allowed = _SPEED_CHECKS[key]
            check(all(ok(v) for v in chosen), option, shown, allowed)
            check(len(set(chosen)) == len(chosen), option, shown, "distinct values")
        else:
            least = 2 if key == "group_size" else 1
            check(all(v >= least for v in chosen), option, shown, f"integers >= {least}")
            check(len(set(chosen)) == len(chosen), option, shown, "distinct values")
        out[key] = tuple(chosen)
    bad = [g for g in out["group_size"] if any(b % g for b in out["batch_size"])]
    check(
        not bad,
        "--group-sizes",
        " ".join(map(str, out["group_size"])),
        "divisors of every batch size (" + " ".join(map(str, out["batch_size"])) + ")",
    )
    return out


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


def prepare_folder(results: str, name: str, *, resume: bool) -> StudyPaths:
    """The study folder: refused if it exists without --resume (or is missing with it)."""
    check(
        bool(NAME_PATTERN.match(name)),
        "--name",
        name,
        "letters, digits, '_', '.' and '-', starting with a letter or digit",
    )
    root = Path(results).expanduser().resolve()
    paths = StudyPaths(root / name)
    if resume:
        check(
            paths.study_json.is_file(),
            "--resume --name",
            name,
            f"an existing study under {root} (no study.json in {paths.root})",
        )
        check_writable(paths.root, "--results", results)
        return paths
    check(
        not paths.root.exists(),
        "--name",
        name,
        f"a new study name: {paths.root} exists (add --resume to continue it)",
    )
    try:
        paths.root.mkdir(parents=True)
    except OSError as error:
        raise ValueError(
            f"--results {results!r} is not writable ({error.strerror}); expected a folder this user can write"
        ) from None
    check_writable(paths.root, "--results", results)
    return paths


def check_writable(folder: Path, option: str, value: str) -> None:
    """ValueError unless this user can create files in `folder` (made if missing)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".probe-"):
            pass
    except OSError as error:
        raise ValueError(
            f"{option} {value!r} is not writable ({error.strerror}); expected a folder this user can write"
        ) from None


def load_saved_spec(paths: StudyPaths) -> tuple[StudySpec, dict]:
    """The spec and the study.json of an existing study."""
    meta = json.loads(paths.study_json.read_text())
    return StudySpec.from_json(meta["spec"]), meta
