"""Where Ray Tune keeps a study's experiment (checkpoints, Tune's state): a folder or any URI
pyarrow opens (`s3://bucket/prefix`, with `?endpoint_override=...` options or AWS_ENDPOINT_URL
for an S3-compatible store, `gs://...`), checked by writing to it before any trial starts."""

from __future__ import annotations

import posixpath
import uuid
from urllib.parse import urlsplit, urlunsplit

import pyarrow.fs

from contract.errors import BadValue

PROBE = ".banditune-probe-"


def join(storage: str, *parts: str) -> str:
    """`storage` with `parts` added to its path; a URI keeps its scheme, bucket and options."""
    if "://" not in storage:
        return posixpath.join(storage, *parts)
    url = urlsplit(storage)
    return urlunsplit(url._replace(path=posixpath.join(url.path.rstrip("/") or "/", *parts)))


def write_probe(storage: str, *, text: str = "") -> str:
    """Write a small file under `storage` (made if missing); its path for `read_probe`."""
    fs, root = pyarrow.fs.FileSystem.from_uri(storage)
    fs.create_dir(root, recursive=True)
    path = posixpath.join(root, PROBE + uuid.uuid4().hex)
    with fs.open_output_stream(path) as out:
        out.write(text.encode())
    return path


def read_probe(storage: str, path: str) -> str:
    fs, _ = pyarrow.fs.FileSystem.from_uri(storage)
    with fs.open_input_stream(path) as stream:
        return stream.read().decode()


def delete_probe(storage: str, path: str) -> None:
    fs, _ = pyarrow.fs.FileSystem.from_uri(storage)
    fs.delete_file(path)


def check_writable(storage: str, *, option: str, shown: str) -> None:
    """BadValue unless this machine can write and delete a file under `storage`."""
    try:
        delete_probe(storage, write_probe(storage))
    except Exception as error:  # pyarrow raises OSError, ValueError or ArrowException subclasses
        raise BadValue(
            option,
            shown,
            "a folder or a URI that pyarrow can write, such as s3://bucket/prefix (an S3-compatible"
            " endpoint from AWS_ENDPOINT_URL or ?endpoint_override=HOST:PORT)",
            problem=f"not reachable ({type(error).__name__}: {_first_line(error)})",
        ) from None


def node_probe(storage: str, path: str) -> str | None:
    """On another node: None when it reads the driver's probe at `path` and writes one of its
    own under `storage`, else why not (one line)."""
    try:
        read_probe(storage, path)
        delete_probe(storage, write_probe(storage))
    except Exception as error:  # reported back to the driver as one line
        return f"{type(error).__name__}: {_first_line(error)}"
    return None


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else "no message"
