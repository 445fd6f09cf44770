"""The `banditune` command: one subcommand per module, each with `register(subparsers)`.

Every subcommand has two phases. Its `plan(args)` checks every input before any work starts and
raises `ValueError` (or FileNotFoundError, PermissionError) with one line naming the option, the
bad value and what is allowed: `main` prints that line and exits with status 2. `plan` returns the
work as a function of no arguments; anything that work raises (a user reward, Ray, I/O) exits 1
with the full traceback on stderr and a last line naming the exception and where it was raised.
What the study's modules log (a file not copied to storage) is printed as "warning: ..." lines.
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback

from cli import analyze, confirm, diagnose, scale, study, train

BAD_INPUT = (ValueError, FileNotFoundError, PermissionError)
DESCRIPTION = (
    "Find the settings that make REINFORCE learn a contextual bandit whose reward is a loss"
    " (-|x - a|, or your own reward and contexts): train one config, search many with a Ray Tune +"
    " Optuna study, then analyze, confirm and diagnose what the study found. Start with"
    " `banditune train --n 100` (the trainer's defaults) or `banditune study --name laptop`"
    " (a laptop-sized study); `banditune COMMAND --help` for each."
)


class LogLines(logging.Handler):
    """A record logged by the study's modules as one line on the current stderr: "warning: ..."."""

    def emit(self, record: logging.LogRecord) -> None:
        sys.stderr.write(f"{record.levelname.lower()}: {record.getMessage()}\n")


def print_study_logs() -> None:
    """Print what the `study` package logs (warnings and above), once per process."""
    logger = logging.getLogger("study")
    if not any(isinstance(h, LogLines) for h in logger.handlers):
        logger.addHandler(LogLines(logging.WARNING))


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr and exit status 2."""

    def error(self, message: str):
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="banditune", description=DESCRIPTION)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    for module in (train, study, analyze, scale, diagnose, confirm):
        module.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    print_study_logs()
    prog = f"banditune {args.command}"
    try:
        try:
            work = args.plan(args)
        except BAD_INPUT as error:
            sys.stderr.write(f"{prog}: error: {error}\n")
            return 2
        try:
            return int(work() or 0)
        except Exception as error:  # noqa: BLE001 - reported with its traceback, exit 1
            traceback.print_exc()
            sys.stderr.write(f"{prog}: failed during work: {failure_line(error)}\n")
            return 1
    except KeyboardInterrupt:
        sys.stderr.write(f"{prog}: interrupted\n")
        return 130


def failure_line(error: BaseException) -> str:
    """'FileNotFoundError: ... (raised in fn at path:line; traceback above)'."""
    frames = traceback.extract_tb(error.__traceback__)
    where = (
        f" (raised in {frames[-1].name} at {frames[-1].filename}:{frames[-1].lineno}; traceback above)"
        if frames
        else ""
    )
    return f"{type(error).__name__}: {error}{where}"


if __name__ == "__main__":
    sys.exit(main())
