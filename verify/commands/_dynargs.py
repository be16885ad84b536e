"""Shared options of ``prefdyn simulate`` and ``prefdyn phase``: where the matrix comes from."""

from __future__ import annotations

import argparse
import sys
from fractions import Fraction
from typing import TYPE_CHECKING

from verify.exact.objects import InputError, load_preference_matrix, simplex_vector, to_fraction

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

__all__ = ["add_matrix_options", "matrix_from_args", "exact_matrix_from_args", "vector_option", "number_option", "note_repairs"]


def add_matrix_options(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--matrix", metavar="FILE", help="preference matrix file (.json list of rows or {'P': ...}, or .csv)")
    g.add_argument("--cyclic", metavar="A", help="the 3-cycle P_cyc(A): P[0,1] = P[1,2] = P[2,0] = 1/2 + A, 0 < A <= 1/2 (0.4 or 2/5)")
    g.add_argument("--random-sst", type=int, metavar="K", help="a random strictly SST matrix of size K (seeded by --seed)")


def note_repairs(command: str, *objs: object) -> None:
    """Print the exact repairs made to accept the input (``repairs`` attributes) on stderr, one note each."""
    for obj in objs:
        for r in getattr(obj, "repairs", ()) or ():
            print(f"prefdyn{' ' + command if command else ''}: note: input repaired: {r}", file=sys.stderr)


def exact_matrix_from_args(args: argparse.Namespace):
    """The validated exact matrix (``PreferenceMatrix``) of ``--matrix FILE`` or ``--cyclic A``, and a label.

    Raises InputError with a one-line message; repairs of a file are noted on stderr.
    """
    if args.matrix:
        P = load_preference_matrix(args.matrix)
        note_repairs(args.command, P)
        return P, f"P from {args.matrix}"
    if args.cyclic is not None:
        a, _ = to_fraction(args.cyclic, "--cyclic A")
        if not (0 < a <= Fraction(1, 2)):
            raise InputError(f"--cyclic A = {args.cyclic}, expected 0 < A <= 1/2")
        from verify.exact.families import cyclic

        return load_preference_matrix(cyclic(a)), f"P_cyc({args.cyclic.strip()})"
    raise InputError("give the matrix: --matrix FILE or --cyclic A")


def matrix_from_args(args: argparse.Namespace) -> tuple[np.ndarray, str]:
    """The float64 matrix and a label; raises InputError with a one-line message."""
    import numpy as np

    if args.matrix or args.cyclic is not None:
        P, label = exact_matrix_from_args(args)
        return P.to_numpy(), label
    if args.random_sst is not None:
        K = args.random_sst
        if K < 2 or K > 256:
            raise InputError(f"--random-sst K = {K}, expected 2 <= K <= 256")
        from verify.numerics.simulate import random_sst_matrix

        return random_sst_matrix(K, np.random.default_rng(args.seed)), f"random SST (K = {K}, seed {args.seed})"
    raise InputError("give the matrix: --matrix FILE, --cyclic A or --random-sst K")


def number_option(value, name: str) -> float:
    """A number option read exactly (``"1/4"``, ``"0.25"``, ``"1e-3"``), as a float; one-line InputError otherwise."""
    return float(to_fraction(value, name)[0])


def vector_option(value: str | None, K: int, name: str) -> np.ndarray | None:
    """An interior policy from a comma-separated option (validated, exact then float)."""
    import numpy as np

    if value is None:
        return None
    v = simplex_vector(value, K, name=name, interior=True)
    note_repairs("", v)
    return np.array([float(x) for x in v])
