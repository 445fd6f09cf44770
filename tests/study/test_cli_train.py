import json
import subprocess
import sys

import pytest
import torch

from cli.main import main


def run_cli(capsys, *argv):
    code = main(["train", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_result_is_the_last_line_with_per_seed_lists(capsys):
    code, out, _ = run_cli(
        capsys, "--n", "10", "--seeds", "0", "1", "--sample-budget", "4096", "--batch-size", "256", "--json"
    )
    assert code == 0
    result = json.loads(out.strip().splitlines()[-1])
    assert result["n"] == 10 and result["seeds"] == [0, 1] and result["samples"] == 4096
    for key in ("exact_match", "p_correct", "mae", "distinct_actions", "samples_to_95"):
        assert len(result[key]) == 2
    assert result["samples_per_s"] > 0 and result["wall_s"] > 0


def test_summary_names_every_seed(capsys):
    code, out, _ = run_cli(
        capsys, "--preset", "forum", "--n", "10", "--num-seeds", "3", "--sample-budget", "2000"
    )
    assert code == 0
    rows = [line.split() for line in out.splitlines()]
    assert [row[0] for row in rows if row and row[0].isdigit()] == ["0", "1", "2"]
    assert "encoding=scalar" in out and "baseline=none" in out


def test_flags_override_the_preset_and_the_config_file(tmp_path, capsys):
    config = tmp_path / "best.json"
    config.write_text(json.dumps({"encoding": "fourier", "lr": 0.01, "n": 12}))
    code, out, _ = run_cli(capsys, "--config", str(config), "--lr", "0.002", "--sample-budget", "1000")
    assert code == 0
    assert "n=12" in out and "encoding=fourier" in out and "lr=0.002" in out


def test_budgets_take_k_and_m_as_the_study_does(capsys):
    argv = ["--n", "10", "--sample-budget", "2k", "--eval-every", "1k", "--batch-size", "200", "--json"]
    code, out, _ = run_cli(capsys, *argv)
    assert code == 0 and json.loads(out.strip().splitlines()[-1])["samples"] == 2000


def test_a_bad_value_in_a_config_file_names_the_file_and_a_flag_names_the_flag(tmp_path, capsys):
    config = tmp_path / "mine.json"
    config.write_text(json.dumps({"batch_size": 0, "lr": 0.01}))
    code, _, err = run_cli(capsys, "--config", str(config))
    assert code == 2 and f"--config {str(config)!r}: batch_size=0 is not allowed" in err
    code, _, err = run_cli(capsys, "--config", str(config), "--batch-size", "64", "--lr", "-1")
    assert code == 2 and err.strip().endswith("--lr -1.0 is not allowed; expected a finite number > 0")
    config.write_text(json.dumps({"batch_size": 64, "learning_rate": 0.01}))
    code, _, err = run_cli(capsys, "--config", str(config))
    assert code == 2 and f"--config {str(config)!r}: unknown config key(s) ['learning_rate']" in err


def test_a_config_file_budget_fixed_for_another_n_says_what_it_trains(tmp_path, capsys):
    config = tmp_path / "best.json"
    config.write_text(json.dumps({"n": 100, "sample_budget": 3000, "batch_size": 200}))
    code, out, err = run_cli(capsys, "--config", str(config), "--n", "10", "--json")
    assert code == 0 and json.loads(out.strip().splitlines()[-1])["samples"] == 3000
    assert f"--config {config} fixes sample_budget=3,000 for n=100; at n=10 this trains 3,000 samples" in err
    assert "(300 per input, against 30 at n=100); --sample-budget sets another" in err
    code, out, err = run_cli(capsys, "--config", str(config), "--n", "10", "--sample-budget", "2k", "--json")
    assert code == 0 and "fixes sample_budget" not in err


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["--n", "1"], "--n 1 is not allowed; expected an integer >= 2"),
        (["--n", "ten"], "argument --n: invalid int value: 'ten'"),
        (["--encoding", "ascii"], "--encoding 'ascii' is not allowed; expected one of scalar"),
        (["--baseline", "critic"], "--baseline 'critic' is not allowed"),
        (["--reward-scale", "log"], "--reward-scale 'log' is not allowed"),
        (["--lr", "0"], "--lr 0.0 is not allowed; expected a finite number > 0"),
        (["--lr", "-1"], "--lr -1.0 is not allowed"),
        (["--entropy-coef", "-0.5"], "--entropy-coef -0.5 is not allowed; expected a finite number >= 0"),
        (["--batch-size", "0"], "--batch-size 0 is not allowed"),
        (
            ["--sample-budget", "-5"],
            "argument --sample-budget: '-5' is not allowed; expected a positive integer",
        ),
        (["--sample-budget", "lots"], "argument --sample-budget: 'lots' is not allowed"),
        (["--sample-budget", "2.5"], "argument --sample-budget: '2.5' is not allowed"),
        (["--device", "tpu"], "--device 'tpu' is not allowed"),
        (["--config", "tests/study/test_cli_train.py"], "not valid JSON or YAML"),
        (["--num-seeds", "0"], "--num-seeds 0 is not allowed"),
        (["--seeds", "1", "1"], "a non-empty list of distinct integers >= 0"),
        (["--preset", "reddit"], "--preset 'reddit' is not allowed; expected one of forum"),
        (["--reward", "no_such_pkg:f"], "--reward 'no_such_pkg:f': cannot import 'no_such_pkg'"),
        (["--reward", "tests.trainable.test_rewards:wrong_shape"], "expected a floating tensor"),
        (["--reward", "tests.trainable.test_rewards:wrong_dtype"], "torch.int64 tensor"),
        (["--reward", "tests.trainable.test_rewards:not_a_function"], "is not a callable"),
        (["--config", "/no/such/file.json"], "no such file"),
    ],
)
def test_bad_input_exits_2_with_one_line_naming_it(capsys, argv, expected):
    try:
        code = main(["train", *argv])
    except SystemExit as exit_:  # argparse's own errors
        code = exit_.code
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert expected in err


def test_device_cuda_trains_where_torch_sees_cuda_and_exits_2_elsewhere(capsys):
    argv = ["--device", "cuda", "--n", "10", "--sample-budget", "1024", "--batch-size", "256", "--json"]
    code, out, err = run_cli(capsys, *argv)
    if torch.cuda.is_available():
        assert code == 0, err
        assert json.loads(out.strip().splitlines()[-1])["samples"] == 1024
    else:
        assert code == 2 and out == ""
        assert (
            err.strip()
            == "banditune train: error: --device 'cuda' is not allowed; expected auto or cpu:"
            + (" torch sees no CUDA device on this machine")
        )


def test_bad_input_from_the_shell_has_no_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("n: [unclosed")
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", "train", "--config", str(bad)], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert result.stderr.startswith("banditune train: error: --config")
    assert "Traceback" not in result.stderr and result.stdout == ""


_calls = {"count": 0}


def fails_after_ten_calls(x, a, n):
    """-|x - a| for 10 calls, then FileNotFoundError with no file name (a user bug mid-run)."""
    _calls["count"] += 1
    if _calls["count"] > 10:
        raise FileNotFoundError("lookup table missing")
    return -(x - a).abs().float()


def test_a_reward_failing_during_training_exits_1_naming_it_with_its_traceback(capsys):
    _calls["count"] = 0
    code, out, err = run_cli(
        capsys,
        "--n",
        "10",
        "--sample-budget",
        "20000",
        "--batch-size",
        "256",
        "--reward",
        f"{__name__}:fails_after_ten_calls",
    )
    assert code == 1 and _calls["count"] == 11
    assert "Traceback (most recent call last)" in err
    assert "in fails_after_ten_calls" in err  # the frame that raised is kept
    last = err.strip().splitlines()[-1]
    assert last.startswith(
        "banditune train: failed during work: FileNotFoundError:"
        " lookup table missing (raised in fails_after_ten_calls at"
    )


def test_progress_on_a_pipe_is_one_plain_line_per_evaluation():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cli.main",
            "train",
            "--n",
            "10",
            "--sample-budget",
            "4096",
            "--eval-every",
            "1024",
            "--batch-size",
            "256",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert "\r" not in result.stderr
    assert [line.split()[1] for line in lines] == ["1,024/4,096", "2,048/4,096", "3,072/4,096", "4,096/4,096"]
    assert all(line.startswith("n=10: ") and "exact_match=" in line for line in lines)
