"""Where a study's files live: RESULTS/NAME/{study.json, optuna.journal, trials/, curves/,
diagnose.parquet, report/best_config.json, ...}."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from contract.schema import CONFIRM_PREFIX, REFERENCE_ID

DIAGNOSE_FILE = "diagnose.parquet"
BEST_CONFIG_FILE = "best_config.json"  # in the report folder (`banditune analyze --out` or report/)


@dataclass(frozen=True)
class StudyPaths:
    root: Path  # RESULTS/NAME

    @property
    def trials(self) -> Path:
        return self.root / "trials"

    @property
    def curves(self) -> Path:
        return self.root / "curves"

    @property
    def study_json(self) -> Path:
        return self.root / "study.json"

    @property
    def journal(self) -> Path:
        return self.root / "optuna.journal"

    @property
    def diagnose(self) -> Path:
        return self.root / DIAGNOSE_FILE

    @property
    def report(self) -> Path:
        """Where `banditune analyze` writes report.md, its figures and JSON files by default."""
        return self.root / "report"

    @property
    def best_config(self) -> Path:
        return self.report / BEST_CONFIG_FILE

    def trial_file(self, trial_id: str) -> Path:
        return self.trials / f"{trial_id}.parquet"

    def curve_file(self, trial_id: str) -> Path:
        return self.curves / f"{trial_id}.parquet"


def is_search_file(path: Path) -> bool:
    """A trials/ file of a search trial (not the reference run, not a confirmation)."""
    return path.stem != REFERENCE_ID and not path.stem.startswith(CONFIRM_PREFIX)
