"""A study folder's copy in storage: with `--storage URI`, every result file the driver writes
(study.json, optuna.journal, trials/, curves/, diagnose.parquet, ...) is also under URI/NAME/,
beside Tune's experiment (URI/NAME/tune/), so the study outlives the machine that ran it.

Each file is written whole: object stores (S3, GCS) show an object only once its upload is
complete, and on a file system the copy is written under a hidden temporary name and renamed.
`fetch` brings such a copy back into an empty study folder for `--resume`. A file that cannot
be sent is logged (this module's logger, a warning) and retried; the command line prints it.
"""

from __future__ import annotations

import logging
import os
import posixpath
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.fs

from contract.study_file import StudyRecord, read_record

log = logging.getLogger(__name__)
SKIPPED = ("tune",)  # Tune's own experiment: in storage already, never in the copy


def _is_result(relative: str) -> bool:
    """A file of the copy: not Tune's experiment, not a hidden (temporary) file, not a lock
    (optuna.journal.lock lives only while the journal is written)."""
    parts = relative.split("/")
    return (
        parts[0] not in SKIPPED
        and not any(p.startswith(".") for p in parts)
        and not relative.endswith(".lock")
    )


class Mirror:
    """Copies the result files of the study folder `root` to the storage URI `target`; `sync`
    sends those that changed since the last one."""

    def __init__(self, root: Path, target: str):
        self.root, self.target = root, target
        self.sent: dict[str, tuple[int, int]] = {}  # relative path -> (size, mtime_ns) sent
        self._fs = None

    def __getstate__(self) -> dict:
        """Pickled (in Tune's experiment) without its file system: no credentials in it."""
        return {**self.__dict__, "_fs": None}

    def mark_sent(self) -> None:
        """Take the files here now as sent (a folder just fetched from the copy)."""
        for path, relative in self._results():
            stat = path.stat()
            self.sent[relative] = (stat.st_size, stat.st_mtime_ns)

    def _results(self):
        """(path, relative path) of every result file here."""
        for path in sorted(self.root.rglob("*")):
            relative = path.relative_to(self.root).as_posix()
            if not path.is_symlink() and path.is_file() and _is_result(relative):
                yield path, relative

    def sync(self) -> int:
        """Send every result file that is new or changed; the number sent. A file that cannot
        be sent is retried at the next sync (a warning logged), so a storage hiccup never stops
        the study: its folder here stays complete."""
        if self._fs is None:
            self._fs = pyarrow.fs.FileSystem.from_uri(self.target)
        fs, base = self._fs
        count = 0
        for path, relative in self._results():
            stat = path.stat()
            version = (stat.st_size, stat.st_mtime_ns)
            if self.sent.get(relative) == version:
                continue
            try:
                put(fs, posixpath.join(base, relative), path.read_bytes())
            except (OSError, pa.ArrowException) as error:
                log.warning("%s not copied to %s (%s); retried later", relative, self.target, error)
                continue
            self.sent[relative] = version
            count += 1
        return count


def put(fs: pyarrow.fs.FileSystem, path: str, data: bytes) -> None:
    """Write `data` to `path` on `fs` so that no reader ever sees part of it."""
    if fs.type_name != "local":  # one upload: the object appears when it is complete
        with fs.open_output_stream(path) as out:
            out.write(data)
        return
    head, tail = posixpath.split(path)
    fs.create_dir(head, recursive=True)
    tmp = posixpath.join(head, f".{tail}-{uuid.uuid4().hex[:8]}.tmp")
    with fs.open_output_stream(tmp) as out:
        out.write(data)
    fs.move(tmp, path)


def stored_meta(target: str) -> StudyRecord | None:
    """The study.json of the study's copy at `target`; None when storage holds none there."""
    fs, base = pyarrow.fs.FileSystem.from_uri(target)
    path = posixpath.join(base, "study.json")
    if fs.get_file_info(path).type != pyarrow.fs.FileType.File:
        return None
    with fs.open_input_stream(path) as stream:
        return read_record(stream.read())


def fetch(target: str, root: Path) -> int:
    """Copy the study at `target` into the folder `root` (made); the number of files. study.json
    comes last, so an interrupted fetch leaves no folder that looks like a study."""
    fs, base = pyarrow.fs.FileSystem.from_uri(target)
    infos = fs.get_file_info(pyarrow.fs.FileSelector(base, recursive=True))
    files = [info for info in infos if info.type == pyarrow.fs.FileType.File]
    relative = {info.path: posixpath.relpath(info.path, base) for info in files}
    wanted = sorted(
        (p for p in relative if _is_result(relative[p])), key=lambda p: relative[p] == "study.json"
    )
    for path in wanted:
        local = root / relative[path]
        local.parent.mkdir(parents=True, exist_ok=True)
        tmp = local.with_name(f".{local.name}-{uuid.uuid4().hex[:8]}.tmp")
        with fs.open_input_stream(path) as stream:
            tmp.write_bytes(stream.read())
        os.replace(tmp, local)
    return len(wanted)
