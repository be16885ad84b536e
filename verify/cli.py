"""The ``prefdyn`` command line.

Each subcommand lives in its own module under ``verify/commands/`` and exposes
``register(subparsers)``, which adds its parser and sets ``func``; ``func(args)``
returns the exit code. Exit codes: 0 success, 1 a claim refuted or errored,
2 bad usage or bad input (one line on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from .objects import InputError

__all__ = ["main", "build_parser", "COMMAND_MODULES", "UsageError"]

#: Subcommand modules, in the order shown by ``prefdyn --help``.
COMMAND_MODULES: list[str] = [
    "verify.commands.check",
    "verify.commands.ipo",
    "verify.commands.counterexample",
    "verify.commands.sampler",
    "verify.commands.simulate",
    "verify.commands.phase",
    "verify.commands.dpo",
    "verify.commands.latex",
]


class UsageError(Exception):
    """Bad usage detected after argument parsing (exit code 2)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="prefdyn",
        description=(
            "Check the theory of how sampling shapes preference alignment "
            "(arXiv:2602.12180): IPO/DPO one-shot optima, ranking properties, "
            "and the iterative MRS-IPO / MRS-DPO dynamics."
        ),
        epilog="Run 'prefdyn COMMAND --help' for the options of one command.",
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"prefdyn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (InputError, UsageError, FileNotFoundError, KeyError, ValueError) as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else str(e)
        print(f"prefdyn {args.command}: error: {msg}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
