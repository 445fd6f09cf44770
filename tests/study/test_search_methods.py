"""--sampler reaches Optuna and is recorded; a bad one exits 2; PBT studies record their schedules."""

from __future__ import annotations

import json
import subprocess

import optuna
import pyarrow.parquet as pq
import pytest

from analysis.analyze import analyze
from cli import main as cli
from contract.layout import StudyPaths
from study.search import sampler
from study.space import search_space
from study.spec import StudySpec, load_saved_spec
from tests.study.conftest import BANDITUNE, REPO
from tests.study.test_study import journal_study

pytestmark = pytest.mark.slow

SMALL = ["--n", "10", "--num-seeds", "2", "--sample-budget", "5k", "--reports", "2"]


def run(results, name, *argv) -> int:
    return cli.main(["study", "--results", str(results), "--name", name, *SMALL, *argv])


@pytest.mark.parametrize("kind", ["random", "qmc"])
def test_sampler_reaches_optuna_and_is_recorded(ray_session, tmp_path, kind):
    argv = ["--trials", "3", "--scheduler", "fifo", "--max-concurrent", "1", "--sampler", kind, "--seed", "7"]
    assert run(tmp_path, kind, *argv) == 0
    root = tmp_path / kind
    meta = json.loads((root / "study.json").read_text())
    assert meta["sampler"] == kind and meta["spec"]["sampler"] == kind and meta["search_seed"] == 7
    spec, _ = load_saved_spec(StudyPaths(root))
    # the same sampler and seed, asked one trial at a time as the study did, proposes the same points
    replay = optuna.create_study(direction="maximize", sampler=sampler(spec))
    for _ in range(3):
        trial = replay.ask()
        search_space(trial, space=spec.space)
        replay.tell(trial, 0.0)
    ran = sorted(journal_study(root, kind).trials, key=lambda t: t.number)
    assert [t.params for t in ran] == [t.params for t in replay.trials]
    analyze(root, out=root / "report")
    assert f"Optuna's {kind} sampler (seed 7)" in (root / "report" / "report.md").read_text()


def test_each_sampler_name_builds_its_optuna_sampler():
    base = dict(
        ns=(10,), seeds=(0,), sample_budget={"10": 1000}, reports=2, trials=20, reward="abs", search_seed=1
    )
    kinds = {
        name: type(sampler(StudySpec(**base, sampler=name))).__name__
        for name in ("tpe", "random", "qmc", "gp")
    }
    assert kinds == {"tpe": "TPESampler", "random": "RandomSampler", "qmc": "QMCSampler", "gp": "GPSampler"}


def test_bad_sampler_exits_2_with_one_line():
    done = subprocess.run(
        [BANDITUNE, "study", "--sampler", "cmaes", "--results", "/nonexistent"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "--sampler" in lines[0] and "'cmaes'" in lines[0] and "random" in lines[0]


def test_a_pbt_study_records_each_trials_changing_lr_and_entropy(ray_session, tmp_path, capsys):
    argv = ["--trials", "4", "--scheduler", "pbt", "--reports", "6", "--sample-budget", "10k", "--seed", "1"]
    assert run(tmp_path, "pbt", *argv, "--reward", "squared") == 0
    root = tmp_path / "pbt"
    assert json.loads((root / "study.json").read_text())["spec"]["scheduler"] == "pbt"
    curves = pq.read_table(root / "curves").to_pandas()
    trials = pq.read_table(root / "trials").to_pandas()
    search = curves[curves["phase"] == "search"]
    assert search["trial_id"].nunique() == 4 and set(trials.loc[trials["phase"] == "search", "status"]) == {
        "finished"
    }
    rates = search.groupby("trial_id").apply(lambda t: t[["lr", "entropy_coef"]].drop_duplicates().shape[0])
    assert rates.max() >= 2, "no trial was perturbed"  # PBT changed some trial's lr and bonus mid-run
    for trial_id, rows in search.groupby("trial_id"):  # a trial's config is its last segment's
        last = rows.loc[rows["report"].idxmax()]
        row = trials[(trials["trial_id"] == trial_id) & (trials["phase"] == "search")].iloc[0]
        assert (row["lr"], row["entropy_coef"]) == pytest.approx((last["lr"], last["entropy_coef"]))
    # the population is the sampler's first 4 points, all told their objective in the journal
    assert [t.state.name for t in journal_study(root, "pbt").trials] == ["COMPLETE"] * 4
    # confirm re-runs every trial with the lr and bonus it had at each report, on a fresh seed
    assert cli.main(["confirm", str(root), "--top", "4", "--num-seeds", "1", "--long-horizon", "1"]) == 0
    assert "mean drop from the search seeds to fresh seeds" in capsys.readouterr().out
    curves = pq.read_table(root / "curves").to_pandas()
    per_report = curves.groupby(["phase", "trial_id", "report"])[["lr", "entropy_coef"]].first()
    assert per_report.loc["confirm"].to_numpy().tolist() == per_report.loc["search"].to_numpy().tolist()
