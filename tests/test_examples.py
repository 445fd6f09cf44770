"""examples/forum_fixed.py: its settings are docs/best_config.json's, and it learns."""

from __future__ import annotations

import ast
import json
import math
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "forum_fixed.py"


def _constants() -> dict:
    """The example's module-level constants (NAME = literal, or A, B = literal, literal)."""
    out = {}
    for node in ast.parse(EXAMPLE.read_text()).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
            try:
                literal = ast.literal_eval(value)
            except ValueError:
                continue
            if isinstance(target, ast.Name):
                out[target.id] = literal
            elif isinstance(target, ast.Tuple):
                out.update({t.id: v for t, v in zip(target.elts, literal)})
    return out


def test_settings_are_the_published_best_config():
    best = json.loads((ROOT / "docs" / "best_config.json").read_text())
    c = _constants()
    # The example writes them as the README quotes them: three significant digits.
    assert math.isclose(c["LR"], best["lr"], rel_tol=1e-3)
    assert math.isclose(c["ENTROPY_COEF"], best["entropy_coef"], rel_tol=1e-3)
    assert c["BATCH_SIZE"] == best["batch_size"]
    assert c["HIDDEN"] == best["hidden"]
    assert max(c["MIN_SAMPLES"], c["SAMPLES_PER_INPUT"] * best["n"]) == best["sample_budget"]
    # What the example's code hard-codes: the reward, the input, the advantages, the schedules.
    assert (best["reward"], best["encoding"]) == ("abs", "onehot")
    assert (best["baseline"], best["reward_scale"]) == ("batch_mean", "standardize")
    assert (best["lr_schedule"], best["entropy_schedule"]) == ("linear", "constant")
    source = EXAMPLE.read_text()
    assert "(r - r.mean()) / (r.std() + 1e-8)" in source
    assert "lambda step: 1 - step / steps" in source
    assert "-(x - a).abs()" in source


def test_standalone_torch_and_numpy_only():
    imports = set()
    for node in ast.walk(ast.parse(EXAMPLE.read_text())):
        if isinstance(node, ast.Import):
            imports |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imports.add(node.module.split(".")[0])
    assert imports <= {"argparse", "time", "numpy", "torch"}
    assert len(EXAMPLE.read_text().splitlines()) <= 85


def test_it_learns_at_n10():
    out = subprocess.run(
        [sys.executable, str(EXAMPLE), "--n", "10", "--seeds", "0", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    exact = [float(v) for v in re.findall(r"exact match ([0-9.]+)", out)]
    assert len(exact) == 2, out
    assert min(exact) >= 0.99, out
    assert "samples to 0.99" in out


def test_each_fix_quotes_what_undoing_it_costs():
    variants = json.loads((ROOT / "docs" / "diagnosis" / "diagnosis.json").read_text())["variants"]

    def cost(setting: str) -> dict:
        return variants[f"all but {setting}"]["100"]

    source = " ".join(EXAMPLE.read_text().split())
    assert f"many inputs share an output ({cost('encoding')['exact_match']:.2f})" in source
    assert f"grows with N ({cost('reward_scale')['exact_match']:.2f})" in source
    entropy = cost("entropy_coef")
    assert f"({entropy['exact_match']:.2f}, {entropy['stuck']:.0f} of 100 inputs stuck" in source
    assert f"constant ({cost('lr')['exact_match']:.2f})" in source
    assert cost("batch_size")["exact_match"] == cost("inputs")["exact_match"] == 1.0
    assert source.count("(1.00: harmless") == 2
