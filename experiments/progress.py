"""Progress of a long run: a tqdm bar on a terminal, one plain line per update on a pipe or file."""

from __future__ import annotations

import sys
from typing import TextIO

from tqdm import tqdm


class Progress:
    """`update(done, **fields)` after each evaluation; use as a context manager."""

    def __init__(
        self, *, total: int, desc: str, unit: str, file: TextIO | None = None, disable: bool = False
    ):
        self.total, self.desc, self.unit, self.disable = total, desc, unit, disable
        self.file = file or sys.stderr
        self.done = 0
        self.bar = None
        if not disable and self.file.isatty():
            self.bar = tqdm(total=total, desc=desc, unit=unit, unit_scale=True, file=self.file)

    def update(self, done: int, **fields) -> None:
        """Progress is now `done` of `total`; `fields` are shown beside it."""
        shown = {k: (f"{v:.3f}" if isinstance(v, float) else v) for k, v in fields.items()}
        if self.bar is not None:
            self.bar.update(done - self.done)
            self.bar.set_postfix(shown)
        elif not self.disable:
            extra = "".join(f" {k}={v}" for k, v in shown.items())
            print(f"{self.desc}: {done:,}/{self.total:,} {self.unit}s{extra}", file=self.file, flush=True)
        self.done = done

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.close()
