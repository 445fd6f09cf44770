"""Studies on the session's embedded Ray (2 CPUs, 1 logical GPU): results, failures, packing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import optuna
import pyarrow.parquet as pq
import pytest
import torch
from ray import tune

from cli import main as cli
from contract.schema import CURVE_SCHEMA, TRIAL_SCHEMA
from study.ray_runner import fill_cluster, trial_resources, trial_settings
from study.spec import Resources, StudySpec
from tests.study.conftest import BANDITUNE, REPO, TINY, subprocess_env
from tests.study.gpu_probe import probe
from trainable import TrainConfig

pytestmark = pytest.mark.slow
# The device of a trial given the session's one (logical) GPU: GPU 0 where torch sees CUDA.
DEVICE = "cuda:0" if torch.cuda.is_available() else "cpu"


def run(results, name, *argv) -> int:
    return cli.main(["study", "--results", str(results), "--name", name, *TINY, *argv])


def read_all(folder):
    return [pq.read_table(p) for p in sorted(folder.glob("*.parquet"))]


def journal_study(root, name):
    storage = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(root / "optuna.journal"))
    )
    return optuna.load_study(study_name=name, storage=storage)


def test_tiny_study_writes_rows_curves_study_json_and_journal(ray_session, tmp_path, capsys):
    assert run(tmp_path, "tiny", "--trials", "5", "--warm-start") == 0
    out = capsys.readouterr().out
    root = tmp_path / "tiny"
    trials = read_all(root / "trials")
    assert all(t.schema.equals(TRIAL_SCHEMA) for t in trials)
    rows = [r for t in trials for r in t.to_pylist()]
    search = [r for r in rows if r["phase"] == "search"]
    reference = [r for r in rows if r["phase"] == "reference"]
    assert len(search) == 5 * 2 * 3 and len(reference) == 2 * 3
    assert {(r["n"], r["seed"]) for r in reference} == {(n, s) for n in (10, 100) for s in range(3)}
    assert {r["status"] for r in search} <= {"finished", "stopped_early"}
    assert all(r["exact_match"] is not None and r["objective"] is not None for r in rows)
    assert {r["device"] for r in rows} == {DEVICE}  # a logical GPU without CUDA: the CPU
    assert (reference[0]["encoding"], reference[0]["baseline"], reference[0]["batch_size"]) == (
        "scalar",
        "none",
        50,
    )
    curves = read_all(root / "curves")
    assert len(curves) == 6 and all(c.schema.equals(CURVE_SCHEMA) for c in curves)
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
    first = min(study.trials, key=lambda t: t.number).params  # the warm start: the defaults
    assert (first["encoding"], first["baseline"]) == ("onehot", "grpo")
    assert first["lr"] == pytest.approx(TrainConfig(n=100).lr)  # the defaults at the largest n
    assert {t.state for t in study.trials} == {optuna.trial.TrialState.COMPLETE}
    by_id = {r["trial_id"]: r["objective"] for r in search}
    assert sorted(t.value for t in study.trials) == pytest.approx(sorted(by_id.values()))
    assert "Best configs" in out and str(root) in out and "ended reference" in out


def test_by_default_no_warm_start_searches_from_tpe_alone_and_is_kept_on_resume(ray_session, tmp_path):
    from study.axes import default_space
    from study.space import default_point

    assert run(tmp_path, "cold", "--trials", "3") == 0
    root = tmp_path / "cold"
    meta = json.loads((root / "study.json").read_text())
    assert meta["spec"]["warm_start"] is False
    defaults = default_point(n=100, space=default_space())
    first = min(journal_study(root, "cold").trials, key=lambda t: t.number)
    assert first.params != defaults
    assert run(tmp_path, "cold", "--resume") == 0  # the saved spec keeps the flag
    assert json.loads((root / "study.json").read_text())["spec"]["warm_start"] is False


def test_fifo_sweep_in_narrowed_ranges_trains_every_trial_to_the_end(ray_session, tmp_path):
    argv = [
        "--trials",
        "3",
        "--scheduler",
        "fifo",
        "--baselines",
        "grpo",
        "rloo",
        "--lr-range",
        "0.004",
        "0.004",
    ]
    argv += [
        "--entropy-range",
        "0.2",
        "0.3",
        "--batch-sizes",
        "256",
        "--hidden-sizes",
        "32",
        "--group-sizes",
        "4",
    ]
    assert run(tmp_path, "sweep", *argv) == 0
    root = tmp_path / "sweep"
    rows = [r for t in read_all(root / "trials") for r in t.to_pylist() if r["phase"] == "search"]
    assert len({r["trial_id"] for r in rows}) == 3 and {r["status"] for r in rows} == {"finished"}
    assert {(r["lr"], r["batch_size"], r["hidden"], r["group_size"]) for r in rows} == {(0.004, 256, 32, 4)}
    assert all(0.2 <= r["entropy_coef"] <= 0.3 for r in rows)
    curves = [r for t in read_all(root / "curves") for r in t.to_pylist() if r["trial_id"] != "reference"]
    reports = {}
    for r in curves:
        reports.setdefault(r["trial_id"], set()).add(r["report"])
    assert len(reports) == 3 and all(seen == set(range(5)) for seen in reports.values())  # none stopped
    meta = json.loads((root / "study.json").read_text())
    assert meta["search_space"]["lr"] == {"log_uniform": [0.004, 0.004]}
    assert meta["spec"]["scheduler"] == "fifo" and meta["spec"]["space"]["batch_size"] == [256]


def test_asha_stops_the_weaker_trials_of_a_real_study_early(ray_session, tmp_path):
    """One trial at a time (so the study is the same on every run), n=10, 4 reports: a trial
    below the best third of those before it at a rung is stopped there."""
    argv = ["--n", "10", "--num-seeds", "2", "--sample-budget", "10=8k", "--reports", "4"]
    argv += ["--trials", "5", "--max-concurrent", "1", "--gpus-per-trial", "0"]
    assert cli.main(["study", "--results", str(tmp_path), "--name", "asha", *argv]) == 0
    root = tmp_path / "asha"
    rows = [r for t in read_all(root / "trials") for r in t.to_pylist() if r["phase"] == "search"]
    status = {r["trial_id"]: r["status"] for r in rows}
    stopped = {t for t, s in status.items() if s == "stopped_early"}
    assert stopped and set(status.values()) == {"finished", "stopped_early"}, status
    reports = {}
    for r in (r for t in read_all(root / "curves") for r in t.to_pylist()):
        reports.setdefault(r["trial_id"], set()).add(r["report"])
    for r in rows:
        if r["trial_id"] in stopped:
            assert r["samples"] < 8_000 and len(reports[r["trial_id"]]) < 4
        else:
            assert r["samples"] >= 8_000 and reports[r["trial_id"]] == set(range(4))
    best_stopped = max(r["objective"] for r in rows if r["trial_id"] in stopped)
    assert best_stopped < max(r["objective"] for r in rows if r["trial_id"] not in stopped)


def test_same_name_without_resume_is_refused(ray_session, tmp_path, capsys):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "study.json").write_text("{}")
    assert run(tmp_path, "taken", "--trials", "1") == 2
    assert "exists (add --resume to continue it)" in capsys.readouterr().err
    assert (tmp_path / "taken" / "study.json").read_text() == "{}"


def test_nan_reward_trial_is_recorded_failed_and_the_study_finishes(ray_session, tmp_path):
    # The reward is NaN only for batch_size 512: --warm-start makes the first trial the trainer's
    # defaults, which have it, whatever the sampler draws next.
    status = run(
        tmp_path,
        "nan",
        "--trials",
        "4",
        "--warm-start",
        "--reward",
        "tests.study.nan_reward:fn",
        "--gpus-per-trial",
        "0",
    )
    assert status == 0
    root = tmp_path / "nan"
    rows = [r for t in read_all(root / "trials") for r in t.to_pylist() if r["phase"] == "search"]
    failed = [r for r in rows if r["status"] == "failed"]
    assert len({r["trial_id"] for r in rows}) == 4 and failed and len(failed) < len(rows)
    assert {r["batch_size"] for r in failed} == {512}
    assert all(r["batch_size"] != 512 for r in rows if r["status"] != "failed")
    for r in failed:
        assert "NaN" in r["error"] and r["reward"] == "tests.study.nan_reward:fn"
        assert r["exact_match"] is None and r["objective"] is None and r["samples"] is None
    assert json.loads((root / "study.json").read_text())["ended"]
    values = sorted(t.value for t in journal_study(root, "nan").trials)
    assert values[0] == 0.0  # a failed config scores the worst objective in Optuna


def test_a_study_whose_every_trial_failed_exits_1_naming_the_error(ray_session, tmp_path, capsys):
    argv = ["--trials", "2", "--reward", "tests.study.nan_reward:fn", "--batch-sizes", "512"]
    assert run(tmp_path, "allnan", *argv, "--gpus-per-trial", "0") == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith(
        "banditune study: failed during work: all 2 trials failed; the most common error (2 of 2)"
    )
    assert "NaN" in err
    assert len(read_all(tmp_path / "allnan" / "trials")) == 3  # the failures are recorded all the same


def test_max_concurrent_fills_the_cluster_by_default(ray_session):
    spec = StudySpec(
        ns=(10,), seeds=(0,), sample_budget={10: 1}, reports=1, trials=4, reward="abs", search_seed=0
    )
    for gpus, cpus, gpu_mode, fits in (
        (0, 1, False, 2),
        (0, 0.5, False, 4),
        (0.25, 1, True, 4),
        (1, 1, True, 1),
    ):
        resources = Resources(gpus_per_trial=gpus, cpus_per_trial=cpus, address=None, storage=None)
        assert fill_cluster(trial_settings(spec, resources, gpu_mode=gpu_mode)) == fits


def test_four_quarter_gpu_trials_share_one_gpu_at_the_same_time(ray_session, tmp_path):
    resources = Resources(gpus_per_trial=0.25, cpus_per_trial=0.5, address=None, storage=None)
    spec = StudySpec(
        ns=(10,),
        seeds=(0,),
        sample_budget={10: 1},
        reports=1,
        trials=4,
        reward="abs",
        search_seed=0,
    )
    settings = trial_settings(spec, resources, gpu_mode=True)
    assert trial_resources(settings) == {"cpu": 0.5, "gpu": 0.25}
    assert trial_resources(trial_settings(spec, resources, gpu_mode=False)) == {"cpu": 0.5}
    tuner = tune.Tuner(
        tune.with_resources(tune.with_parameters(probe, settings=settings), trial_resources(settings)),
        param_space={"i": tune.grid_search([0, 1, 2, 3]), "folder": str(tmp_path), "expect": 4},
        run_config=tune.RunConfig(storage_path=str(tmp_path / "ray"), verbose=0),
    )
    results = [r.metrics for r in tuner.fit()]
    assert len(results) == 4
    assert all(r["together"] for r in results)  # all four ran at once
    assert [r["gpu_ids"] for r in results] == [["0"]] * 4
    assert [r["visible"] for r in results] == ["0"] * 4  # Ray's CUDA_VISIBLE_DEVICES
    assert [r["device"] for r in results] == [DEVICE] * 4  # without CUDA: the CPU


def trial_workers(raylet_pid: int) -> list[int]:
    """Pids of the session's Tune trial workers (children of its raylet running a trial)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            title = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == raylet_pid and title.startswith(b"ray::ImplicitFunc"):
            pids.append(int(entry.name))
    return pids


def test_a_killed_trial_worker_is_retried_from_its_checkpoint(ray_session, tmp_path):
    from ray._private import ray_constants
    from ray._private.worker import _global_node

    raylet = _global_node.all_processes[ray_constants.PROCESS_TYPE_RAYLET][0].process.pid
    killed = []

    ended = threading.Event()

    def kill_after_first_checkpoint():
        while not ended.is_set() and not killed:  # until the study ends
            if list((tmp_path / "kw" / "tune").glob("study_trainable_*/checkpoint_000001")):
                for pid in trial_workers(raylet)[:1]:
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
            time.sleep(0.02)

    killer = threading.Thread(target=kill_after_first_checkpoint)
    killer.start()
    try:
        # 8 reports: checkpoint_000001 (the second) leaves 6 reports' time to see it and kill
        status = run(tmp_path, "kw", "--trials", "1", "--gpus-per-trial", "0", "--reports", "8")
    finally:
        ended.set()
        killer.join()
    assert killed and status == 0
    root = tmp_path / "kw"
    [trial] = [t for t in read_all(root / "trials") if t.column("phase")[0].as_py() == "search"]
    assert set(trial.column("status").to_pylist()) == {"finished"}
    trial_id = trial.column("trial_id")[0].as_py()
    curves = pq.read_table(root / "curves" / f"{trial_id}.parquet").to_pylist()
    keys = [(r["n"], r["seed"], r["report"]) for r in curves]
    assert len(keys) == len(set(keys)) == 2 * 3 * 8  # every report once
    [result_json] = (root / "tune").glob("study_trainable_*/result.json")
    results = [json.loads(line) for line in result_json.read_text().splitlines()]
    restored = [r for r in results if r["iterations_since_restore"] < r["training_iteration"]]
    assert restored  # Tune restarted it from a checkpoint, not from scratch
    assert [r["training_iteration"] for r in results][-1] == 8


def test_two_studies_in_one_results_folder_at_once_keep_to_their_own_files(ray_session, tmp_path, ray_tmpdir):
    other = subprocess.Popen(
        [
            BANDITUNE,
            "study",
            "--results",
            str(tmp_path),
            "--name",
            "beta",
            *TINY,
            "--trials",
            "1",
            "--gpus-per-trial",
            "0",
            "--seed",
            "1",
        ],
        cwd=REPO,
        env=subprocess_env(ray_tmpdir),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert run(tmp_path, "alpha", "--trials", "1", "--gpus-per-trial", "0") == 0
    finally:
        output, _ = other.communicate(timeout=300)
    assert other.returncode == 0, output[-3000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alpha", "beta"]
    for name in ("alpha", "beta"):
        root = tmp_path / name
        tables = read_all(root / "trials") + read_all(root / "curves")
        assert len(tables) == 2 * 2  # a trial and the reference, trials/ and curves/
        assert {s for t in tables for s in t.column("study").to_pylist()} == {name}
        storage = optuna.storages.JournalStorage(
            optuna.storages.journal.JournalFileBackend(str(root / "optuna.journal"))
        )
        assert optuna.get_all_study_names(storage) == [name]
        assert len(optuna.load_study(study_name=name, storage=storage).trials) == 1
        assert str(root) in json.loads((root / "study.json").read_text())["ray_experiment"]


def test_a_speed_study_searches_the_knobs_and_scores_by_reaching(ray_session, tmp_path):
    argv = ["--trials", "2", "--objective", "speed", "--scheduler", "fifo", "--baselines", "batch_mean"]
    argv += ["--batch-size", "64", "--hidden", "64", "--update-epochs", "1", "4"]
    assert run(tmp_path, "speed", *argv) == 0
    root = tmp_path / "speed"
    rows = [r for t in read_all(root / "trials") for r in t.to_pylist() if r["phase"] == "search"]
    assert {r["update_epochs"] for r in rows} <= {1, 4} and {r["adam_beta2"] for r in rows} <= {0.99, 0.999}
    assert all(0 <= r["objective"] <= 1 for r in rows)
    meta = json.loads((root / "study.json").read_text())
    assert meta["spec"]["objective"] == "speed" and meta["objective"].startswith("0.5 x (1 - the share")
    assert meta["search_space"]["output_init"] == {"categorical": [0.0, 1.0]}
