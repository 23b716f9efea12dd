"""Command line: thin argument parsing over the library. Bad input exits with status 2 and one line on stderr.

Each subcommand lives in ``harness/commands/<name>.py`` with ``add_parser(subparsers)`` and ``run(args) -> int``.
Only the command being run is imported (``harness --help`` lists the commands from :data:`SUMMARIES` without
importing numpy, pandas or numba), so the help appears at once.
"""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import sys
from collections.abc import Sequence
from typing import NoReturn

COMMANDS: tuple[str, ...] = ("curves", "demo", "report", "compare", "audit", "reduce")

SUMMARIES: dict[str, str] = {
    "curves": "exact accuracy-vs-compute curves as a tidy CSV",
    "demo": "the embedded default: sigmoids per question, a line in aggregate, published claims audited",
    "report": "full report: curves, i.i.d. predictions, fits, diagnostics, tests (HTML, Markdown, CSV)",
    "compare": "models or runs side by side at matched compute (samples, tokens or FLOPs)",
    "audit": "audit published test-time-compute numbers against plain i.i.d. sampling",
    "reduce": "reduce per-sample logs to answer-class counts (DuckDB or Spark)",
}
"""One line per command for ``harness --help``; a test checks each equals the command's own ``help=``."""

DESCRIPTION = "Does an accuracy-vs-test-time-compute curve say anything beyond plain repeated sampling?"


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error (no usage block), like every other error of the CLI; subcommand parsers
    inherit it (argparse builds them with the parent's class)."""

    help_hint: str | None = None
    """Where the one-line error points (``harness report --help`` when a command was named)."""

    def error(self, message: str) -> NoReturn:
        from harness._terminal import clean

        self.exit(2, f"{self.prog}: error: {clean(message)} (see {self.help_hint or self.prog + ' --help'})\n")


def build_parser(only: str | None = None) -> _Parser:
    """The parser; with ``only``, just that command's options are built (the others are listed by name)."""
    parser = _Parser(prog="harness", description=DESCRIPTION)
    if only:
        parser.help_hint = f"harness {only} --help"  # unknown options are reported by this top-level parser
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        if only is not None and name != only:
            sub.add_parser(name, help=SUMMARIES[name], add_help=False)
            continue
        try:
            module = importlib.import_module(f"harness.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"harness.commands.{name}":
                continue  # command not built yet
            raise
        module.add_parser(sub)
    return parser


def _command_of(argv: Sequence[str]) -> str:
    """The subcommand named in ``argv`` (the first argument; the top-level parser takes only -h), or ''."""
    return argv[0] if argv and argv[0] in COMMANDS else ""


def _has_files(folder: str) -> bool:
    return any(files for _, _, files in os.walk(folder))


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(only=_command_of(argv))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # a bad option (one line on stderr, see _Parser.error) or --help
        return exc.code if isinstance(exc.code, int) else 2
    if args.command is None:
        parser.print_help()
        return 2
    from harness._atomic import unlock_folder
    from harness._terminal import clean
    from harness._validation import HarnessInputError

    out = getattr(args, "out", None)
    out_was_there = isinstance(out, str) and os.path.lexists(out)
    status = 1
    try:
        status = int(args.run(args))
        return status
    except HarnessInputError as exc:
        print(f"harness {args.command}: error: {clean(exc)}", file=sys.stderr)
        status = 2
        return status
    except KeyboardInterrupt:
        print("harness: interrupted", file=sys.stderr)
        status = 130
        return status
    finally:
        unlock_folder()  # output-folder locks end with the command (in-process callers run several)
        if status != 0 and isinstance(out, str) and not out_was_there and os.path.isdir(out) and not _has_files(out):
            shutil.rmtree(out, ignore_errors=True)  # a failed run leaves no empty folder behind it


if __name__ == "__main__":
    sys.exit(main())
