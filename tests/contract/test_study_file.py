"""study.json is a typed, versioned record (contract.study_file): a study.json written before the
record (version 1, tests/contract/data/study-v1.json, from a 2-trial study at n=10) still loads,
and a record writes back every key it read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contract.study_file import VERSION, StudyRecord, load_record, read_record, write_record
from study.spec import StudySpec

OLD = Path(__file__).parent / "data" / "study-v1.json"


def test_a_study_json_from_before_the_record_loads_with_its_values():
    record = load_record(OLD)
    assert (record.name, record.tasks, record.ns, record.contexts) == ("tiny", ("10",), (10,), ())
    assert (record.seeds, record.reports, record.search_seed, record.holdout) == ((0,), 2, 0, 0.25)
    assert (record.sampler, record.scheduler, record.objective) == ("tpe", "asha", "hold")
    assert record.ray_experiment == "/tmp/knobs-tiny/tiny/tune" and record.copy is None
    assert record.ended and list(record.search_space)[0] == "encoding"
    assert StudySpec.from_json(record.spec).trials == 2


def test_a_record_writes_back_every_key_it_read_and_its_version(tmp_path):
    old = json.loads(OLD.read_text())
    write_record(load_record(OLD), tmp_path / "study.json")
    written = json.loads((tmp_path / "study.json").read_text())
    assert written == {**old, "version": VERSION}
    assert read_record(json.dumps(written)) == load_record(OLD)


def test_the_oldest_files_without_spec_or_tasks_read_their_n():
    record = StudyRecord.from_json({"name": "old", "n": [10, 100], "seeds": [0, 1]})
    assert (record.tasks, record.seeds, record.spec, record.search_seed) == (("10", "100"), (0, 1), {}, None)
    assert (record.sampler, record.scheduler, record.objective) == ("tpe", "asha", "hold")


def test_a_resume_adds_its_entry_and_runs_again():
    record = load_record(OLD).resume({"command": "banditune study --name tiny --resume"})
    assert record.ended is None and len(record.resumed) == 1
    assert record.to_json()["resumed"] == [{"command": "banditune study --name tiny --resume"}]


@pytest.mark.parametrize(
    ("text", "reason"), [("[1]", "not a JSON object"), ('{"version": 99}', "version 99")]
)
def test_what_is_not_a_record_is_refused_saying_why(text, reason):
    with pytest.raises(ValueError, match=reason):
        read_record(text)
