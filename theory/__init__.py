"""prefdyn.theory — the exact, symbolic layer (sympy only, no floats).

One module per mathematical object:

* :mod:`theory.ipo` — the population IPO loss, its gradient, Hessian and closed-form optimum.
* :mod:`theory.ranking` — one-shot ranking: RANK-1 constructions, RANK-2 bound, SST slack identity,
  Abel summation and the entropy derivative (RANK-1 .. RANK-6).
* :mod:`theory.mrs_ipo` — the MRS-IPO map, its Jacobian, 3-cycle eigenvalues, stability thresholds.
* :mod:`theory.dpo` — DPO and MRS-DPO: stationarity, Bradley–Terry invariance, IFT, DPO-6 threshold.
* :mod:`theory.losses` — the loss object (:class:`theory.losses.PairLoss`) and the built-in GPO losses.
* :mod:`theory.family` — every pairwise loss generically in ``f``: stationarity, Hessian, IFT, MRS map,
  LOSS-1 (existence, uniqueness), LOSS-2 (the link and sampler invariance), LOSS-3 (the threshold at the
  uniform point); the one copy of the tangent and Helmert bases, the 3-cycle and the balanced skew matrix.
* :mod:`theory.matrix_algebra` — the free matrix algebra for identities "for every K".
* :mod:`theory.latex` — LaTeX rendering of derived expressions.

Nothing here imports numpy or mpmath; ``verify/`` evaluates these results
through :mod:`verify.numerics.bridge`.
"""

__all__: list[str] = []
