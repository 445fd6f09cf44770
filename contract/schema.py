"""The Parquet schemas of a study, their columns and the names that fill them.

trials/<id>.parquet: one row per (task, seed) of a trial, its final metrics and its config;
curves/<id>.parquet: one row per (task, seed, report); diagnose.parquet: one row per
(variant, task, seed). A task is the integer bandit at n (task "10", "100") or a context set
("digits", "package.module:function"; n is then its number of actions). Every metric is per seed;
`stuck` counts the inputs whose greedy action is wrong while the policy puts >= 0.9 on it;
`heldout_exact_match` is a context set's exact match on its held-out contexts (null for the
integer bandit), and the score a context set is judged by.
"""

from __future__ import annotations

import pyarrow as pa

from contract.knobs import AXIS, KNOBS, RUN, SETTING
from contract.knobs import BY_NAME as KNOB

THRESHOLD = 0.95  # exact match a config must reach (its interval's lower bound) to win

PHASES = ("search", "reference", "confirm")
SEARCH, REFERENCE, CONFIRM = PHASES
STATUSES = ("finished", "stopped_early", "failed")
FINISHED, STOPPED_EARLY, FAILED = STATUSES
COMPETING = (FINISHED, STOPPED_EARLY)  # statuses whose rows are scored
REFERENCE_ID = "reference"  # trial_id of the forum preset's run beside the search
CONFIRM_PREFIX = "confirm-"  # file name prefix of a confirmation: confirm-<trial_id>.parquet

# The knobs a search point sets (contract.knobs' role AXIS, in its order), then the config columns
# (the reward besides them).
AXIS_COLUMNS = tuple(k.name for k in KNOBS if k.role == AXIS)
CONFIG_COLUMNS = ("reward", *AXIS_COLUMNS)
CATEGORICAL = tuple(c for c in CONFIG_COLUMNS if KNOB[c].type is str)
SCHEDULE_COLUMNS = ("lr_schedule", "entropy_schedule")  # constant in files written before their axis
# Every config column null in files written before its knob, and the value it is read as there.
OLDER_VALUES = {c: KNOB[c].older for c in CONFIG_COLUMNS if KNOB[c].older is not None}
# Those read as the trainer's default there (the speed knobs, policy): a best config names them only
# where they differ.
LATER_COLUMNS = {c: v for c, v in OLDER_VALUES.items() if v == KNOB[c].default}
INTEGER_ONLY = ("encoding",)  # axes that only the integer bandit reads (a context set: its features)
HELDOUT_METRIC = "heldout_exact_match"  # a context set's score; the integer bandit's is exact_match

# Per-seed metrics of one evaluation (trainable.Metrics), in curve rows and trial rows.
CURVE_METRICS = (
    "exact_match",
    "p_correct",
    "mae",
    "regret",
    "entropy",
    "distinct_actions",
    "stuck",
    "reward_mean",
)
COUNT_METRICS = ("distinct_actions", "stuck")
# samples_to_95 and samples_to_99: the samples at a run's first evaluation at or above these exact
# matches (null: not yet). The trainer computes them (trainable.Metrics); curve rows carry them in a
# study's memory and checkpoints (not in the curve files) and a trial row takes its last report's.
REACHED = {"samples_to_95": 0.95, "samples_to_99": 0.99}
FINAL_METRICS = (*CURVE_METRICS, "samples", "wall_s", "samples_per_s")

_ARROW = {int: pa.int64(), float: pa.float64(), str: pa.string()}
_TYPES = {
    "study": pa.string(),
    "trial_id": pa.string(),
    "phase": pa.string(),
    "status": pa.string(),
    "error": pa.string(),
    "horizon": pa.string(),
    "task": pa.string(),
    "n": pa.int64(),
    "seed": pa.int64(),
    "report": pa.int64(),
    "samples": pa.int64(),
    "sample_budget": pa.int64(),
    "samples_to_95": pa.int64(),
    "samples_to_99": pa.int64(),
    "best_exact_match": pa.float64(),
    "auc_exact_match": pa.float64(),
    "wall_s": pa.float64(),
    "samples_per_s": pa.float64(),
    "objective": pa.float64(),
    "device": pa.string(),
    **{k.name: _ARROW[k.type] for k in KNOBS if k.role != RUN},
    "torch_version": pa.string(),
    "ray_version": pa.string(),
    "optuna_version": pa.string(),
    "git_commit": pa.string(),
    "variant": pa.string(),
    "changed": pa.string(),
    **{m: (pa.int64() if m in COUNT_METRICS else pa.float64()) for m in CURVE_METRICS},
    HELDOUT_METRIC: pa.float64(),
}
PROVENANCE = ("device", "torch_version", "ray_version", "optuna_version", "git_commit")
TRIAL_COLUMNS = (
    "study",
    "trial_id",
    "phase",
    "horizon",
    "status",
    "error",
    "task",
    "n",
    "seed",
    *CONFIG_COLUMNS,
    "sample_budget",
    *FINAL_METRICS,
    HELDOUT_METRIC,
    "samples_to_95",
    "samples_to_99",
    "best_exact_match",
    "auc_exact_match",
    "objective",
    *PROVENANCE,
)
CURVE_COLUMNS = (
    "study",
    "trial_id",
    "phase",
    "horizon",
    "task",
    "n",
    "seed",
    "report",
    "samples",
    *CURVE_METRICS,
    HELDOUT_METRIC,
    "wall_s",
    "samples_per_s",
    "lr",  # the base lr and entropy bonus this report trained with (a PBT trial changes them)
    "entropy_coef",
)


def integer_task(n: int) -> str:
    """The task id of the integer bandit at n (also what files written before tasks hold)."""
    return str(int(n))


def is_integer_task(task: str) -> bool:
    return task.isdigit()


def task_label(task: str, *, compact: bool = False) -> str:
    """'n = 100' ('n=100' `compact`: table headers, progress lines) for the integer bandit, the
    context set's name otherwise."""
    if not is_integer_task(task):
        return task
    return f"n={task}" if compact else f"n = {task}"


def scored(rows):
    """What a run is judged by: held-out exact match on a context set, else exact match. `rows`:
    one row (a dict: its score) or a pandas DataFrame of rows (a Series: each row's score)."""
    if isinstance(rows, dict):
        heldout = rows.get(HELDOUT_METRIC)
        return rows["exact_match"] if heldout is None else heldout
    return rows[HELDOUT_METRIC].fillna(rows["exact_match"])


def schema(columns) -> pa.Schema:
    return pa.schema([(c, _TYPES[c]) for c in columns])


# diagnose.parquet: a variant's settings are every knob but the run's (contract.knobs), the reward
# and device first.
_SETTINGS = tuple(k.name for k in KNOBS if k.role == SETTING)  # reward and device first
DIAGNOSE_SETTINGS = (*_SETTINGS[:2], *AXIS_COLUMNS, *_SETTINGS[2:])
# A diagnose run's final metrics, per seed (null where the run diverged).
DIAGNOSE_METRICS = (
    "exact_match",
    HELDOUT_METRIC,
    "p_correct",
    "distinct_actions",
    "stuck",
    "samples_to_95",
    "best_exact_match",
    "mae",
    "samples",
)
DIAGNOSE_COLUMNS = (
    "variant",
    "changed",
    "task",
    "n",
    "seed",
    *DIAGNOSE_METRICS,
    "sample_budget",
    "wall_s",
    "error",
    *DIAGNOSE_SETTINGS,
    "git_commit",
)

TRIAL_SCHEMA = schema(TRIAL_COLUMNS)
CURVE_SCHEMA = schema(CURVE_COLUMNS)
TRIAL_REQUIRED = frozenset(
    {"trial_id", "phase", "status", "n", "seed", *CONFIG_COLUMNS, "exact_match", "distinct_actions"}
) - set(OLDER_VALUES)  # null in older files, read as OLDER_VALUES
CURVE_REQUIRED = frozenset({"trial_id", "phase", "n", "seed", "report", "samples", "exact_match"})
DIAGNOSE_SCHEMA = schema(DIAGNOSE_COLUMNS)
DIAGNOSE_REQUIRED = frozenset({"variant", "n", "seed", "exact_match", "p_correct"})


def config_table() -> str:
    """The config columns as docs/results.md's table of them (`python -m contract.schema` prints
    it): each knob's type, meaning, allowed values, and the value older files are read as."""
    types = {int: "int64", float: "float64", str: "string"}
    lines = ["| column | type | meaning |", "|---|---|---|"]
    for name in CONFIG_COLUMNS:
        knob = KNOB[name]
        meaning = f"{knob.help}: {knob.allows}" if knob.choices else knob.help
        if knob.when_baseline_in:
            meaning += f"; 1 where the baseline is not {' or '.join(knob.when_baseline_in)}"
        if knob.older is not None:
            meaning += f"; {knob.older} in files written before it"
        meaning = meaning.replace("|", "\\|")
        lines.append(f"| `{name}` | {types[knob.type]} | {meaning} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(config_table())
