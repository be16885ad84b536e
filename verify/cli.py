"""The ``prefdyn`` command line.

Each subcommand lives in its own module under ``verify/commands/`` and exposes
``register(subparsers)``, which adds its parser and sets ``func``; ``func(args)``
returns the exit code. Exit codes: 0 success, 1 a claim refuted or errored, or a solver failed on
valid input (:class:`~verify.exact.objects.NumericalFailure`: one line ``error: ...``
saying what to try), 2 bad usage or bad input (one line on stderr, no traceback).

A list option may start with a minus sign (``--mu -0.1,0.5,0.6``): the value is
then validated, and refused with the entry named, instead of being mistaken
for an option.
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
from typing import Sequence

from verify.exact.objects import InputError, NumericalFailure

__all__ = ["main", "build_parser", "parse_args", "join_negative_values", "COMMAND_MODULES", "UsageError"]

#: Subcommand modules, in the order shown by ``prefdyn --help``.
COMMAND_MODULES: list[str] = [
    "verify.commands.check",
    "verify.commands.claims",
    "verify.commands.optimum",
    "verify.commands.threshold",
    "verify.commands.simulate",
    "verify.commands.phase",
    "verify.commands.certify",
    "verify.commands.bifurcation",
    "verify.commands.counterexample",
    "verify.commands.sampler",
    "verify.commands.latex",
    "verify.commands.report",
    # the same commands with the loss preset (kept for old scripts and the docs)
    "verify.commands.ipo",
    "verify.commands.dpo",
    "verify.commands.experiment",
]


class UsageError(Exception):
    """Bad usage detected after argument parsing (exit code 2)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="prefdyn",
        description=(
            "Check the theory of how sampling shapes preference alignment "
            "(arXiv:2602.12180): one-shot optima of IPO, DPO and any pairwise loss of the GPO family "
            "(--loss), ranking properties, and the iterative MRS dynamics and their thresholds."
        ),
        epilog="Run 'prefdyn COMMAND --help' for the options of one command.",
    )
    from verify import __version__

    parser.add_argument("--version", action="version", version=f"prefdyn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


_NEGATIVE_VALUE = re.compile(r"^-(\d|\.\d)")


def _value_options(parser: argparse.ArgumentParser) -> set[str]:
    """Every ``--option`` (of the parser and its subcommands) that takes a value."""
    out: set[str] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                out |= _value_options(sub)
        elif action.option_strings and action.nargs != 0:
            out |= {s for s in action.option_strings if s.startswith("--")}
    return out


def _option_strings(parser: argparse.ArgumentParser) -> set[str]:
    """Every option string (``-h``, ``--json``, ...) of the parser and its subcommands."""
    out: set[str] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                out |= _option_strings(sub)
        out |= set(action.option_strings)
    return out


def join_negative_values(argv: Sequence[str], options: set[str], known: set[str] = frozenset()) -> list[str]:
    """Rewrite ``--opt -0.1,0.5`` as ``--opt=-0.1,0.5`` for options that take a value.

    argparse reads a token starting with ``-`` as an option unless it is a single
    negative number, so a list such as ``-0.1,0.5,0.6`` (or a loss ``--loss "-x + x**2"``)
    would be refused as a missing argument before it could be validated. A token that is
    itself an option of ``known`` stays an option.
    """
    out: list[str] = []
    it = iter(argv)
    for tok in it:
        if tok in options:
            nxt = next(it, None)
            if nxt is not None and nxt.startswith("-") and (_NEGATIVE_VALUE.match(nxt) or nxt.split("=")[0] not in known):
                out.append(f"{tok}={nxt}")
                continue
            out.append(tok)
            if nxt is not None:
                out.append(nxt)
            continue
        out.append(tok)
    return out


def parse_args(argv: Sequence[str], parser: argparse.ArgumentParser | None = None) -> argparse.Namespace:
    """Parse a ``prefdyn`` command line (values starting with ``-`` joined to their option first)."""
    parser = parser or build_parser()
    return parser.parse_args(join_negative_values(list(argv), _value_options(parser), _option_strings(parser)))


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv, parser)
    try:
        return int(args.func(args) or 0)
    except NumericalFailure as e:
        print(f"prefdyn {args.command}: error: {e}", file=sys.stderr)
        return 1
    except (IsADirectoryError, PermissionError) as e:
        print(f"prefdyn {args.command}: error: {e.filename!r}: {e.strerror}", file=sys.stderr)
        return 2
    except (InputError, UsageError, FileNotFoundError, KeyError, ValueError) as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else str(e)
        print(f"prefdyn {args.command}: error: {msg}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
