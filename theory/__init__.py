"""prefdyn.theory — the exact, symbolic layer (sympy only, no floats).

One module per mathematical object:

* :mod:`theory.ipo` — the population IPO loss, its gradient, Hessian and closed-form optimum.
* :mod:`theory.ranking` — one-shot ranking: RANK-1 constructions, RANK-2 bound, SST slack identity,
  Abel summation and the entropy derivative (RANK-1 .. RANK-6).
* :mod:`theory.mrs_ipo` — the MRS-IPO map, its Jacobian, 3-cycle eigenvalues, stability thresholds.
* :mod:`theory.latex` — LaTeX rendering of derived expressions.

Nothing here imports numpy or mpmath; ``verify/`` evaluates these results
through :mod:`verify.numerics.bridge`.
"""

__all__: list[str] = []
