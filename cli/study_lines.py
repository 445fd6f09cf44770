"""What `banditune study` prints: a running study's events (study.events) one line each, how
it ended, and the summary of what it found.

pandas (study.summary) is imported inside print_summary: building the parser stays light.
"""

from __future__ import annotations

import dataclasses
import shlex
import sys

from contract.schema import task_label
from study import events
from study.objective import OBJECTIVE_NAMES
from study.space import progress_line
from study.spec import Study


@dataclasses.dataclass(frozen=True)
class Lines:
    """Prints a study's events (study.events), one line each. Tune pickles it with the study's
    callbacks, so a --resume prints with the one the study started with."""

    study: Study

    def __call__(self, event) -> None:
        print(self.line(event), flush=True)

    def line(self, event) -> str:
        study, spec = self.study, self.study.spec
        if isinstance(event, events.Started):
            each = ", ".join(f"{v:g} {k.upper()}" for k, v in event.per_trial.items())
            chosen = "" if event.chosen else " (all the cluster holds; --max-concurrent sets it)"
            return (
                f"study {study.name!r}: {spec.trials} trials on {', '.join(map(task_label, spec.tasks))},"
                f" {each} each, {event.at_once} at a time{chosen}; results in {study.paths.root}\n"
                f"watch it live: {watch_command(study.paths)}  (then open http://127.0.0.1:8080;"
                " pip install -e '.[watch]' installs optuna-dashboard)"
            )
        if isinstance(event, events.TrialStarted):
            return f"start {event.trial_id}: {progress_line(event.values)}"
        if isinstance(event, events.TrialEnded):
            scores = " ".join(f"{task_label(t, compact=True)}:{v:.3f}" for t, v in event.exact_match.items())
            failure = f" FAILED: {event.failure}" if event.failure is not None else ""
            return (
                f"{'errored' if event.errored else 'ended'} {event.trial_id} after {event.reports_done}/"
                f"{spec.reports} reports: objective={event.objective:.4f} exact_match {scores}{failure}"
                f"  [{event.done}/{spec.trials} trials done]"
            )
        if isinstance(event, events.ReferenceEnded):
            outcome = (
                f"FAILED: {event.failure}"
                if event.failure is not None
                else f"objective={event.objective:.4f}"
            )
            return f"ended {event.trial_id} ({event.preset} preset, outside the search): {outcome}"
        if isinstance(event, events.NodeCheckLate):
            return f"warning: a node did not answer the storage check in {event.seconds} s"
        raise TypeError(f"not a study event: {event!r}")


def watch_command(paths) -> str:
    """The command that shows the study live in a browser (optuna-dashboard reads its journal)."""
    return f"optuna-dashboard {shlex.quote(str(paths.journal))}"


def print_outcome(study: Study, outcome) -> int:
    """Print how the study ended: 0 when all its trials are done (some may have failed), 1 when
    every trial failed, 2 when the cluster cannot run it (refused before any trial starts), 130
    when interrupted."""
    if outcome.refused is not None:
        print(f"banditune study: error: {outcome.refused}", file=sys.stderr, flush=True)
        return 2
    if outcome.interrupted:
        print(
            f"\nstudy {study.name!r} interrupted with {outcome.done} of {outcome.trials} trials done;"
            f" continue it with: {study.command} --resume",
            file=sys.stderr,
        )
        return 130
    return print_summary(study)


def print_summary(study: Study) -> int:
    """Print the best configs, the trials' statuses and where the results are; the study's exit
    status: 1 when no search trial succeeded (naming the most common error), else 0."""
    from study.summary import summarize

    spec, found = study.spec, summarize(study)
    print(
        f"\nBest configs by the objective ({OBJECTIVE_NAMES[spec.objective]}), over"
        f" {', '.join(map(task_label, spec.tasks))} and {len(spec.seeds)} seeds (held-out exact"
        " match on a context set); stuck: inputs stuck on a wrong action, per seed:"
    )
    print(found.table)
    total = sum(found.counts.values())
    print(f"\n{total} trials: " + ", ".join(f"{v} {k}" for k, v in sorted(found.counts.items())))
    print(f"Results: {study.paths.root}  (trials/ and curves/ Parquet, study.json, optuna.journal)")
    if not found.failed:
        return 0
    if found.failed < total:
        print(f"{found.failed} of {total} trials failed (their rows hold the error)", flush=True)
        return 0
    count, error = found.common_error
    print(
        f"banditune study: failed during work: all {total} trials failed; the most common error"
        f" ({count} of {total}): {error}",
        file=sys.stderr,
        flush=True,
    )
    return 1
