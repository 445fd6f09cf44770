"""The one error for a value that is not allowed (bad input: the command line exits 2 with its
line), and the one place a trainer message gets the command line's option in front."""

from __future__ import annotations


class BadValue(ValueError):
    """A value that is not allowed: the field or option that holds it, the value, what is expected.

    Its line names the command-line option: a field such as `sample_budget` becomes
    `--sample-budget`; an option (`--trials`, `--resume --name`, `RESULTS/NAME`, `RAY_ADDRESS`)
    stays as given: "--sample-budget '0' is not allowed; expected a positive integer ..."."""

    def __init__(self, field: str, value, expected: str):
        super().__init__(field, value, expected)
        self.field, self.value, self.expected = field, value, expected

    @property
    def option(self) -> str:
        return as_option(self.field) if self.field.isidentifier() and self.field.islower() else self.field

    def __str__(self) -> str:
        return f"{self.option} {self.value!r} is not allowed; expected {self.expected}"


def as_option(field: str) -> str:
    """A config field's command-line option: `entropy_coef` -> `--entropy-coef`."""
    return "--" + field.replace("_", "-")


def option_first(message: str, fields) -> str:
    """A trainer message that starts with one of `fields` ("reward='x' raised ...") with the
    option in its place ("--reward 'x' raised ..."); others as they are."""
    field, sep, rest = message.partition("=")
    return f"{as_option(field)} {rest}" if sep and field in fields else message
