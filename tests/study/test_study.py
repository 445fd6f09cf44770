"""Studies on the session's embedded Ray (2 CPUs, 1 logical GPU): results, failures, packing."""

from __future__ import annotations

import json

import optuna
import pyarrow.parquet as pq
import pytest
from ray import tune

from study import cli, export
from study.ray_runner import trial_resources, trial_settings
from study.spec import Resources, StudySpec
from tests.study.conftest import TINY
from tests.study.gpu_probe import probe

pytestmark = pytest.mark.slow


def run(results, name, *argv) -> int:
    return cli.main(["study", "--results", str(results), "--name", name, *TINY, *argv])


def read_all(folder):
    return [pq.read_table(p) for p in sorted(folder.glob("*.parquet"))]


def journal_study(root, name):
    storage = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(root / "optuna.journal")))
    return optuna.load_study(study_name=name, storage=storage)


def test_tiny_study_writes_rows_curves_study_json_and_journal(ray_session, tmp_path, capsys):
    assert run(tmp_path, "tiny", "--trials", "5") == 0
    out = capsys.readouterr().out
    root = tmp_path / "tiny"
    trials = read_all(root / "trials")
    assert all(t.schema.equals(export.TRIAL_SCHEMA) for t in trials)
    rows = [r for t in trials for r in t.to_pylist()]
    search = [r for r in rows if r["phase"] == "search"]
    reference = [r for r in rows if r["phase"] == "reference"]
    assert len(search) == 5 * 2 * 3 and len(reference) == 2 * 3
    assert {(r["n"], r["seed"]) for r in reference} == {(n, s) for n in (10, 100)
                                                         for s in range(3)}
    assert {r["status"] for r in search} <= {"finished", "stopped_early"}
    assert all(r["exact_match"] is not None and r["objective"] is not None for r in rows)
    assert {r["device"] for r in rows} == {"cpu"}  # a logical GPU, no CUDA: the CPU is used
    assert (reference[0]["encoding"], reference[0]["baseline"], reference[0]["batch_size"]) \
        == ("scalar", "none", 50)
    curves = read_all(root / "curves")
    assert len(curves) == 6 and all(c.schema.equals(export.CURVE_SCHEMA) for c in curves)
    for table in curves:  # one row per (n, seed, report); finished trials have all 5 reports
        c = table.to_pylist()
        reports = {r["report"] for r in c}
        assert len(c) == 2 * 3 * len(reports) and reports == set(range(len(reports)))
    meta = json.loads((root / "study.json").read_text())
    assert meta["n"] == [10, 100] and meta["seeds"] == [0, 1, 2] and meta["trials"] == 5
    assert meta["ended"] and meta["started"] and meta["git_commit"]
    assert set(meta["versions"]) >= {"torch", "ray", "optuna"}
    assert "lr" in meta["search_space"] and meta["command"].startswith("banditune study")
    study = journal_study(root, "tiny")
    assert len(study.trials) == 5
    assert {t.state for t in study.trials} == {optuna.trial.TrialState.COMPLETE}
    by_id = {r["trial_id"]: r["objective"] for r in search}
    assert sorted(t.value for t in study.trials) == pytest.approx(sorted(by_id.values()))
    assert "Best configs" in out and str(root) in out


def test_same_name_without_resume_is_refused(ray_session, tmp_path, capsys):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "study.json").write_text("{}")
    assert run(tmp_path, "taken", "--trials", "1") == 2
    assert "exists (add --resume to continue it)" in capsys.readouterr().err
    assert (tmp_path / "taken" / "study.json").read_text() == "{}"


def test_nan_reward_trial_is_recorded_failed_and_the_study_finishes(ray_session, tmp_path):
    # The reward is NaN only for batch_size 1024; search seed 0 samples it for one of 4 trials.
    status = run(tmp_path, "nan", "--trials", "4", "--reward", "tests.study.nan_reward:fn",
                 "--gpus-per-trial", "0")
    assert status == 0
    root = tmp_path / "nan"
    rows = [r for t in read_all(root / "trials") for r in t.to_pylist() if r["phase"] == "search"]
    failed = [r for r in rows if r["status"] == "failed"]
    assert len({r["trial_id"] for r in rows}) == 4 and failed and len(failed) < len(rows)
    assert {r["batch_size"] for r in failed} == {1024}
    assert all(r["batch_size"] != 1024 for r in rows if r["status"] != "failed")
    for r in failed:
        assert "NaN" in r["error"] and r["reward"] == "tests.study.nan_reward:fn"
        assert r["exact_match"] is None and r["objective"] is None and r["samples"] is None
    assert json.loads((root / "study.json").read_text())["ended"]
    values = sorted(t.value for t in journal_study(root, "nan").trials)
    assert values[0] == 0.0  # a failed config scores the worst objective in Optuna


def test_four_quarter_gpu_trials_share_one_gpu_at_the_same_time(ray_session, tmp_path):
    resources = Resources(gpus_per_trial=0.25, cpus_per_trial=0.5, address=None, storage=None)
    spec = StudySpec(ns=(10,), seeds=(0,), sample_budget={10: 1}, reports=1, trials=4,
                     reward="abs", search_seed=0, max_concurrent=4)
    settings = trial_settings(spec, resources, gpu_mode=True)
    assert trial_resources(settings) == {"cpu": 0.5, "gpu": 0.25}
    assert trial_resources(trial_settings(spec, resources, gpu_mode=False)) == {"cpu": 0.5}
    tuner = tune.Tuner(
        tune.with_resources(tune.with_parameters(probe, settings=settings),
                            trial_resources(settings)),
        param_space={"i": tune.grid_search([0, 1, 2, 3]), "folder": str(tmp_path),
                     "expect": 4},
        run_config=tune.RunConfig(storage_path=str(tmp_path / "ray"), verbose=0),
    )
    results = [r.metrics for r in tuner.fit()]
    assert len(results) == 4
    assert all(r["together"] for r in results)  # all four ran at once
    assert [r["gpu_ids"] for r in results] == [["0"]] * 4
    assert [r["visible"] for r in results] == ["0"] * 4  # Ray's CUDA_VISIBLE_DEVICES
    assert [r["device"] for r in results] == ["cpu"] * 4  # no CUDA here: CPU fallback
