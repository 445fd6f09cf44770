"""The tables the docs show that are generated (one table, one source): docs/study.md's search axes
from study/axes.py; docs/trainer.md's knobs (as `banditune train --help` says them) and
docs/results.md's config columns from contract/knobs.py."""

from pathlib import Path

import pytest

from cli.train import markdown_table as knobs_table
from contract.schema import config_table
from study.axes import markdown_table as axes_table

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.mark.parametrize(
    ("page", "name", "generate", "command"),
    [
        ("study.md", "the axes", axes_table, "python -m study.axes"),
        ("trainer.md", "the knobs", knobs_table, "python -m cli.train"),
        ("results.md", "the config columns", config_table, "python -m contract.schema"),
    ],
)
def test_a_docs_table_is_the_one_its_source_generates(page, name, generate, command):
    text = (DOCS / page).read_text()
    start = text.index(f"<!-- {name}: generated from ")
    block = text[text.index("\n", start) + 1 : text.index(f"<!-- end of {name} -->")].strip()
    assert block == generate(), f"run `{command}` and paste its table into docs/{page}"
