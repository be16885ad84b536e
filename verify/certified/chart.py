r"""The MRS-IPO and MRS-DPO maps in the log-ratio chart, in ball arithmetic (exact rational parameters).

Chart: ``l_i = log(pi_i / pi_{K-1})``, ``i = 0..K-2``; ``pi = softmax(l_0, ..., l_{K-2}, 0)``, the uniform
point is ``l = 0``. With ``c_i = log(pi_ref_i / pi_ref_{K-1})``, ``mu = lam pi + (1 - lam) pi0`` and ``x*``
the optimum of the loss at the sampler ``mu`` (docs/claims.md §3–§4), the map is
``F(l)_i = alpha l_i + (1 - alpha) c_i + (x*_i - x*_{K-1}) / b``.

* **MRS-IPO** (``b = 2/beta``): ``(x*_i - x*_{K-1})/b = beta ((P mu)_i - (P mu)_{K-1})`` in closed form, so the
  fixed points are the zeros of ``G(l) = F(l) - l`` (``K - 1`` unknowns), with
  ``G'(l) = (alpha - 1) I + beta lam D M``, ``D = P[:K-1] - 1 P[K-1]`` (rows minus the last row) and
  ``M = (diag pi - pi pi^T)[:, :K-1]`` (``d pi / d l``).
* **MRS-DPO** (``b = beta_dpo``): ``x*`` is implicit. The unknowns are ``(l, y)`` with ``x = (y, 0)`` (the
  optimum pinned by ``x_{K-1} = 0``) and the system is

      R1_i = sum_j mu_j (sig(x_i - x_j) - P_ij) = 0           (DPO-1 stationarity, rows i < K-1)
      R2_i = (alpha - 1) l_i + (1 - alpha) c_i + y_i / b = 0  (F(l) = l),

  ``2(K - 1)`` equations. The K-th stationarity row is implied (``sum_i mu_i R1_i = 0`` identically,
  ``mu_{K-1} > 0``), and a stationary point of the convex DPO loss is its minimiser, so a zero ``(l, y)`` is a
  fixed point ``l`` with optimum ``y``. The map's Jacobian is ``alpha I + (1/b) dy/dl`` with
  ``dy/dl = -(dR1/dy)^{-1} dR1/dl`` (implicit function theorem), enclosed by Arb's ``arb_mat.solve``.
  ``sig(t) = (1 + tanh(t/2))/2`` and ``sig'(t) = 1/(4 cosh(t/2)^2)`` are evaluated once per ball.

Every function takes a box (a list of ``arb`` balls) and returns enclosures valid for every point in it.
Build a :class:`ChartSystem` inside :func:`verify.certified.balls.working_precision`.

>>> from fractions import Fraction as F
>>> from verify.certified.balls import working_precision
>>> from verify.exact.families import cyclic
>>> inst = map_instance(cyclic(F(3, 10)), F(1, 2), 8, 1)
>>> with working_precision(128):
...     sys = ChartSystem(inst)
...     r = sys.residual(sys.point([0, 0]))
>>> [x.contains(0) for x in r], sys.dim
([True, True], 2)
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Sequence

from verify.certified.balls import ball, exact_matrix, exact_rational, exact_vector, flint_module
from verify.exact.objects import InputError, load_preference_matrix, simplex_vector, uniform

__all__ = ["LOSSES", "MapInstance", "map_instance", "ChartSystem"]

#: The losses whose MRS map is certified: name -> the name of its scale parameter.
LOSSES = {"ipo": "beta", "dpo": "beta_dpo"}


def _s(x: Fraction) -> str:
    return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"


@dataclass(frozen=True)
class MapInstance:
    """Exact, validated parameters of one MRS map: the loss (``ipo``/``dpo``), ``P``, ``alpha``, the scale, ``lam``."""

    loss: str
    P: tuple[tuple[Fraction, ...], ...]
    alpha: Fraction
    scale: Fraction
    lam: Fraction
    pi_ref: tuple[Fraction, ...]
    pi0: tuple[Fraction, ...]

    @property
    def K(self) -> int:
        return len(self.P)

    @property
    def scale_name(self) -> str:
        return LOSSES[self.loss]

    def to_json(self) -> dict:
        """Every parameter as an exact string (``"p/q"``): the instance replays exactly."""
        return {
            "loss": self.loss,
            "K": self.K,
            "P": [[_s(x) for x in r] for r in self.P],
            "alpha": _s(self.alpha),
            self.scale_name: _s(self.scale),
            "lam": _s(self.lam),
            "pi_ref": [_s(x) for x in self.pi_ref],
            "pi0": [_s(x) for x in self.pi0],
        }


def map_instance(P: Any, alpha: Any, scale: Any, lam: Any, *, loss: str = "ipo", pi_ref: Any = None, pi0: Any = None,
                 allow_float: bool = False) -> MapInstance:
    """Validate an instance exactly (floats refused unless ``allow_float``; see :func:`~verify.certified.balls.exact_rational`).

    ``P`` a valid preference matrix; ``alpha, lam`` in ``[0, 1]``; the scale (``beta`` for IPO, ``beta_dpo`` for
    DPO) > 0; ``pi_ref``, ``pi0`` interior points of the simplex summing exactly to 1 (default uniform).
    """
    name = str(loss).strip().lower()
    if name not in LOSSES:
        raise InputError(f"loss = {loss!r}: the certified maps are {', '.join(LOSSES)} (MRS-IPO and MRS-DPO)")
    rows = exact_matrix(P, "P", allow_float=allow_float)
    Pm = load_preference_matrix(rows)  # exact rows: validated, never repaired
    K = Pm.K
    al = exact_rational(alpha, "alpha", allow_float=allow_float)
    la = exact_rational(lam, "lam", allow_float=allow_float)
    sc = exact_rational(scale, LOSSES[name], allow_float=allow_float)
    for v, nm in ((al, "alpha"), (la, "lam")):
        if not 0 <= v <= 1:
            raise InputError(f"{nm} = {_s(v)} is outside [0, 1]")
    if sc <= 0:
        raise InputError(f"{LOSSES[name]} = {_s(sc)}, expected > 0")
    vecs = []
    for v, nm in ((pi_ref, "pi_ref"), (pi0, "pi0")):
        if v is None:
            vecs.append(tuple(uniform(K)))
        else:
            vecs.append(tuple(simplex_vector(exact_vector(v, nm, allow_float=allow_float), K, name=nm, interior=True)))
    return MapInstance(name, tuple(tuple(r) for r in Pm.entries), al, sc, la, vecs[0], vecs[1])


class ChartSystem:
    """The fixed-point system of one instance in the log-ratio chart, over boxes (see the module docstring).

    ``dim`` unknowns: ``l`` (IPO, ``K - 1``) or ``(l, y)`` (DPO, ``2(K - 1)``). ``residual(X)`` and
    ``residual_jacobian(X)`` enclose the system and its Jacobian over the box ``X``; ``map_jacobian(X)``
    encloses ``DF(l)`` (``(K-1) x (K-1)``) over it; ``policy(l)`` encloses ``pi``.
    """

    def __init__(self, inst: MapInstance) -> None:
        self.flint = flint = flint_module()
        self.inst = inst
        K = self.K = inst.K
        self.n = K - 1
        self.dim = self.n if inst.loss == "ipo" else 2 * self.n
        self.alpha, self.lam, self.scale = ball(inst.alpha), ball(inst.lam), ball(inst.scale)
        self.P = [[ball(x) for x in r] for r in inst.P]
        self.D = [[ball(inst.P[i][j] - inst.P[K - 1][j]) for j in range(K)] for i in range(self.n)]
        self.pi0 = [ball(x) for x in inst.pi0]
        self.c = [(ball(inst.pi_ref[i] / inst.pi_ref[K - 1])).log() for i in range(self.n)]
        self.zero = flint.arb(0)

    # ------------------------------------------------------------------ shared pieces

    def point(self, values: Sequence[Any]) -> list:
        """Exact balls of exact numbers (a box of radius 0 up to rounding)."""
        return [ball(exact_rational(v, "point")) if not isinstance(v, self.flint.arb) else v for v in values]

    def policy(self, l: Sequence[Any]) -> list:
        """``pi = softmax(l, 0)``, each entry as ``1 / sum_j exp(l_j - l_i)`` (``l_{K-1} = 0``)."""
        ll = list(l[: self.n]) + [self.zero]
        return [1 / sum(((ll[j] - ll[i]).exp() for j in range(self.K)), self.zero) for i in range(self.K)]

    def _mu(self, pi: list) -> list:
        return [self.lam * pi[k] + (1 - self.lam) * self.pi0[k] for k in range(self.K)]

    def _M(self, pi: list) -> list:
        """``(diag pi - pi pi^T)[:, :K-1]`` = ``d pi / d l``."""
        return [[(pi[j] if j == k else self.zero) - pi[j] * pi[k] for k in range(self.n)] for j in range(self.K)]

    def _x(self, X: Sequence[Any]) -> list:
        return list(X[self.n: 2 * self.n]) + [self.zero]

    # ------------------------------------------------------------------ the system

    def residual(self, X: Sequence[Any]) -> list:
        """``G(l) = F(l) - l`` (IPO) or ``(R1, R2)`` (DPO) over the box ``X``."""
        n, K = self.n, self.K
        l = list(X[:n])
        mu = self._mu(self.policy(l))
        fixed = [(self.alpha - 1) * l[i] + (1 - self.alpha) * self.c[i] for i in range(n)]
        if self.inst.loss == "ipo":
            return [fixed[i] + self.scale * sum((self.D[i][j] * mu[j] for j in range(K)), self.zero) for i in range(n)]
        x = self._x(X)
        R1 = [sum((mu[j] * (self._sig(x[i] - x[j]) - self.P[i][j]) for j in range(K) if j != i), self.zero) for i in range(n)]
        R2 = [fixed[i] + x[i] / self.scale for i in range(n)]
        return R1 + R2

    def residual_jacobian(self, X: Sequence[Any]):
        """The Jacobian of :meth:`residual` over the box ``X`` (an ``arb_mat``)."""
        flint, n, K = self.flint, self.n, self.K
        l = list(X[:n])
        pi = self.policy(l)
        M = self._M(pi)
        J = flint.arb_mat(self.dim, self.dim)
        if self.inst.loss == "ipo":
            for i in range(n):
                for k in range(n):
                    v = self.scale * self.lam * sum((self.D[i][j] * M[j][k] for j in range(K)), self.zero)
                    J[i, k] = v + (self.alpha - 1 if i == k else 0)
            return J
        A, B = self._ift_blocks(X, pi, M)
        for i in range(n):
            for k in range(n):
                J[i, k] = B[i][k]
                J[i, n + k] = A[i][k]
                J[n + i, k] = self.alpha - 1 if i == k else self.zero
                J[n + i, n + k] = 1 / self.scale if i == k else self.zero
        return J

    def _ift_blocks(self, X: Sequence[Any], pi: list, M: list) -> tuple[list, list]:
        """DPO: ``A = dR1/dy`` and ``B = dR1/dl`` over the box."""
        n, K = self.n, self.K
        mu = self._mu(pi)
        x = self._x(X)
        d = [[self._dsig(x[i] - x[j]) if j != i else self.zero for j in range(K)] for i in range(n)]
        A = [[sum((mu[j] * d[i][j] for j in range(K) if j != i), self.zero) if k == i else -mu[k] * d[i][k] for k in range(n)] for i in range(n)]
        g = [[self._sig(x[i] - x[j]) - self.P[i][j] if j != i else self.zero for j in range(K)] for i in range(n)]
        B = [[self.lam * sum((g[i][j] * M[j][k] for j in range(K)), self.zero) for k in range(n)] for i in range(n)]
        return A, B

    def map_jacobian(self, X: Sequence[Any]):
        """``DF(l)`` over the box (``(K-1) x (K-1)`` ``arb_mat``): every Jacobian of the map at a point of ``X``."""
        flint, n, K = self.flint, self.n, self.K
        l = list(X[:n])
        pi = self.policy(l)
        M = self._M(pi)
        J = flint.arb_mat(n, n)
        if self.inst.loss == "ipo":
            for i in range(n):
                for k in range(n):
                    v = self.scale * self.lam * sum((self.D[i][j] * M[j][k] for j in range(K)), self.zero)
                    J[i, k] = v + (self.alpha if i == k else 0)
            return J
        A, B = self._ift_blocks(X, pi, M)
        dydl = flint.arb_mat(A).solve(flint.arb_mat(B))  # every A, B in the balls (Arb's arb_mat_solve)
        for i in range(n):
            for k in range(n):
                J[i, k] = -dydl[i, k] / self.scale + (self.alpha if i == k else 0)
        return J

    def optimum_of_chart(self, l: Sequence[Any]) -> list:
        """DPO: the ``y`` that the fixed-point equation ``R2 = 0`` pairs with ``l``: ``y = b (1 - alpha)(l - c)``."""
        return [self.scale * (1 - self.alpha) * (l[i] - self.c[i]) for i in range(self.n)]

    @staticmethod
    def _sig(t):
        return (1 + (t / 2).tanh()) / 2

    @staticmethod
    def _dsig(t):
        return 1 / (4 * (t / 2).cosh() ** 2)
