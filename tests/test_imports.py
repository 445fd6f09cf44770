"""The command line's modules import at their top what is light; torch, Ray, Optuna and pandas
only inside the functions that train, run a study or analyse (README, Layout): building the
parser (every command, --help) loads none of them."""

import subprocess
import sys

HEAVY = ("torch", "ray", "optuna", "pandas")


def test_building_the_parser_imports_no_heavy_package():
    code = (
        "import sys; from cli.main import build_parser; build_parser();"
        f" print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == []
