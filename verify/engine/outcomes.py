"""Outcomes built the same way by many checkers: a list of exact obligations that must all vanish.

A *symbolic* checker proves a statement by reducing it to obligations, named sympy
expressions (or matrices) that must simplify to 0. Groups of obligations are checked in
order and the first non-zero residual refutes, with the group, the obligation and the
residual in the counterexample; when every residual is 0 the outcome is ``proved``.

>>> import sympy
>>> from verify.engine.registry import CheckContext
>>> x = sympy.Symbol("x")
>>> ok = [("square", (x + 1) ** 2 - x**2 - 2 * x - 1)]
>>> symbolic_outcome(CheckContext(), [("algebra", ok)], "identity holds").verdict
'proved'
>>> out = symbolic_outcome(CheckContext(), [("algebra", ok), ("wrong", [("half", x / 2 - x)])], "never")
>>> out.verdict, out.counterexample.instance["obligation"]
('refuted', 'half')
"""

from __future__ import annotations

from typing import Any, Callable, Sequence, Union

import sympy

from verify.engine.registry import CheckContext, Outcome, proved, refuted

__all__ = ["Obligations", "first_nonzero", "obligation_group", "symbolic_outcome"]

#: named residuals ``(name, expression or matrix)``, or a function returning them (evaluated lazily)
Obligations = Union[Sequence[tuple[str, Any]], Callable[[], Sequence[tuple[str, Any]]]]


def first_nonzero(obligations: Sequence[tuple[str, Any]]) -> tuple[str, Any] | None:
    """The first ``(name, residual)`` whose residual (an entry, for a matrix) does not simplify to 0, or None."""
    for name, e in obligations:
        items = list(e) if isinstance(e, sympy.MatrixBase) else [e]
        for x in items:
            if sympy.simplify(x) != 0:
                return name, x
    return None


def obligation_group(label: str, triples: Sequence[tuple[str, str, Any]]) -> tuple[str, list[tuple[str, Any]]]:
    """``(name, kind, residual)`` triples (as the every-K proofs of ``theory/`` return them) as one group."""
    return (label, [(f"{name} [{kind}]", e) for name, kind, e in triples])


def symbolic_outcome(ctx: CheckContext, groups: Sequence[tuple[str, Obligations]], summary: str) -> Outcome:
    """``proved(summary)`` when every obligation of every group vanishes, else ``refuted`` at the first that does not.

    A group given as a function is evaluated only when the groups before it hold, so an
    expensive derivation is skipped once an earlier one has failed.
    """
    n = 0
    for label, obls in groups:
        obls = obls() if callable(obls) else obls
        n += len(obls)
        bad = first_nonzero(obls)
        if bad is not None:
            return refuted(
                f"{label}: obligation '{bad[0]}' is not identically 0",
                instance={"where": label, "obligation": bad[0], "residual": sympy.sstr(bad[1])[:400]},
                seed=ctx.subseed("symbolic"),
            )
    return proved(summary, obligations=n)
