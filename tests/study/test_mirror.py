"""The study folder's copy in storage (study.mirror), with a folder as the storage: what is
copied, that only changed files are sent again, and the fetch back."""

from __future__ import annotations

import os

from study.mirror import Mirror, fetch, stored_meta


def study_folder(root):
    (root / "trials").mkdir(parents=True)
    (root / "curves").mkdir()
    (root / "tune").mkdir()
    (root / "study.json").write_text('{"name": "s"}\n')
    (root / "optuna.journal").write_text('{"op_code": 0}\n')
    (root / "trials" / "t1.parquet").write_bytes(b"rows")
    (root / "curves" / "t1.parquet").write_bytes(b"curves")
    (root / "trials" / ".t2-0123abcd.tmp").write_bytes(b"half")  # a write in progress
    (root / "tune" / "experiment_state.json").write_text("{}")  # Tune's, in storage already
    os.symlink("optuna.journal", root / "optuna.journal.lock")  # Optuna's lock while it writes


def files(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_the_copy_holds_the_result_files_whole_and_sends_only_changes(tmp_path):
    root, storage = tmp_path / "results" / "s", tmp_path / "storage" / "s"
    study_folder(root)
    copy = Mirror(root, str(storage))
    assert copy.sync() == 4
    expected = {"study.json", "optuna.journal", "trials/t1.parquet", "curves/t1.parquet"}
    assert files(storage) == {key: (root / key).read_bytes() for key in expected}  # no temp file left
    assert copy.sync() == 0
    with (root / "optuna.journal").open("a") as journal:
        journal.write('{"op_code": 4}\n')
    (root / "trials" / "t2.parquet").write_bytes(b"more rows")
    assert copy.sync() == 2
    assert files(storage)["optuna.journal"] == (root / "optuna.journal").read_bytes()

    assert stored_meta(str(storage)).name == "s" and stored_meta(str(tmp_path / "storage" / "x")) is None
    again = tmp_path / "elsewhere" / "s"
    assert fetch(str(storage), again) == 5
    assert files(again) == files(storage)


def test_a_file_that_cannot_be_sent_is_logged_and_retried_and_the_command_line_prints_it(tmp_path, capsys):
    from cli.main import print_study_logs

    root, storage = tmp_path / "results" / "s", tmp_path / "storage"
    study_folder(root)
    storage.mkdir()
    (storage / "trials").write_text("a file where the copy needs a folder")
    copy = Mirror(root, str(storage))
    print_study_logs()
    print_study_logs()  # once per process: still one line per file
    assert copy.sync() == 3
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"warning: trials/t1.parquet not copied to {storage} (")
    assert err[0].endswith("; retried later")
    (storage / "trials").unlink()
    assert copy.sync() == 1 and (storage / "trials" / "t1.parquet").read_bytes() == b"rows"
