"""Command line: thin argument parsing over the library. Bad input exits with status 2 and one line on stderr.

Each subcommand lives in ``harness/commands/<name>.py`` with ``add_parser(subparsers)`` and ``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

from harness._atomic import unlock_folder
from harness._terminal import clean
from harness._validation import HarnessInputError

COMMANDS: tuple[str, ...] = ("curves", "demo", "report", "compare", "audit")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="harness",
        description="Does an accuracy-vs-test-time-compute curve say anything beyond plain repeated sampling?",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"harness.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"harness.commands.{name}":
                continue  # command not built yet
            raise
        module.add_parser(sub)
    return parser


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error (no usage block), like every other error of the CLI."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {clean(message)} (see {self.prog} --help)\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # a bad option (one line on stderr, see _Parser.error) or --help
        return exc.code if isinstance(exc.code, int) else 2
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args.run(args))
    except HarnessInputError as exc:
        print(f"harness {args.command}: error: {clean(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("harness: interrupted", file=sys.stderr)
        return 130
    finally:
        unlock_folder()  # output-folder locks end with the command (in-process callers run several)


if __name__ == "__main__":
    sys.exit(main())
