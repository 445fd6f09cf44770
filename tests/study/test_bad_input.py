"""Bad study input exits 2 with one line naming the option, before Ray starts."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from cli import main as cli
from contract.knobs import BASELINES
from study import spec
from study.axes import default_space
from study.space import check_space
from study.tasks import parse_budget
from tests.study.conftest import BANDITUNE, REPO, subprocess_env
from trainable.defaults import default_sample_budget, study_sample_budget


@pytest.fixture
def no_ray(monkeypatch):
    """Fail the test if anything tries to start or join Ray."""
    import ray

    def refuse(*args, **kwargs):
        raise AssertionError("Ray was started for bad input")

    monkeypatch.setattr(ray, "init", refuse)


CASES = [
    (["--trials", "0"], "--trials 0 is not allowed"),
    (["--trials", "-3"], "--trials -3 is not allowed"),
    (["--gpus-per-trial", "1.5"], "--gpus-per-trial 1.5 is not allowed"),
    (["--gpus-per-trial", "-0.5"], "--gpus-per-trial -0.5 is not allowed"),
    (["--cpus-per-trial", "0"], "--cpus-per-trial 0.0 is not allowed"),
    (["--sample-budget", "10=abc"], "--sample-budget '10=abc' is not allowed"),
    (["--sample-budget", "10:200k"], "--sample-budget '10:200k' is not allowed"),
    (["--sample-budget", "-5"], "--sample-budget '-5' is not allowed"),
    (["--sample-budget", "7=1000"], "budgets only for the study's tasks (10, 100)"),
    (["--contexts", "digits", "--sample-budget", "10=1000"], "budgets only for the study's tasks (digits)"),
    (
        ["--contexts", "digits", "--holdout", "1.5"],
        "--holdout 1.5 is not allowed; expected a number in (0, 1)",
    ),
    (["--contexts", "digits", "digits"], "--contexts 'digits digits' is not allowed; expected distinct"),
    (["--contexts", "mnist"], "--contexts 'mnist' is not allowed; expected digits or package.module"),
    (["--contexts", "tests.synthetic_contexts:nan_features"], "features hold nan at row 5, column 2"),
    (["--contexts", "tests.synthetic_contexts:one_class"], "labels hold 1 class; expected at least 2"),
    (["--contexts", "no_such_pkg:load"], "--contexts 'no_such_pkg:load': cannot import 'no_such_pkg'"),
    (["--contexts", "digits", "--holdout", "0.001"], "--holdout 0.001: cannot split contexts='digits'"),
    (["--encodings", "onehot", "morse"], "--encoding 'morse' is not allowed"),
    (["--baseline", "critic"], "--baseline 'critic' is not allowed"),
    (["--reward-scales", "log"], "--reward-scale 'log' is not allowed"),
    (["--lr-schedules", "step"], "--lr-schedule 'step' is not allowed"),
    (["--lr-range", "0", "0.01"], "--lr '0 0.01' is not allowed; expected LOW HIGH with 0 < LOW <= HIGH"),
    (["--lr", "0.01", "0.001"], "--lr '0.01 0.001' is not allowed"),
    (["--entropy-range", "-1", "1"], "--entropy-coef '-1 1' is not allowed"),
    (["--batch-sizes", "0", "64"], "--batch-size '0 64' is not allowed; expected integers >= 1"),
    (["--hidden", "64", "64"], "--hidden '64 64' is not allowed; expected distinct values"),
    (["--group-sizes", "1"], "--group-size '1' is not allowed; expected integers >= 2"),
    (
        ["--batch-sizes", "64", "100", "--group-sizes", "4", "8"],
        "--group-size '4 8' is not allowed; expected divisors of every batch size (64 100)",
    ),
    (["--reward", "no_such_module:fn"], "--reward 'no_such_module:fn': cannot import"),
    (["--n", "1"], "--n 1 is not allowed"),
    (["--n", "10", "10"], "--n '10 10' is not allowed"),
    (["--num-seeds", "0"], "--num-seeds 0 is not allowed"),
    (["--reports", "0"], "--reports 0 is not allowed"),
    (["--max-concurrent", "0"], "--max-concurrent 0 is not allowed"),
    (["--name", "../up"], "--name '../up' is not allowed"),
    (["--address", "not an address"], "--address 'not an address' is not allowed"),
    (["--address", "ray://head:10001"], "run `ray job submit --address"),
]


@pytest.mark.parametrize(("argv", "message"), CASES, ids=[" ".join(a) for a, _ in CASES])
def test_bad_input_exits_2_with_one_line_before_ray(argv, message, tmp_path, capsys, no_ray):
    status = cli.main(["study", "--results", str(tmp_path), *argv])
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and err.startswith("banditune study: error: ")
    assert message in err
    assert list(tmp_path.iterdir()) == []  # nothing created for a refused study


def test_unwritable_results_folder_is_refused(tmp_path, capsys, no_ray):
    if os.geteuid() == 0:  # root writes into read-only folders; /proc refuses everyone
        results = "/proc/banditune-results"
    else:
        (tmp_path / "locked").mkdir(mode=0o500)
        results = str(tmp_path / "locked" / "sub")
    assert cli.main(["study", "--results", results]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"banditune study: error: --results {results!r}: not writable")


def test_results_path_that_is_a_file_is_refused(tmp_path, capsys, no_ray):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert cli.main(["study", "--results", str(blocker)]) == 2
    assert "--results" in capsys.readouterr().err


def test_existing_study_is_not_overwritten_and_resume_needs_one(tmp_path, capsys, no_ray):
    (tmp_path / "taken").mkdir()
    assert cli.main(["study", "--results", str(tmp_path), "--name", "taken"]) == 2
    assert "exists (add --resume to continue it)" in capsys.readouterr().err
    assert cli.main(["study", "--results", str(tmp_path), "--name", "never", "--resume"]) == 2
    assert "--resume --name 'never' is not allowed" in capsys.readouterr().err


def test_parse_budget_forms():
    tasks = ("10", "100", "digits")
    assert parse_budget("200k", tasks, study=True) == {
        "10": 200_000,
        "100": 200_000,
        "digits": 200_000,
    }
    default_10 = study_sample_budget(10)
    assert parse_budget("100=3M", tasks, study=True) == {
        "10": default_10,
        "100": 3_000_000,
        "digits": 300_000,
    }
    trainer_100 = default_sample_budget(100)  # diagnose's default: the trainer's, longer
    assert parse_budget("10=1.5k, digits=2500", tasks, study=False) == {
        "10": 1500,
        "100": trainer_100,
        "digits": 2500,
    }
    with pytest.raises(ValueError, match="--sample-budget '0'"):
        parse_budget("0", ("10",), study=True)


def test_console_script_exits_2_without_traceback(ray_tmpdir):
    result = subprocess.run(
        [BANDITUNE, "study", "--gpus-per-trial", "2.5"],
        cwd=REPO,
        env=subprocess_env(ray_tmpdir),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        (
            "banditune study: error: --gpus-per-trial 2.5 is not allowed; expected a fraction in"
            " [0, 1] (0.25 packs four trials on a GPU) or a whole number of GPUs"
        )
    ]
    assert "Traceback" not in result.stdout + result.stderr


AXES_OPTIONS = "--encoding/--action-encoding/--baseline/--reward-scale/--lr/--lr-schedule"


def test_resume_refuses_options_that_change_the_saved_study(tmp_path, capsys, no_ray):
    saved = spec.StudySpec(
        ns=(10, 100),
        seeds=(0, 1, 2),
        sample_budget={10: 1000, 100: 2000},
        reports=5,
        trials=6,
        reward="abs",
        search_seed=0,
    )
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "study.json").write_text(
        json.dumps({"spec": saved.to_json(), "ray_storage": str(tmp_path / "s")})
    )
    base = ["study", "--results", str(tmp_path), "--name", "s", "--resume"]
    for extra, message in (
        (["--trials", "7"], ("--trials 7 is not allowed; expected the saved study's value 6")),
        (["--n", "10"], "--n '10' is not allowed"),
        (["--sample-budget", "1k"], "--sample-budget"),
        (["--baselines", "rloo"], AXES_OPTIONS),
        (["--lr-range", "1e-3", "1e-2"], AXES_OPTIONS),
        (["--scheduler", "fifo"], "--scheduler 'fifo' is not allowed; expected the saved study's value asha"),
        (["--storage", "s3://b/p"], "--storage 's3://b/p' is not allowed"),
    ):
        assert cli.main([*base, *extra]) == 2
        assert message in capsys.readouterr().err


def test_resume_in_another_results_folder_is_refused_naming_the_one_it_ran_in(tmp_path, capsys, no_ray):
    """From the folder, and from a copy in --storage before anything is fetched."""
    saved = spec.StudySpec(
        ns=(10,), seeds=(0,), sample_budget={10: 1000}, reports=2, trials=2, reward="abs", search_seed=0
    )
    meta = {"spec": saved.to_json(), "ray_storage": "s3://b/p/s", "folder": str(tmp_path / "ran" / "s")}
    for where in ("moved", "storage"):
        (tmp_path / where / "s").mkdir(parents=True)
        (tmp_path / where / "s" / "study.json").write_text(json.dumps(meta))
    resume = ["study", "--name", "s", "--resume"]
    assert cli.main([*resume, "--results", str(tmp_path / "moved")]) == 2
    assert (
        cli.main([*resume, "--results", str(tmp_path / "new"), "--storage", str(tmp_path / "storage")]) == 2
    )
    err = capsys.readouterr().err.splitlines()
    for line, results in zip(err, ("moved", "new")):
        assert (
            f"--results '{tmp_path / results}' is not allowed; expected {tmp_path / 'ran'}, where the study"
            in line
        )
    assert not (tmp_path / "new" / "s").exists()


def test_the_default_axes_leave_out_the_raw_scalar_encodings_unless_asked():
    space = check_space({}, defaults=default_space())
    assert "scalar" not in space["encoding"] and "onehot" in space["encoding"]
    assert space["baseline"] == BASELINES
    asked = check_space({"encoding": ["scalar", "onehot"]}, defaults=default_space())
    assert asked["encoding"] == ("scalar", "onehot")


@pytest.mark.parametrize("warm", [True, False])
def test_a_warm_start_study_adds_the_defaults_values_to_the_default_axes(warm):
    from cli.main import build_parser
    from cli.study import spec_from_args
    from study.space import default_point

    argv = ["study"] + (["--warm-start"] if warm else [])
    built = spec_from_args(build_parser().parse_args(argv))
    assert ("range" in built.space["reward_scale"]) is warm  # the defaults' scale
    assert (default_point(n=100, space=built.space) is not None) is warm
    assert built.warm_start is warm


def test_narrowed_ranges_bound_the_space_and_survive_study_json():
    from cli.main import build_parser
    from cli.study import spec_from_args
    from study.space import default_point, describe

    argv = ["study", "--lr-range", "0.003", "0.003", "--entropy-range", "0.2", "1"]
    argv += ["--batch-sizes", "512", "--hidden-sizes", "64", "128", "--scheduler", "fifo"]
    built = spec_from_args(build_parser().parse_args(argv))
    assert built.space["lr"] == (0.003, 0.003) and built.space["batch_size"] == (512,)
    assert built.space["group_size"] == (2, 4, 8, 16)  # not given: the whole default list
    assert built.scheduler == "fifo"
    again = spec.StudySpec.from_json(json.loads(json.dumps(built.to_json())))
    assert again == built
    space = describe(built.space)
    assert space["lr"] == {"log_uniform": [0.003, 0.003]} and space["hidden"]["categorical"] == [64, 128]
    # the warm start is the defaults' point where the ranges hold their values, else none
    from trainable import TrainConfig

    d = TrainConfig(n=100)
    holding = {**built.space, "encoding": ("onehot",), "baseline": ("grpo",), "reward_scale": ("range",)}
    holding |= {"lr_schedule": ("cosine",), "entropy_schedule": ("cosine",), "hidden": (d.hidden,)}
    holding |= {"lr": (d.lr, d.lr), "entropy_coef": (d.entropy_coef, 3.0)}
    assert default_point(n=100, space=holding)["lr"] == d.lr
    assert default_point(n=100, space={**holding, "lr": (d.lr * 2, 0.1)}) is None
    assert default_point(n=100, space={**holding, "group_size": (2, 4)}) is None


def test_a_study_json_from_before_ranges_reads_as_the_whole_space_under_asha():
    saved = spec.StudySpec(
        ns=(10,),
        seeds=(0,),
        sample_budget={"10": 1000},
        reports=2,
        trials=1,
        reward="abs",
        search_seed=0,
    ).to_json()
    del saved["space"], saved["scheduler"]
    saved["axes"] = {"encodings": ["onehot"], "baselines": ["grpo"], "reward_scales": ["standardize"]}
    old = spec.StudySpec.from_json(saved)
    assert (
        old.space
        == {**default_space(), "encoding": ("onehot",), "baseline": ("grpo",)}
        | {
            "lr_schedule": ("constant",)  # studies from before the schedule axes trained at a constant lr
        }
        and old.scheduler == "asha"
    )


def test_train_study_and_diagnose_show_a_bad_value_in_one_form(capsys, tmp_path):
    lines = set()
    for command in (
        ["train"],
        ["study", "--results", str(tmp_path)],
        ["diagnose", "--results", str(tmp_path)],
    ):
        assert cli.main([*command, "--contexts", "digits", "--holdout", "1.5"]) == 2
        lines.add(capsys.readouterr().err.strip().split(": error: ")[1])
    assert lines == {"--holdout 1.5 is not allowed; expected a number in (0, 1)"}
    assert list(tmp_path.iterdir()) == []  # refused before any folder was made
