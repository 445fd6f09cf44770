"""What analyze writes: summary.json's shape, best_config.json, report.md and its figures."""

from __future__ import annotations

import json

import pytest

from analysis.analyze import analyze
from tests.analysis.fake_study import (
    BUDGET,
    FORUM,
    NS,
    PLANTED_A,
    config,
    diagnose_rows,
    trial,
    write_study,
)

CONFIG_KEYS = set(FORUM)
ENTRY_KEYS = {"trial_id", "iqm", "ci_low", "ci_high", "frac_seeds_above", "seeds"} | CONFIG_KEYS
TRAIN_FIELDS = CONFIG_KEYS | {"n", "sample_budget"}
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def report_dir(planted_study, planted_summary):
    return planted_study / "report"


def test_summary_json_shape(report_dir, planted_summary):
    summary = json.loads((report_dir / "summary.json").read_text())
    assert summary == json.loads(json.dumps(planted_summary))  # the file is what analyze returned
    assert summary["threshold"] == 0.95
    assert set(summary["winners"]) == {"10", "100", "both"}
    for found in summary["winners"].values():
        assert found, "the planted configs win everywhere"
        for entry in found:
            assert ENTRY_KEYS <= set(entry)
            assert entry["ci_low"] <= entry["iqm"] <= entry["ci_high"]
        assert [e["iqm"] for e in found] == sorted((e["iqm"] for e in found), reverse=True)
    assert summary["counts"] == {"finished": 5, "stopped_early": 1, "failed": 1}
    best = summary["best"]
    assert best["trial_id"] in {"planted_a", "planted_b"} and best["winner_at_every_task"]
    assert set(best["scores"]) == {"10", "100", "both"}
    assert CONFIG_KEYS <= set(best)


def test_confirmation_shows_the_winners_curse(planted_summary):
    rows = {(r["trial_id"], r["task"]): r for r in planted_summary["confirmation"]}
    assert rows[("planted_a", "both")]["winner_confirm"] is True
    b = rows[("planted_b", "10")]
    assert b["winner_search"] is True and b["winner_confirm"] is False
    assert b["iqm_confirm"] < b["iqm_search"]


def test_best_config_json_holds_only_train_config_fields(report_dir, planted_summary):
    config = json.loads((report_dir / "best_config.json").read_text())
    assert set(config) <= TRAIN_FIELDS
    assert TRAIN_FIELDS - set(config) <= {"group_size"}
    best = planted_summary["best"]
    assert config["n"] == 100 and config["sample_budget"] == BUDGET[100]
    assert {k: config[k] for k in ("encoding", "baseline", "lr")} == {
        k: best[k] for k in ("encoding", "baseline", "lr")
    }


def test_best_config_json_is_accepted_by_the_trainer(report_dir):
    from trainable import config as config_module

    values = config_module.read_config_file(report_dir / "best_config.json")
    config = config_module.TrainConfig.from_dict(values)
    assert config.n == 100 and config.encoding == values["encoding"]


def test_report_md_and_figures(report_dir):
    report = (report_dir / "report.md").read_text()
    pngs = sorted(report_dir.glob("*.png"))
    assert len(pngs) >= 3
    for png in pngs:
        assert png.read_bytes()[:8] == PNG and png.stat().st_size > 10_000
        assert f"]({png.name})" in report, f"{png.name} is not embedded"
    for heading in (
        "## Short answer",
        "## Winners",
        "## What matters",
        "## Hyperparameter importance",
        "## Failures",
        "## Confirmation on fresh seeds",
        "## Diagnosis",
    ):
        assert heading in report
    assert "`planted_a`" in report and "RuntimeError: CUDA out of memory" in report
    assert "- `encoding`: scalar -> **onehot**" in report  # what the forum setup does differently


def test_report_diagnosis_table_has_every_variant_and_its_means(report_dir):
    report = (report_dir / "report.md").read_text()
    section = report[report.index("## Diagnosis") :]
    for variant in dict.fromkeys(r["variant"] for r in diagnose_rows()):
        assert f"| {variant} |" in section
    assert "| +encoding=onehot | encoding | 0.90 | 0.81 | 0.70 | 0.63 |" in section
    assert "- n = 100: mean exact match >= 0.95 with `all changes`." in section


def test_collapse_section_names_what_collapsed_configs_share(report_dir):
    report = (report_dir / "report.md").read_text()
    section = report[report.index("### Collapse") : report.index("### Failed trials")]
    assert "At n = 100: **1 of 6 configs collapsed**" in section
    assert "encoding = scalar" in section


def test_synthetic_study_without_confirmation_or_diagnosis(synthetic_study, tmp_path):
    summary = analyze(synthetic_study, out=tmp_path / "out", threshold=0.9)
    report = (tmp_path / "out" / "report.md").read_text()
    assert "confirmation" not in summary and "## Confirmation" not in report
    assert "## Diagnosis" not in report
    assert summary["threshold"] == 0.9
    assert len(list((tmp_path / "out").glob("*.png"))) == 4
    assert "### entropy_coef" in report and "| 0 |" in report  # no entropy bonus is its own group
    importance = summary["importance"]
    assert set(importance) == {"PED-ANOVA", "fANOVA"}
    for name, result in importance.items():  # an evaluator's failure would be stored as "error"
        assert set(result) == {"importances"}, (name, result)
    # The planted effects (fake_study.synthetic_trials): encoding moves the objective most (scalar
    # 0.01 against onehot 0.99 at n=100), then lr (a bump around 10^-2.5) and the baseline.
    # reward_scale, batch_size and hidden plant nothing; entropy_coef's 0.8 for bonuses >= 3e-3
    # is too small to rank.
    fanova = list(importance["fANOVA"]["importances"])
    assert fanova[:3] == ["encoding", "lr", "baseline"]
    assert importance["fANOVA"]["importances"]["encoding"] > 0.5
    planted, unplanted = ("encoding", "lr", "baseline"), ("reward_scale", "batch_size", "hidden")
    assert max(fanova.index(axis) for axis in planted) < min(fanova.index(axis) for axis in unplanted)
    assert list(importance["PED-ANOVA"]["importances"])[0] == "lr"  # the top 10%: lr near 10^-2.5


def test_a_study_whose_search_trials_all_failed_still_gets_a_report(tmp_path):
    trials = [
        trial(f"f{i}", config(hidden=4096), {n: [0.0] * 5 for n in NS}, status="failed") for i in range(3)
    ]
    root = write_study(tmp_path / "failed", trials)
    summary = analyze(root)
    assert summary["counts"] == {"finished": 0, "stopped_early": 0, "failed": 3}
    assert summary["best"] is None and summary["winners"] == {"10": [], "100": [], "both": []}
    assert not (root / "report" / "best_config.json").exists()
    report = (root / "report" / "report.md").read_text()
    assert "No search trial finished" in report and "| 3 | RuntimeError: CUDA out of memory |" in report


def test_a_single_n_study_has_winners_at_that_n_and_both(tmp_path):
    trials = [
        trial("good", PLANTED_A, {10: [1.0] * 5}),
        trial("bad", FORUM, {10: [0.6] * 5}),
    ]
    root = write_study(tmp_path / "single", trials, ns=(10,))
    summary = analyze(root, out=tmp_path / "out")
    assert set(summary["winners"]) == {"10", "both"}
    assert [w["trial_id"] for w in summary["winners"]["both"]] == ["good"]
    config = json.loads((tmp_path / "out" / "best_config.json").read_text())
    assert config["n"] == 10 and config["sample_budget"] == BUDGET[10]


def test_the_report_names_settings_the_study_held_fixed(tmp_path):
    """reward_scale standardize for every search config, raw for the forum: the short answer lists
    it among the differences, marked as held fixed, and the importance ranking names it unranked."""
    trials = [
        trial("good", PLANTED_A, {10: [1.0] * 5}),
        trial("bad", {**PLANTED_A, "encoding": "scalar", "lr": 1e-3}, {10: [0.6] * 5}),
        trial("forum", FORUM, {10: [0.6] * 5}, phase="reference"),
    ]
    root = write_study(tmp_path / "held", trials, ns=(10,))
    summary = analyze(root)
    assert summary["held_fixed"]["reward_scale"] == "standardize"
    assert "reward_scale" not in summary["importance"]["PED-ANOVA"].get("importances", {})
    report = (root / "report" / "report.md").read_text()
    assert "- `reward_scale`: raw -> **standardize** (held fixed by the study" in report
    assert "- `encoding`: scalar -> **onehot**\n" in report  # searched: not marked
    importance = report[report.index("## Hyperparameter importance") : report.index("## Failures")]
    assert "held them fixed" in importance and "reward_scale=standardize" in importance
