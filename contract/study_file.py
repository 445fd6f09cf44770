"""study.json: a study's record (what it searched, where Tune keeps it, when it ran), written and
read only here.

Version 2 writes `version`; a file without it (version 1, written before) reads the same way: a key
it lacks takes what a study of its time ran with (tasks from `n`, the TPE sampler, ASHA, the hold
objective, no spec in the oldest files). The study's definition is `spec` (study.spec.StudySpec as
JSON); the top-level copies of its tasks, seeds and search settings are written for older readers
and read only where a file has no spec.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

from contract.schema import integer_task, is_integer_task
from contract.write import write_json_atomic

VERSION = 2
# Keys read into fields; every other key of a file is kept in `details` and written back as it was.
_FIELDS = (
    "version",
    "name",
    "spec",
    "n",
    "tasks",
    "contexts",
    "holdout",
    "seeds",
    "reports",
    "search_seed",
    "sampler",
    "search_space",
    "supervised",
    "ray_storage",
    "ray_experiment",
    "copy",
    "folder",
    "ended",
    "resumed",
)


@dataclass(frozen=True)
class StudyRecord:
    name: str
    spec: dict = field(default_factory=dict)  # study.spec.StudySpec as JSON; {} in the oldest files
    tasks: tuple[str, ...] = ()  # integer bandits ("10") then context sets
    seeds: tuple[int, ...] = ()
    holdout: float | None = None  # a context set's held-out share
    reports: int | None = None
    search_seed: int | None = None  # None: a study from before the seed was recorded
    sampler: str = "tpe"
    scheduler: str = "asha"
    objective: str = "hold"
    search_space: dict = field(default_factory=dict)  # study.space.describe: {axis: values}
    supervised: dict = field(default_factory=dict)  # {context set: the supervised reference}
    ray_storage: str | None = None  # where Tune keeps the experiment
    ray_experiment: str | None = None
    copy: str | None = None  # with --storage: where study.mirror copies the results
    folder: str | None = None  # the folder the study ran in (Tune and Optuna keep that path)
    ended: str | None = None  # None while it runs or after it was interrupted
    resumed: tuple[dict, ...] = ()  # one entry per --resume: command, at, git_commit
    details: dict = field(default_factory=dict)  # the rest as written: command, versions, started, ...
    version: int = VERSION

    @property
    def ns(self) -> tuple[int, ...]:
        return tuple(int(t) for t in self.tasks if is_integer_task(t))

    @property
    def contexts(self) -> tuple[str, ...]:
        return tuple(t for t in self.tasks if not is_integer_task(t))

    @classmethod
    def of_spec(cls, *, name: str, spec: dict, **fields) -> StudyRecord:
        """A new study's record: its tasks, seeds and search settings from `spec` (StudySpec's JSON)."""
        tasks = (*map(integer_task, spec["ns"]), *spec["contexts"])
        copied = ("holdout", "reports", "search_seed", "sampler", "scheduler", "objective")
        copied = {k: spec[k] for k in copied}
        return cls(name=name, spec=spec, tasks=tasks, seeds=tuple(spec["seeds"]), **copied, **fields)

    def resume(self, entry: dict) -> StudyRecord:
        """This record with one more --resume (`entry`: command, at, git_commit), running again."""
        return replace(self, resumed=(*self.resumed, entry), ended=None)

    def to_json(self) -> dict:
        d = {"version": self.version, "name": self.name, **self.details, "search_space": self.search_space}
        d |= {"n": list(self.ns), "tasks": list(self.tasks), "contexts": list(self.contexts)}
        d |= {"holdout": self.holdout, "seeds": list(self.seeds), "reports": self.reports}
        d |= {"search_seed": self.search_seed, "sampler": self.sampler, "ended": self.ended}
        d |= {"ray_storage": self.ray_storage, "ray_experiment": self.ray_experiment, "copy": self.copy}
        d |= {"folder": self.folder, "spec": self.spec}
        d |= {"resumed": list(self.resumed)} if self.resumed else {}
        return d | ({"supervised": self.supervised} if self.supervised else {})

    @classmethod
    def from_json(cls, d: dict) -> StudyRecord:
        """A record from a file's JSON, of this version or an older one. ValueError when `d` is
        not a study's record (not an object, or a version newer than this code reads)."""
        if not isinstance(d, dict):
            raise ValueError("not a JSON object")
        version = d.get("version", 1)
        if not isinstance(version, int) or version > VERSION:
            raise ValueError(f"version {version!r}; this banditune reads versions 1 to {VERSION}")
        spec = d.get("spec") if isinstance(d.get("spec"), dict) else {}
        given = {**d, **spec}  # the spec where a file has it, else the top-level copies
        ns = given.get("ns") or d.get("n") or []
        tasks = d.get("tasks") or [*map(integer_task, ns), *(given.get("contexts") or [])]
        return cls(
            name=str(d.get("name") or ""),
            spec=spec,
            tasks=tuple(str(t) for t in tasks),
            seeds=tuple(given.get("seeds") or ()),
            holdout=given.get("holdout"),
            reports=given.get("reports"),
            search_seed=given.get("search_seed"),
            sampler=given.get("sampler") or "tpe",
            scheduler=spec.get("scheduler") or "asha",
            objective=spec.get("objective") or "hold",
            search_space=d.get("search_space") if isinstance(d.get("search_space"), dict) else {},
            supervised=dict(d.get("supervised") or {}),
            ray_storage=d.get("ray_storage"),
            ray_experiment=d.get("ray_experiment"),
            copy=d.get("copy"),
            folder=d.get("folder"),
            ended=d.get("ended"),
            resumed=tuple(d.get("resumed") or ()),
            details={k: v for k, v in d.items() if k not in _FIELDS},
            version=VERSION,
        )


def read_record(text: str | bytes) -> StudyRecord:
    """A study.json's text as a record; ValueError when it is not one."""
    return StudyRecord.from_json(json.loads(text))


def load_record(path: Path) -> StudyRecord:
    """The record in the study.json at `path`; OSError or ValueError when it cannot be read."""
    return read_record(path.read_text())


def write_record(record: StudyRecord, path: Path) -> None:
    """Write `record` to study.json at `path` (temp file, then rename)."""
    write_json_atomic(record.to_json(), path)
