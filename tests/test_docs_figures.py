"""Every figure the README (and FINDINGS' short answer and diagnosis) quotes for the best config,
the forum reference and the defaults equals what the published files say: docs/best_config.json,
docs/summary.json, docs/diagnosis/diagnosis.json, docs/scale/lr/scale.json, trainable/defaults.py."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from trainable import defaults
from trainable.config import PRESETS, TrainConfig

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
FINDINGS = (ROOT / "docs" / "FINDINGS.md").read_text()
BEST = json.loads((ROOT / "docs" / "best_config.json").read_text())
SUMMARY = json.loads((ROOT / "docs" / "summary.json").read_text())
DIAGNOSIS = json.loads((ROOT / "docs" / "diagnosis" / "diagnosis.json").read_text())
LR_RULE = json.loads((ROOT / "docs" / "scale" / "lr" / "scale.json").read_text())["rule"]["lr"]
WINNERS = SUMMARY["winners"]["both"]
# the confirmation rows by task (docs/summary.json was written before the rows' "n" became "task")
CONFIRMATION = [{"task": r.get("task", r.get("n")), **r} for r in SUMMARY["confirmation"]]
REFERENCE = SUMMARY["reference"]["forum preset"]
FORUM = PRESETS["forum"]


def flat(text: str) -> str:
    """Markdown text with line breaks and list indents folded to single spaces."""
    return re.sub(r"\s+", " ", text)


def k(samples: int) -> str:
    return f"{samples // 1000}k"


def put_back(setting: str) -> dict:
    return DIAGNOSIS["variants"][f"all but {setting}"]["100"]


def test_the_best_config():
    text = flat(README)
    assert f"lr {BEST['lr']:.3g} annealed linearly" in text and BEST["lr_schedule"] == "linear"
    assert f"a constant entropy bonus of {BEST['entropy_coef']:.3g}" in text
    assert BEST["entropy_schedule"] == "constant"
    assert f"batches of {BEST['batch_size']}, {BEST['hidden']} hidden units" in text
    assert f"{k(BEST['sample_budget'])} samples at N={BEST['n']}" in text
    axes = (BEST["encoding"], BEST["baseline"], BEST["reward_scale"])
    assert axes == ("onehot", "batch_mean", "standardize")
    assert "one-hot input, batch-mean baseline with standardized advantages" in text
    assert f"- {BEST['entropy_coef']:.3g} * entropy" in text
    assert f"Use about {BEST['entropy_coef']:.2f}" in text
    assert f"torch.randint(n, ({BEST['batch_size']},))" in text
    for key in ("lr", "entropy_coef", "batch_size", "hidden", "encoding", "baseline"):
        assert SUMMARY["best"][key] == BEST[key]


def test_the_forum_reference():
    text = flat(README)
    at100 = REFERENCE["scores"]["100"]
    assert f"{at100['stuck']:.1f} of 100 inputs stuck** at N=100 (exact match {at100['iqm']:.3f}" in text
    assert f"{at100['seeds']} seeds, {k(BEST['sample_budget'])} samples each" in text
    assert (FORUM["entropy_coef"], FORUM["lr"], FORUM["encoding"]) == (1e-4, 1e-3, "scalar")
    assert "an entropy bonus of 1e-4, Adam at lr 1e-3" in text
    ratio = BEST["entropy_coef"] / FORUM["entropy_coef"]
    assert f"about {round(ratio, -3):,.0f} times too small" in text
    findings = flat(FINDINGS)
    assert f"**{at100['stuck']:.1f} of 100 inputs per seed are stuck**" in findings
    at10 = REFERENCE["scores"]["10"]
    assert f"and {at10['stuck']:.1f} of 10 at N=10" in findings


def test_the_winners_entropy_and_lr_ranges():
    coefs = [w["entropy_coef"] for w in WINNERS]
    lrs = [w["lr"] for w in WINNERS]
    lo, hi = min(coefs), max(coefs)
    span = f"{lo:.2f}-{hi:.2f}, {round(lo * 1e4, -2):,.0f}-{round(hi * 1e4, -2):,.0f} times 1e-4"
    assert f"the {len(WINNERS)} configs the study found above 0.95 at both N" in flat(README)
    assert span in flat(README)
    findings = flat(FINDINGS)
    assert f"**{lo:.2f} to {hi:.2f} in standardized advantage units**" in findings
    assert f"{round(lo * 1e4, -2):,.0f} to {round(hi * 1e4, -2):,.0f} times 1e-4" in findings
    assert f"a learning rate of {min(lrs):.2g} to {max(lrs):.2g}" in findings
    linear = sum(w["lr_schedule"] == "linear" for w in WINNERS)
    assert f"{linear} of the {len(WINNERS)} winners anneal it linearly" in findings


def test_the_four_causes_are_the_diagnosis():
    text, findings = flat(README), flat(FINDINGS)
    assert DIAGNOSIS["sample_budget"] == {"10": 30_000, "100": BEST["sample_budget"]}
    assert DIAGNOSIS["seeds"] == [0, 1, 2] and "seeds 0-2, 300k samples" in text
    assert DIAGNOSIS["variants"]["all changes"]["100"]["exact_match"] == 1.0
    encoding, scale, entropy = put_back("encoding"), put_back("reward_scale"), put_back("entropy_coef")
    assert f"**{encoding['exact_match']:.3f}** exact match" in text
    assert f"**{scale['exact_match']:.2f}**" in text
    assert f"**{entropy['exact_match']:.3f}**, with {entropy['stuck']:.0f} of 100 inputs stuck" in text
    assert f"reaches {put_back('lr')['exact_match']:.2f} in 300k samples" in text
    assert f"**{encoding['exact_match']:.3f}**" in findings and f"**{scale['exact_match']:.2f}**" in findings
    assert f"**{entropy['exact_match']:.3f}**, with {entropy['stuck']:.0f} of 100 inputs stuck" in findings
    assert put_back("baseline")["exact_match"] == 1.0 and "changes nothing, 1.00" in findings
    stuck = f"**{scale['exact_match']:.2f}**, {scale['stuck']:.0f} of 100 inputs stuck"
    assert stuck in text and stuck.replace("**, ", "**, with ") in findings
    slow = put_back("lr")
    assert slow["stuck"] == 0 and f"{slow['exact_match']:.2f} in 300k samples, with no input stuck" in text
    assert f"**{slow['exact_match']:.2f}** in 300k samples, with no input stuck" in findings


def test_findings_diagnosis_table_is_the_published_file():
    for variant, at in DIAGNOSIS["variants"].items():
        exact10, exact100, stuck = at["10"]["exact_match"], at["100"]["exact_match"], at["100"]["stuck"]
        row = f"| {variant} | {exact10:.3f} | {exact100:.3f} | {stuck:.1f} |"
        assert row in FINDINGS, row
    assert DIAGNOSIS["command"] in FINDINGS


def test_the_confirmation():
    text = flat(README)
    rows = CONFIRMATION
    confirmed = sorted({r["trial_id"] for r in rows})
    assert f"re-trained its top {len(confirmed)}" in text and "among 100 configs (5 seeds each)" in text
    assert sum(SUMMARY["counts"].values()) == 100
    mine = {r["task"]: r for r in rows if r["trial_id"] == SUMMARY["best"]["trial_id"]}
    for n in ("10", "100"):
        for horizon in ("confirm", "long"):
            r = mine[n]
            assert (r[f"iqm_{horizon}"], r[f"ci_low_{horizon}"], r[f"ci_high_{horizon}"]) == (1.0, 1.0, 1.0)
            assert r[f"frac_seeds_above_{horizon}"] == 1.0 and r[f"seeds_{horizon}"] == 10
            assert r[f"stuck_{horizon}"] == 0
    assert "is 1.00, with a 95% bootstrap interval of 1.00 to 1.00" in text
    clean = [r["trial_id"] for r in rows if r["task"] == "both" and r["stuck_long"] == 0]
    assert clean == [SUMMARY["best"]["trial_id"]] and "the only one of the 6 with no stuck input" in text


def test_the_defaults():
    text = flat(README)
    coef, exponent = defaults.FASTEST_LR
    assert (coef, exponent) == (round(LR_RULE["coef"], 3), round(LR_RULE["exponent"], 3))
    assert f"{defaults.LR_MARGIN} · {coef} · N^{exponent}" in text
    for n in (10, 100, 1000):
        assert f"{defaults.default_lr(n):.2g} at N={n}" in text
    assert f"an entropy bonus of {defaults.ENTROPY_COEF}, both annealed" in text
    per_input = defaults.SAMPLES_PER_INPUT // 1000
    low, high = defaults.MIN_SAMPLE_BUDGET // 1000, defaults.MAX_SAMPLE_BUDGET // 1_000_000
    assert f"{per_input}k samples per input ({low}k to {high}M)" in text
    assert f"sample {TrainConfig().group_size} outputs per input" in text


@pytest.mark.parametrize("stale", ["1000 times too small", "0.45 to 0.5", "this round", "not re-run"])
def test_stale_figures_are_gone(stale):
    assert stale not in flat(README) and stale not in flat(FINDINGS)


def test_every_docs_page_is_linked_from_the_readme_and_every_link_resolves():
    pages = {p.name for p in (ROOT / "docs").glob("*.md")}
    linked = set(re.findall(r"\]\(docs/([A-Za-z-]+\.md)\)", README))
    assert pages <= linked, pages - linked
    for page in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
            if "://" not in target:
                assert (page.parent / target).exists(), f"{page.name}: {target}"
    assert len(README.splitlines()) <= 250


def _table_after(marker: str) -> dict[str, list[float]]:
    """The first Markdown table after `marker` in FINDINGS: N -> the numbers of its row."""
    rest = FINDINGS[FINDINGS.index(marker) :]
    rows, started = {}, False
    for line in rest.splitlines():
        if line.startswith("| N |"):
            started = True
        elif started and line.startswith("|") and not line.startswith("|---"):
            cells = line.strip("|").split("|")
            rows[cells[0].split()[0]] = [float(x) for x in re.findall(r"\d+\.?\d*", "|".join(cells[1:]))]
        elif started and not line.startswith("|"):
            return rows
    return rows


def _two_digits(x: float) -> float:
    return float(f"{x:.2g}")


def _scale(folder: str) -> dict[str, dict]:
    data = json.loads((ROOT / "docs" / "scale" / folder / "scale.json").read_text())
    return {str(r["n"]): r for r in data["per_n"]}


def _same(printed: list[float], published: list[float]) -> bool:
    return [_two_digits(x) for x in printed] == [_two_digits(x) for x in published]


@pytest.mark.parametrize(
    ("marker", "folder"),
    [("[scale/scale.md]", ""), ("[scale/annealed/scale.md]", "annealed"), ("[scale/rule/scale.md]", "rule")],
)
def test_findings_scale_trend_tables_are_the_published_files(marker, folder):
    table, per_n = _table_after(marker), _scale(folder)
    assert set(table) == set(per_n)
    for n, r in per_n.items():
        winners, best_iqm, *rest = table[n]
        assert (winners, best_iqm) == (r["winners"], round(r["best_iqm"], 3))
        expected = [r[f"{p}{s}"] for p in ("lr", "entropy_coef") for s in ("", "_low", "_high")]
        assert _same(rest, expected), (n, rest, expected)


def test_findings_lr_and_bonus_sweep_tables_are_the_published_files():
    table, per_n = _table_after("[scale/lr-check/]"), _scale("lr-check")
    for n, r in per_n.items():
        assert _same(table[n][2:5], [r["lr"], r["lr_low"], r["lr_high"]]), n  # after "11 of 16"
    table, per_n = _table_after("[scale/bonus-at-lr/scale.md]"), _scale("bonus-at-lr")
    for n, r in per_n.items():
        assert _two_digits(table[n][0]) == _two_digits(r["lr"]) == _two_digits(defaults.default_lr(int(n)))
        at = 5 if n == "10" else 3  # after "lr | 11 of 12", and "(0.32-1.79)" at N=10
        bonus = [r["entropy_coef"], r["entropy_coef_low"], r["entropy_coef_high"]]
        assert _same(table[n][at : at + 3], bonus), n


def _which_config_rows() -> dict[str, list[str]]:
    """README's which-config table: 'task, use' -> its cells."""
    rest = README[README.index("## Which config when") :]
    rows = [line.strip("| ").split(" | ") for line in rest.splitlines() if line.startswith("| ")]
    return {f"{r[0]}, {r[1]}": r for r in rows[1:]}


BEST_ID = SUMMARY["best"]["trial_id"]


def test_the_which_config_table_is_the_published_files():
    rows = _which_config_rows()
    fast = json.loads((ROOT / "docs" / "fast_config.json").read_text())
    budget, batch = fast["sample_budget"], fast["batch_size"]
    for n, shown in ((10, "1.58k"), (100, "50k"), (1000, "1.58M")):
        value = budget["coef"] * n ** budget["exponent"]
        assert f"{value / 1e6:.3g}M" == shown or f"{value / 1e3:.3g}k" == shown, (n, shown)
        assert rows[f"N={n}, fast_config"][2] == shown
    rules = f"rules in N ({batch['coef']} N^{batch['exponent']}, {budget['coef']} N^{budget['exponent']})"
    assert rules in flat(README)
    best = rows["N=10 / 100, best_config"]
    assert best[2] == f"{k(DIAGNOSIS['sample_budget']['10'])} / {k(BEST['sample_budget'])}"
    mine = [r for r in CONFIRMATION if r["trial_id"] == BEST_ID and r["task"] in ("10", "100")]
    held = len(mine) == 2 and all(
        r[f"{h}_{w}"] == v
        for r in mine
        for w in ("confirm", "long")
        for h, v in (("iqm", 1.0), ("stuck", 0), ("seeds", 10))
    )
    assert held and best[5] == "10 fresh seeds, at the budget and at 5x: 1.00, none stuck"
    low, high = defaults.MIN_SAMPLE_BUDGET // 1000, defaults.MAX_SAMPLE_BUDGET // 1_000_000
    per_input = defaults.SAMPLES_PER_INPUT // 1000
    assert rows["N=10 to 1000, your own reward, the defaults"][2] == f"{per_input}k N, {low}k to {high}M"
    assert rows["a context set (digits), the defaults"][2] == f"{defaults.CONTEXTS_SAMPLE_BUDGET // 10**6}M"


def test_the_published_report_names_the_settings_its_study_held_fixed():
    held = SUMMARY["held_fixed"]
    assert held["reward_scale"] == BEST["reward_scale"] == "standardize"
    assert not set(held) & set(SUMMARY["importance"]["PED-ANOVA"]["importances"])
    report = (ROOT / "docs" / "report.md").read_text()
    assert "- `reward_scale`: raw -> **standardize** (held fixed by the study" in report
    fixed = ", ".join(f"{axis}={value}" for axis, value in held.items())
    assert f"the study held them fixed (one value for every config): {fixed}." in report
