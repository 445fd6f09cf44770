"""The `banditune` command: one subcommand per module, each with `register(subparsers)`.

Every handler validates its input before any work starts and raises `ValueError` with one line
naming the option, the bad value and what is allowed; `main` prints it and exits with status 2.
"""

from __future__ import annotations

import argparse
import os
import sys


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr and exit status 2."""

    def error(self, message: str):
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    from analysis import cli as analysis_cli
    from study import confirm, diagnose, study_cmd, train_cmd

    parser = OneLineParser(prog="banditune", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    for module in (train_cmd, study_cmd, analysis_cli, diagnose, confirm):
        module.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    if os.getcwd() not in sys.path:  # `--reward package.module:function` from where we run
        sys.path.insert(0, os.getcwd())
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except (ValueError, FileNotFoundError, PermissionError) as error:
        sys.stderr.write(f"banditune {args.command}: error: {error}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write(f"banditune {args.command}: interrupted\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
