"""`banditune diagnose`: one axis at a time from the forum preset, tiny budgets (seconds)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from analysis.breakdown import diagnosis_table
from analysis.load import DIAGNOSE_REQUIRED, DIAGNOSE_SCHEMA, load_study, read_table
from cli import main as cli
from experiments import diagnose
from tests.analysis.fake_study import planted_trials, write_study
from trainable import PRESETS, TrainConfig, train

TINY = ["--n", "10", "100", "--num-seeds", "2", "--sample-budget", "10=1000,100=2000"]
# The forum preset with two axes changed (independent of the trainer's tunable defaults).
TARGET = {**PRESETS["forum"], "encoding": "onehot", "lr": 0.01}


@pytest.fixture
def no_training(monkeypatch):
    """Fail the test if anything trains."""

    def refuse(**kwargs):
        raise AssertionError("diagnose trained for bad input")

    monkeypatch.setattr(diagnose, "train_all", refuse)


def run(config: str, results, *options: str) -> int:
    """`banditune diagnose --config CONFIG --results RESULTS OPTIONS` in this process: its exit status."""
    return cli.main(["diagnose", "--config", config, "--results", str(results), *options])


def write_config(path, values: dict) -> str:
    path.write_text(json.dumps(values))
    return str(path)


def test_settings_cover_every_trainer_field():
    """A trainer field that diagnose neither varies nor sets would be silently left out."""
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    assert set(diagnose.SETTINGS) | set(diagnose.PER_RUN) == fields
    assert not set(diagnose.SETTINGS) & set(diagnose.PER_RUN)


def test_one_variant_per_changed_axis_and_all_changes_is_the_target():
    target = diagnose.target_settings(TARGET)
    found = diagnose.variants(target)
    assert [(v.name, v.changed) for v in found] == [
        ("forum", ""),
        ("+encoding=onehot", "encoding"),
        ("+lr=0.01", "lr"),
        ("all changes", "all"),
    ]
    forum = found[0].settings
    assert {k for k in forum if found[1].settings[k] != forum[k]} == {"encoding"}
    assert {k for k in forum if found[2].settings[k] != forum[k]} == {"lr"}
    assert found[-1].settings == target


def test_group_baseline_rounds_the_forum_batch_and_says_so():
    target = diagnose.target_settings(
        {**PRESETS["forum"], "baseline": "rloo", "group_size": 4, "batch_size": 64}
    )
    variant = diagnose.variants(target)[1]
    assert variant.name == "+baseline=rloo,group_size=4,batch_size=48"
    assert variant.changed == "baseline"
    config = TrainConfig(**variant.settings, n=10)
    assert (config.baseline, config.group_size, config.batch_size) == ("rloo", 4, 48)


def test_leave_one_out_puts_one_axis_back_at_the_preset_value():
    target = diagnose.target_settings({**TARGET, "baseline": "grpo", "group_size": 8, "batch_size": 64})
    found = diagnose.variants(target, leave_one_out=True)
    names = [v.name for v in found]
    assert names[names.index("all changes") + 1 :] == [
        "all but encoding",
        "all but baseline",
        "all but lr",
        "all but batch_size (batch_size=48)",
    ]
    forum = found[0].settings
    by_name = {v.name: v for v in found}
    assert by_name["all but lr"].settings == {**target, "lr": forum["lr"]}
    assert by_name["all but lr"].changed == "all but lr"
    assert by_name["all but baseline"].settings["baseline"] == "none"
    # Back at the preset's 50, the batch no longer holds whole groups of 8: 48 does.
    assert by_name["all but batch_size (batch_size=48)"].settings["batch_size"] == 48
    assert "all but lr" not in [v.name for v in diagnose.variants(target)]


def test_unused_baseline_settings_are_not_a_change():
    """group_size means nothing without a group baseline: such a target is the forum preset."""
    target = diagnose.target_settings({**PRESETS["forum"], "group_size": 4, "ema_decay": 0.5})
    with pytest.raises(ValueError, match="trains like the forum preset"):
        diagnose.variants(target)


def test_diagnose_writes_every_variant_at_every_n_and_seed(tmp_path, capsys):
    config = write_config(tmp_path / "target.json", TARGET)
    status = run(config, tmp_path / "r", *TINY)
    assert status == 0
    path = tmp_path / "r" / "diagnose.parquet"
    # Analysis reads it with its own schema: same names and types for the columns it needs.
    table = pq.read_table(path)
    assert table.select(DIAGNOSE_SCHEMA.names).schema.remove_metadata().equals(DIAGNOSE_SCHEMA)
    rows = read_table(path, schema=DIAGNOSE_SCHEMA, required=DIAGNOSE_REQUIRED).to_pandas()
    names = ["forum", "+encoding=onehot", "+lr=0.01", "all changes"]
    assert sorted(map(tuple, rows[["variant", "n", "seed"]].to_numpy().tolist())) == sorted(
        (v, n, s) for v in names for n in (10, 100) for s in (0, 1)
    )
    assert rows["exact_match"].between(0, 1).all() and rows["p_correct"].between(0, 1).all()
    full = table.to_pandas()
    assert full.groupby("n")["sample_budget"].first().to_dict() == {10: 1000, 100: 2000}
    assert full.loc[full["variant"] == "forum", "encoding"].eq("scalar").all()
    # The table printed is analysis' diagnosis table: one line per variant, in order.
    out = capsys.readouterr().out
    lines = out.splitlines()[1 : 1 + len(names)]
    assert [line.split("  ")[0].strip() for line in lines] == names
    shown = diagnosis_table(rows).loc["+lr=0.01", ("exact_match", "100")]
    assert f"{shown:.3f}" in out.splitlines()[3]


def test_all_changes_trains_exactly_the_target(tmp_path):
    """Same seeds, same budget: the "all changes" rows are the target config's own run (on the
    CPU, where a run is bit-identical run to run)."""
    config = write_config(tmp_path / "target.json", {**TARGET, "device": "cpu"})
    assert run(config, tmp_path, "--n", "10", "--num-seeds", "2", "--sample-budget", "1000") == 0
    rows = pq.read_table(tmp_path / "diagnose.parquet").to_pandas()
    mine = rows[rows["variant"] == "all changes"].sort_values("seed")
    *_, direct = train(TrainConfig(**TARGET, n=10, seeds=(0, 1), sample_budget=1000, device="cpu"))
    np.testing.assert_array_equal(mine["exact_match"], direct.exact_match)
    np.testing.assert_array_equal(mine["p_correct"], direct.p_correct)


def test_leave_one_out_option_trains_the_extra_variants(tmp_path):
    config = write_config(tmp_path / "target.json", TARGET)
    assert (
        run(config, tmp_path, "--n", "10", "--num-seeds", "1", "--sample-budget", "500", "--leave-one-out")
        == 0
    )
    rows = pq.read_table(tmp_path / "diagnose.parquet").to_pandas()
    assert list(dict.fromkeys(rows["variant"])) == [
        "forum",
        "+encoding=onehot",
        "+lr=0.01",
        "all changes",
        "all but encoding",
        "all but lr",
    ]


def test_a_variant_that_diverges_is_kept_with_its_error(tmp_path):
    """The NaN reward breaks batches of 512 (3 seeds): those variants only, the rest trains."""
    values = {**PRESETS["forum"], "batch_size": 512, "reward": "tests.study.nan_reward:fn"}
    config = write_config(tmp_path / "target.json", values)
    assert run(config, tmp_path, "--n", "10", "--num-seeds", "3", "--sample-budget", "3000") == 0
    rows = pq.read_table(tmp_path / "diagnose.parquet").to_pandas()
    failed = rows[rows["error"].notna()]
    assert set(failed["variant"]) == {"+batch_size=512", "all changes"}
    assert failed["error"].str.contains("NaN").all() and failed["exact_match"].isna().all()
    assert rows.loc[rows["variant"] == "forum", "exact_match"].notna().all()


def test_study_target_is_its_best_config_and_lands_beside_the_study(tmp_path):
    """--study NAME reads report/best_config.json, uses the study's n and writes where analyze
    reads it."""
    root = write_study(tmp_path / "s1", planted_trials(), ns=(10, 100))
    (root / "report").mkdir()
    best = {**TARGET, "baseline": "rloo", "group_size": 4, "batch_size": 64, "n": 100, "sample_budget": 10**6}
    (root / "report" / "best_config.json").write_text(json.dumps(best))
    options = ["--study", "s1", "--results", str(tmp_path), "--num-seeds", "1", "--sample-budget", "500"]
    assert cli.main(["diagnose", *options]) == 0
    data = load_study(root)
    assert set(data.diagnose["n"]) == {10, 100}
    changed = list(dict.fromkeys(data.diagnose["changed"]))
    assert changed == ["", "encoding", "baseline", "lr", "batch_size", "all"]
    full = pq.read_table(root / "diagnose.parquet").to_pandas()
    assert full["sample_budget"].eq(500).all()  # best_config's own budget is not diagnose's


def test_target_equal_to_forum_is_refused_with_one_line(tmp_path, capsys, no_training):
    config = write_config(tmp_path / "forum.json", PRESETS["forum"])
    assert run(config, tmp_path) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nothing to diagnose" in err


BAD = [
    (["--n", "1"], "--n 1 is not allowed"),
    (["--n", "10", "10"], "--n '10 10' is not allowed"),
    (["--num-seeds", "0"], "--num-seeds 0 is not allowed"),
    (["--sample-budget", "lots"], "--sample-budget 'lots' is not allowed"),
    (["--sample-budget", "7=1000"], "--sample-budget '7=1000' is not allowed"),
    (["--study", "nope"], "--study 'nope' is not allowed"),
    (["--study", "bare"], "run `banditune analyze"),
    (["--config", "missing.json"], "--config 'missing.json': no such file"),
    (["--config", "BAD_LR"], "lr=-1 is not allowed"),
]


@pytest.mark.parametrize(("argv", "message"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_exits_2_with_one_line(argv, message, tmp_path, capsys, no_training, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bare").mkdir()  # a folder without report/best_config.json
    argv = [write_config(tmp_path / "bad.json", {"lr": -1}) if a == "BAD_LR" else a for a in argv]
    assert cli.main(["diagnose", "--results", str(tmp_path), *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("banditune diagnose: error: ")
    assert message in err
    assert not (tmp_path / "diagnose.parquet").exists()


def test_the_settings_columns_are_the_common_fields_and_every_axis_field():
    from experiments.diagnose import AXES, COMMON, SETTINGS

    assert sorted(SETTINGS) == sorted((*COMMON, *(f for fields in AXES.values() for f in fields)))
    assert len(SETTINGS) == len(set(SETTINGS))


BLOBS = "tests.synthetic_contexts:blobs"


def test_diagnose_trains_every_variant_on_a_context_set_and_scores_it_held_out(tmp_path, capsys):
    config = write_config(tmp_path / "target.json", TARGET)
    argv = ["--contexts", BLOBS, "--num-seeds", "2", "--sample-budget", f"{BLOBS}=2000"]
    assert run(config, tmp_path / "r", *argv) == 0
    rows = pq.read_table(tmp_path / "r" / "diagnose.parquet").to_pandas()
    assert set(rows["task"]) == {BLOBS} and set(rows["n"]) == {4} and len(rows) == 4 * 2
    assert rows["heldout_exact_match"].between(0, 1).all()
    shown = diagnosis_table(rows).loc["all changes", ("exact_match", BLOBS)]
    assert shown == pytest.approx(rows.loc[rows["variant"] == "all changes", "heldout_exact_match"].mean())
    assert f"exact {BLOBS}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--contexts", "mnist"], "--contexts 'mnist' is not allowed"),
        (["--contexts", "digits", "--holdout", "0"], "--holdout 0.0 is not allowed"),
        (["--contexts", "tests.synthetic_contexts:one_class"], "labels hold 1 class"),
        (["--contexts", "digits", "--sample-budget", "10=1000"], "only for the study's tasks (digits)"),
    ],
)
def test_bad_contexts_exit_2_before_diagnose_trains(argv, message, tmp_path, capsys, no_training):
    assert cli.main(["diagnose", "--results", str(tmp_path), *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
