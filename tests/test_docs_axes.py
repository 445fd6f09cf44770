"""docs/study.md's table of search axes is the one study/axes.py derives (one table, one source)."""

from pathlib import Path

from study.axes import markdown_table

STUDY_DOC = Path(__file__).resolve().parents[1] / "docs" / "study.md"


def test_the_docs_table_of_axes_is_generated_from_the_table():
    text = STUDY_DOC.read_text()
    start = text.index("<!-- the axes: generated from study/axes.py")
    block = text[text.index("\n", start) + 1 : text.index("<!-- end of the axes -->")].strip()
    assert block == markdown_table(), "run `python -m study.axes` and paste its table into docs/study.md"
