"""`banditune scale`: the top configs at each n give a point and interval; a power law fits them."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

from analysis.scale import fit_power_law, top_configs, write_scale
from cli import scale as cli
from tests.analysis.fake_study import config, trial, write_study

SMALL_N_LRS = (0.008, 0.009, 0.01, 0.011, 0.012)  # best at n=10
LARGE_N_LRS = (8e-4, 9e-4, 1e-3, 1.1e-3, 1.2e-3)  # best at n=100


def _planted() -> list[dict]:
    """Configs that win at n=10 with lr near 1e-2, at n=100 with lr near 1e-3, and distractors."""
    trials = []
    for i, lr in enumerate(SMALL_N_LRS):
        trials.append(trial(f"small{i}", config(lr=lr, entropy_coef=0.4), {10: [1.0] * 5, 100: [0.5] * 5}))
    for i, lr in enumerate(LARGE_N_LRS):
        trials.append(trial(f"large{i}", config(lr=lr, entropy_coef=0.4), {10: [0.5] * 5, 100: [1.0] * 5}))
    for i in range(4):
        trials.append(trial(f"bad{i}", config(lr=0.1, entropy_coef=3.0), {10: [0.2] * 5, 100: [0.1] * 5}))
    return trials


@pytest.fixture
def planted(tmp_path):
    return write_study(tmp_path / "planted", _planted())


def test_fit_recovers_a_power_law():
    ns = np.array([10, 30, 100, 300])
    rule = fit_power_law(ns, 0.05 * ns**-0.5)
    assert rule.coef == pytest.approx(0.05) and rule.exponent == pytest.approx(-0.5)


def test_top_configs_at_each_n_are_the_best_there(planted):
    top = top_configs([planted], top=5)
    assert set(top[top["n"] == 10]["trial_id"]) == {f"small{i}" for i in range(5)}
    assert set(top[top["n"] == 100]["trial_id"]) == {f"large{i}" for i in range(5)}
    assert (top["winners_at_n"] == 5).all()


def test_rule_falls_tenfold_per_tenfold_n_and_files_are_written(planted, tmp_path):
    summary = write_scale([planted], out=tmp_path / "out", top=5)
    lr = summary["rule"]["lr"]
    assert lr["exponent"] == pytest.approx(-1.0, abs=1e-9) and lr["coef"] == pytest.approx(0.1)
    assert summary["held"] == {"entropy_coef": 0.4} and "entropy_coef" not in summary["rule"]
    at_10 = summary["per_n"][0]
    assert (at_10["lr_low"], at_10["lr"], at_10["lr_high"]) == pytest.approx((0.008, 0.01, 0.012))
    assert json.loads((tmp_path / "out" / "scale.json").read_text()) == summary
    assert "| 10 | 5 | 1.000 | 0.01 [0.008, 0.012]" in (tmp_path / "out" / "scale.md").read_text()
    assert "- held: entropy_coef = 0.4 at every n" in (tmp_path / "out" / "scale.md").read_text()
    assert (tmp_path / "out" / "scale.png").read_bytes().startswith(b"\x89PNG")


def _parse(argv):
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    return parser.parse_args(argv)


def test_cli_refuses_a_single_n_before_work(tmp_path):
    only_10 = write_study(tmp_path / "one", [trial("a", config(), {10: [1.0] * 5})], ns=(10,))
    args = _parse(["scale", str(only_10), "--out", str(tmp_path / "o")])
    with pytest.raises(ValueError, match=r"n = \[10\]; a trend needs at least two distinct n"):
        args.plan(args)
    assert not (tmp_path / "o").exists()


def test_cli_refuses_top_below_one(planted, tmp_path):
    args = _parse(["scale", str(planted), "--out", str(tmp_path / "o"), "--top", "0"])
    with pytest.raises(ValueError, match="--top 0 is not allowed"):
        args.plan(args)


def test_cli_writes_the_rule(planted, tmp_path, capsys):
    args = _parse(["scale", str(planted), "--out", str(tmp_path / "o")])
    assert args.plan(args)() == 0
    assert "lr = 0.1 * n^-1.000" in capsys.readouterr().out
