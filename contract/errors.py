"""The one error for a value that is not allowed (bad input: the command line exits 2 with its
line). The trainer, the study and the command line raise it; its line is the command line's."""

from __future__ import annotations


class BadValue(ValueError):
    """A value that is not allowed: the field or option that holds it, the value, what is expected,
    and (where saying "is not allowed" is not enough) what is wrong with it.

    Its line names the command-line option: a field such as `sample_budget` becomes
    `--sample-budget`; an option (`--trials`, `--resume --name`, `RESULTS/NAME`, `RAY_ADDRESS`)
    stays as given:
        --sample-budget '0' is not allowed; expected a positive integer ...
        --reward 'my.mod:fn': raised KeyError: 3
    A value read from a file (`source`, e.g. "--config 'a.json'") is shown as the file's field:
        --config 'a.json': lr=-1 is not allowed; expected ...
    """

    def __init__(
        self, field: str, value, expected: str | None = None, problem: str | None = None, source=None
    ):
        super().__init__(field, value, expected, problem, source)
        self.field, self.value, self.expected = field, value, expected
        self.problem, self.source = problem, source

    @property
    def option(self) -> str:
        return as_option(self.field) if self.field.isidentifier() and self.field.islower() else self.field

    def read_from(self, source: str) -> BadValue:
        """The same error for a value that `source` (a file) gave."""
        return BadValue(self.field, self.value, self.expected, self.problem, source)

    def __str__(self) -> str:
        what = " is not allowed" if self.problem is None else f": {self.problem}"
        if self.expected is not None:
            what += f"; expected {self.expected}"
        if self.source is not None:
            return f"{self.source}: {self.field}={self.value!r}{what}"
        return f"{self.option} {self.value!r}{what}"


def check(ok: bool, field: str, value, expected: str) -> None:
    """BadValue unless `ok`: `field` (a field, or the option that holds it), `value`, `expected`."""
    if not ok:
        raise BadValue(field, value, expected)


def as_option(field: str) -> str:
    """A config field's command-line option: `entropy_coef` -> `--entropy-coef`."""
    return "--" + field.replace("_", "-")
