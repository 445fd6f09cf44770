"""docs/study.md's table of options states the study's defaults as study.spec holds them (the one
place they are written; the options and their help read them there)."""

from pathlib import Path

from cli.main import build_parser
from study.spec import DEFAULT_NAME, DEFAULT_NS, DEFAULT_NUM_SEEDS, DEFAULT_RESULTS, default

STUDY_DOC = Path(__file__).resolve().parents[1] / "docs" / "study.md"


def shown(value) -> str:
    return (
        f"{value:g}"
        if isinstance(value, float)
        else " ".join(map(str, value))
        if isinstance(value, tuple)
        else str(value)
    )


def documented() -> dict[str, str]:
    """{option: its default cell} of the options table (backticks dropped)."""
    rows = [line.split(" | ") for line in STUDY_DOC.read_text().splitlines() if line.startswith("| `--")]
    return {row[0].removeprefix("| ").strip("`"): row[1].replace("`", "") for row in rows if len(row) >= 3}


EXPECTED = {
    "--name": DEFAULT_NAME,
    "--results": DEFAULT_RESULTS,
    "--n": DEFAULT_NS,
    "--trials": default("trials"),
    "--num-seeds": DEFAULT_NUM_SEEDS,
    "--reports": default("reports"),
    "--reward": default("reward"),
    "--seed": default("search_seed"),
    "--sampler": default("sampler"),
    "--objective": default("objective"),
    "--scheduler": default("scheduler"),
    "--holdout": default("holdout"),
    "--gpus-per-trial": default("gpus_per_trial"),
    "--cpus-per-trial": default("cpus_per_trial"),
}


def test_the_docs_table_states_the_study_defaults():
    docs = documented()
    wrong = {
        o: (docs.get(o), shown(v)) for o, v in EXPECTED.items() if docs.get(o, "").split(" (")[0] != shown(v)
    }
    assert not wrong, f"docs/study.md's default (left) is not study.spec's (right): {wrong}"


def test_the_help_states_the_study_defaults():
    study = build_parser()._subparsers._group_actions[0].choices["study"]
    helps = {a.option_strings[0]: " ".join(a.help.split()) for a in study._actions if a.option_strings}
    wrong = [o for o, v in EXPECTED.items() if f"default: {shown(v)}" not in helps[o]]
    assert not wrong, f"banditune study --help does not state study.spec's default of {wrong}"
