"""`banditune confirm`: the top configs of a (fake) study re-trained on fresh seeds, tiny budgets,
at the search's budget and at 3 times it."""

from __future__ import annotations

import contextlib
import io
import json

import pandas as pd
import pyarrow.parquet as pq
import pytest

from analysis.analyze import analyze
from cli import main as cli
from contract.schema import TRIAL_SCHEMA
from experiments import confirm
from study.trial import TrialRun
from tests.analysis.fake_study import SEEDS, config, planted_trials, trial, write_study

BUDGET = {10: 1000, 100: 2000}
REPORTS = 2
LONG = 3
USED = [*SEEDS, 1000]  # study.json lists seed 1000 as used: the fresh seeds must skip it


def tiny_study(root, trials=None):
    """The planted fake study (without its own confirmation rows) with tiny budgets."""
    trials = [t for t in (trials or planted_trials()) if t["rows"][0]["phase"] != "confirm"]
    for t in trials:
        for row in t["rows"]:
            row["sample_budget"] = BUDGET[row["n"]]
    write_study(root, trials)
    meta = json.loads((root / "study.json").read_text())
    (root / "study.json").write_text(json.dumps({**meta, "seeds": USED, "reports": REPORTS}))
    return root


@pytest.fixture(scope="module")
def confirmed(tmp_path_factory):
    """(study folder, stdout) after `banditune confirm --top 2 --num-seeds 3`."""
    root = tiny_study(tmp_path_factory.mktemp("confirm") / "s")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert (
            cli.main(["confirm", str(root), "--top", "2", "--num-seeds", "3", "--long-horizon", str(LONG)])
            == 0
        )
    return root, out.getvalue()


def test_top_k_by_analysis_ranking_get_one_file_per_horizon_each(confirmed):
    root, _ = confirmed
    expected = [
        "confirm-long-planted_a.parquet",
        "confirm-long-planted_b.parquet",
        "confirm-planted_a.parquet",
        "confirm-planted_b.parquet",
    ]  # not the decoy
    assert sorted(p.name for p in root.glob("trials/confirm-*.parquet")) == expected
    assert sorted(p.name for p in root.glob("curves/confirm-*.parquet")) == expected


def test_the_long_horizon_continues_the_search_horizon_run(confirmed):
    root, _ = confirmed
    short = pq.read_table(root / "curves" / "confirm-planted_a.parquet").to_pandas()
    long = pq.read_table(root / "curves" / "confirm-long-planted_a.parquet").to_pandas()
    assert set(short["horizon"]) == {"search"} and set(long["horizon"]) == {"long"}
    assert long.groupby(["n", "seed"]).size().eq(REPORTS * LONG).all()
    shared = ["n", "seed", "report", "samples", "exact_match", "p_correct", "stuck"]
    head = long[long["report"] < REPORTS][shared].reset_index(drop=True)
    pd.testing.assert_frame_equal(head, short[shared].reset_index(drop=True))
    rows = pq.read_table(root / "trials" / "confirm-long-planted_a.parquet").to_pandas()
    assert rows.groupby("n")["sample_budget"].first().to_dict() == {n: b * LONG for n, b in BUDGET.items()}
    assert (rows["samples"] >= rows["sample_budget"]).all() and rows["stuck"].notna().all()


def test_rows_are_fresh_seeds_in_the_study_schema(confirmed):
    root, _ = confirmed
    table = pq.read_table(root / "trials" / "confirm-planted_a.parquet")
    assert table.schema.remove_metadata().equals(TRIAL_SCHEMA)
    rows = table.to_pandas()
    assert set(rows["phase"]) == {"confirm"} and set(rows["trial_id"]) == {"planted_a"}
    assert set(rows["status"]) == {"finished"} and rows["exact_match"].notna().all()
    assert sorted(rows["seed"].unique()) == [1001, 1002, 1003]
    assert not set(rows["seed"]) & set(USED)
    assert sorted(map(tuple, rows[["n", "seed"]].to_numpy().tolist())) == sorted(
        (n, s) for n in BUDGET for s in (1001, 1002, 1003)
    )
    assert rows.groupby("n")["sample_budget"].first().to_dict() == BUDGET
    search = pq.read_table(root / "trials" / "planted_a-search.parquet").to_pandas()
    config = [
        "reward",
        "encoding",
        "baseline",
        "reward_scale",
        "lr",
        "entropy_coef",
        "batch_size",
        "hidden",
        "group_size",
    ]
    assert rows[config].drop_duplicates().to_dict("records") == search[config].drop_duplicates().to_dict(
        "records"
    )
    curves = pq.read_table(root / "curves" / "confirm-planted_a.parquet").to_pandas()
    assert set(curves["phase"]) == {"confirm"}
    assert curves.groupby(["n", "seed"]).size().eq(REPORTS).all()


def test_analysis_reports_confirmed_scores_next_to_search_scores(confirmed, tmp_path):
    root, out = confirmed
    summary = analyze(root, out=tmp_path / "report")
    rows = {(r["trial_id"], r["task"]): r for r in summary["confirmation"]}
    assert set(rows) == {(t, k) for t in ("planted_a", "planted_b") for k in ("10", "100", "both")}
    for (_, key), r in rows.items():
        assert r["iqm_search"] == 1.0  # the fixture's planted search scores
        assert r["seeds_confirm"] == (6 if key == "both" else 3)
        assert 0 <= r["iqm_confirm"] <= 1 and 0 <= r["iqm_long"] <= 1
        assert r["seeds_long"] == r["seeds_confirm"] and r["stuck_long"] >= 0
    report = (tmp_path / "report" / "report.md").read_text()
    assert "## Confirmation on fresh seeds" in report and "`planted_b`" in report
    assert "long-horizon IQM [CI]" in report
    printed = [line.split() for line in out.splitlines() if line.startswith("planted_")]
    assert {(p[0], p[1]) for p in printed} == set(rows)


def test_rerun_skips_configs_already_confirmed_on_these_seeds(confirmed, capsys):
    root, _ = confirmed
    path = root / "trials" / "confirm-planted_a.parquet"
    before = path.read_bytes()
    assert (
        cli.main(["confirm", str(root), "--top", "1", "--num-seeds", "3", "--long-horizon", str(LONG)]) == 0
    )
    assert "planted_a: already confirmed" in capsys.readouterr().out
    assert path.read_bytes() == before


def test_a_config_that_diverges_is_stored_as_failed(tmp_path, capsys):
    """The NaN reward breaks batches of 512 with 3 seeds: the confirmation fails, recorded."""
    nan = config(reward="tests.study.nan_reward:fn", batch_size=512)
    root = tiny_study(tmp_path / "s", [trial("nan", nan, {10: [1.0] * 5, 100: [1.0] * 5})])
    assert cli.main(["confirm", str(root), "--num-seeds", "3"]) == 0
    rows = pq.read_table(root / "trials" / "confirm-nan.parquet").to_pandas()
    assert set(rows["status"]) == {"failed"} and rows["exact_match"].isna().all()
    assert rows["error"].str.contains("NaN").all()
    assert "nan failed" in capsys.readouterr().out


def test_a_schedule_gets_a_run_of_its_own_at_the_search_budget(tmp_path, monkeypatch):
    """A schedule (lr or entropy bonus) spans the budget: the 1x view of a 3x run would train at a
    higher lr or bonus than the config as published, so a scheduled config trains each horizon;
    a constant one once."""
    built = []

    def recording(**kwargs):
        values = kwargs["values"]
        schedules = (values["lr_schedule"], values["entropy_schedule"])
        built.append((schedules, kwargs["sample_budget"], kwargs["reports"]))
        return TrialRun(**kwargs)

    monkeypatch.setattr("study.trial.TrialRun", recording)
    ones = {10: [1.0] * len(SEEDS), 100: [1.0] * len(SEEDS)}
    trials = [
        trial("cosine", config(lr_schedule="cosine"), ones),
        trial("annealed_bonus", config(entropy_schedule="linear"), ones),
        trial("flat", config(), ones),
    ]
    root = tiny_study(tmp_path / "s", trials)
    argv = ["confirm", str(root), "--top", "3", "--num-seeds", "2", "--long-horizon", str(LONG)]
    assert cli.main(argv) == 0
    search = {str(n): b for n, b in BUDGET.items()}
    long = {task: b * LONG for task, b in search.items()}
    flat, lr, bonus = ("constant", "constant"), ("cosine", "constant"), ("constant", "linear")
    expected = [(flat, long, REPORTS * LONG)]
    expected += [
        (s, budget, reports)
        for s in (lr, bonus)
        for budget, reports in ((long, REPORTS * LONG), (search, REPORTS))
    ]
    assert sorted(built, key=str) == sorted(expected, key=str)
    for trial_id in ("cosine", "annealed_bonus"):
        short = pq.read_table(root / "trials" / f"confirm-{trial_id}.parquet").to_pandas()
        assert short.groupby("n")["sample_budget"].first().to_dict() == BUDGET
        assert (short["samples"] >= short["sample_budget"]).all()


def test_candidates_take_the_winners_round_robin_over_baselines_then_the_rest():
    ranking = pd.DataFrame(
        {"trial_id": ["a1", "a2", "a3", "b1", "c1", "loser"], "winner": [True] * 5 + [False]}
    )
    configs = pd.DataFrame(
        {"baseline": ["ema", "ema", "ema", "grpo", "rloo", "none"]}, index=ranking["trial_id"]
    )
    assert confirm.candidates(ranking, configs, top=4) == ["a1", "b1", "c1", "a2"]
    assert confirm.candidates(ranking, configs, top=9) == ["a1", "b1", "c1", "a2", "a3", "loser"]
    assert confirm.candidates(ranking[ranking["trial_id"] == "loser"], configs, top=2) == ["loser"]


def test_fresh_seeds_skip_every_seed_the_study_used():
    trials = pd.DataFrame({"phase": ["search", "reference", "confirm"], "seed": [1001, 1003, 1002]})
    assert confirm.fresh_seeds([0, 1000], trials, 3) == (1002, 1004, 1005)


def test_a_speed_study_is_confirmed_under_its_own_objective(tmp_path):
    root = tiny_study(tmp_path / "s")
    assert confirm.make_plan(root, top=1, num_seeds=1).objective == "hold"
    meta = json.loads((root / "study.json").read_text())
    (root / "study.json").write_text(json.dumps({**meta, "spec": {"objective": "speed"}}))
    assert confirm.make_plan(root, top=1, num_seeds=1).objective == "speed"


def bare(root):
    root.mkdir()
    return root


def only_failed(root):
    """A study whose only search trial failed: nothing to confirm."""
    failed = [t for t in planted_trials() if t["rows"][0]["trial_id"] in ("broken", "forum")]
    return tiny_study(root, failed)


BAD = [
    (["--top", "0"], tiny_study, "--top 0 is not allowed"),
    (["--num-seeds", "0"], tiny_study, "--num-seeds 0 is not allowed"),
    (["--long-horizon", "0"], tiny_study, "--long-horizon 0 is not allowed"),
    (["--threads", "0"], tiny_study, "--threads 0 is not allowed"),
    ([], bare, "is not a study: no trials/ folder"),
    ([], lambda root: root, "does not exist or is not a folder"),
    ([], only_failed, "expected a study with a search trial that finished"),
]


@pytest.mark.parametrize(
    ("argv", "make", "message"),
    BAD,
    ids=["top 0", "num-seeds 0", "long 0", "threads 0", "no trials", "missing", "only failed"],
)
def test_bad_input_exits_2_with_one_line(argv, make, message, tmp_path, capsys, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("confirm trained for bad input")

    monkeypatch.setattr(confirm, "confirm_one", refuse)
    root = make(tmp_path / "s")
    assert cli.main(["confirm", str(root), *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("banditune confirm: error: ")
    assert message in err


def test_policy_confirms_the_top_configs_of_that_network_only(tmp_path):
    trials = planted_trials()
    for t in trials:  # loser_2 is the one config of the study that uses mlp2
        for row in t["rows"]:
            row["policy"] = "mlp2" if t["rows"][0]["trial_id"] == "loser_2" else "mlp"
    root = tiny_study(tmp_path / "s", trials)
    assert [j.trial_id for j in confirm.make_plan(root, top=2, num_seeds=1).jobs] == [
        "planted_a",
        "planted_b",
    ]
    jobs = confirm.make_plan(root, top=2, num_seeds=1, policy="mlp2").jobs
    assert [(j.trial_id, j.values["policy"]) for j in jobs] == [("loser_2", "mlp2")]
    with pytest.raises(ValueError, match=r"--policy 'bilinear' is not allowed; expected a policy the study"):
        confirm.make_plan(root, top=2, num_seeds=1, policy="bilinear")
