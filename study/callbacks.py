"""The study's Tune callbacks, on the driver: an event when a trial starts and ends (study.events),
the Parquet files of a trial when it ends (finished, stopped by ASHA or failed: from its last
checkpoint's curve rows), and with --storage the copy of the result files in storage
(study.mirror).

Tune pickles the callbacks with its experiment and a --resume restores them: their attributes
stay as older studies saved them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ray import tune

from contract.layout import StudyPaths, is_search_file
from contract.schema import FAILED, FINISHED, SEARCH, STOPPED_EARLY
from contract.write import TrialRecord
from study.events import TrialEnded, TrialStarted
from study.mirror import Mirror
from study.space import axis_values
from study.spec import Study, StudySpec
from study.trial import load_curves, result_key, write_result


def count_search_trials(paths: StudyPaths) -> int:
    """Search trials with their files written (not the reference, not `confirm` re-runs)."""
    return sum(is_search_file(p) for p in paths.trials.glob("*.parquet"))


class ProgressLines(tune.Callback):
    """An event when a trial starts and one when it ends (Tune's own tables are off)."""

    on_event: Callable | None = None  # None in a callback pickled before events: no lines

    def __init__(self, study: Study, *, on_event: Callable):
        self.spec, self.paths, self.on_event = study.spec, study.paths, on_event

    def on_trial_start(self, iteration, trials, trial, **info):
        self._emit(TrialStarted(trial.trial_id, axis_values(trial.config)))

    def on_trial_complete(self, iteration, trials, trial, **info):
        self._ended(trial, errored=False)

    def on_trial_error(self, iteration, trials, trial, **info):
        self._ended(trial, errored=True)

    def _ended(self, trial, *, errored: bool) -> None:
        result = trial.last_result or {}
        nan = float("nan")
        self._emit(
            TrialEnded(
                trial_id=trial.trial_id,
                errored=errored,
                reports_done=result.get("reports_done", 0),
                objective=result.get("objective", nan),
                exact_match={t: result.get(f"exact_match_{result_key(t)}", nan) for t in self.spec.tasks},
                failure=result["failure"] if result.get("failed") else None,
                done=count_search_trials(self.paths),
            )
        )

    def _emit(self, event) -> None:
        if self.on_event is not None:
            self.on_event(event)


class StorageCopy(tune.Callback):
    """Sends the study's new result files to its copy in storage (study.mirror) when a trial
    ends, before its end is printed, and whenever Tune snapshots its experiment (`get_state`
    runs just before the snapshot goes to storage): the copy's journal is never older than the
    snapshot a --resume restores."""

    def __init__(self, copy: Mirror):
        self.copy = copy

    def on_trial_complete(self, iteration, trials, trial, **info):
        self.copy.sync()

    def on_trial_error(self, iteration, trials, trial, **info):
        self.copy.sync()

    def get_state(self) -> None:
        self.copy.sync()


class ParquetExport(tune.Callback):
    """Writes a trial's Parquet files when it ends: finished, stopped early (ASHA) or failed.

    A trial whose files exist is not written again (a resumed study keeps them byte for byte).
    """

    def __init__(self, study: Study):
        self.name, self.spec, self.paths = study.name, study.spec, study.paths

    def on_trial_complete(self, iteration, trials, trial, **info):
        result = trial.last_result or {}
        if result.get("failed"):
            status, error = FAILED, result.get("failure") or "failed"
        elif result.get("reports_done", 0) >= self.spec.reports:
            status, error = FINISHED, None
        else:
            status, error = STOPPED_EARLY, None
        self._write(trial, status, error, result.get("device", "unknown"))

    def on_trial_error(self, iteration, trials, trial, **info):
        result = trial.last_result or {}
        self._write(trial, FAILED, _error_line(trial), result.get("device", "unknown"))

    def _write(self, trial, status: str, error: str | None, device: str) -> None:
        if self.paths.trial_file(trial.trial_id).exists():
            return
        curves = []
        if trial.checkpoint is not None:
            with trial.checkpoint.as_directory() as folder:
                curves = load_curves(Path(folder))
        write_trial(
            self.paths,
            name=self.name,
            spec=self.spec,
            trial_id=trial.trial_id,
            phase=SEARCH,
            status=status,
            error=error,
            values=axis_values(trial.config),
            curves=curves,
            device=device,
        )


def write_trial(paths: StudyPaths, *, name: str, spec: StudySpec, **result) -> None:
    """Write a trial of the study `name`: `result` holds the TrialRecord fields `spec` does not."""
    record = TrialRecord(
        study=name,
        reward=spec.reward,
        tasks=spec.tasks,
        seeds=spec.seeds,
        sample_budget=spec.sample_budget,
        **result,
    )
    write_result(paths, record, objective_kind=spec.objective)


def _error_line(trial) -> str:
    """The last line of the error Tune recorded for `trial`."""
    path = trial.error_file
    if path and Path(path).is_file():
        lines = [line for line in Path(path).read_text().splitlines() if line.strip()]
        if lines:
            return lines[-1].strip()
    return "the trial raised an error (see Ray's experiment folder)"
