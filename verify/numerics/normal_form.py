r"""The Neimark–Sacker coefficient of the MRS map at the uniform point, numerically, from the solved map itself
(the 3-cycle in the plane; any balanced ``P`` in ``K - 1`` dimensions).

An independent numeric route to the first Lyapunov coefficient ``d`` at the uniform fixed point of
``P_cyc(a)`` for any smooth loss of the family (claim DYN-7): no Taylor formula of the map is used.

1. **The map in the chart** (:func:`map_in_chart`). Log-ratio coordinates ``l_i = log(pi_i/pi_2)``
   (``i = 0, 1``; ``l = 0`` is the uniform point) and, with ``pi = softmax(l_0, l_1, 0)``,
   ``mu = lam pi + (1 - lam) pi0``, the map is ``F(l)_i = z_i - z_2`` for the logits
   ``z = alpha log pi + (1 - alpha) log pi_ref + x*(mu)/b`` of :func:`verify.numerics.mrs.logits`,
   whose ``x*`` is the project's high-precision optimum (:func:`verify.numerics.optimum.solve`:
   Newton on the stationarity conditions, the closed form for a quadratic ``f``).
2. **Its Taylor tensors** (:func:`taylor_numeric`): ``F(l) = A l + B(l, l)/2 + C(l, l, l)/6 + ...``
   at ``l = 0`` by central differences on the 13-point stencil ``(0,0), (±h,0), (0,±h), (±2h,0),
   (0,±2h), (±h,±h)`` (every formula ``O(h^2)``). With ``D`` the digits claimed, the step is
   ``h = 10^-s``, ``s = ceil(D/2) + 5`` (truncation ``~ 10^-(D+10)`` times a derivative of order 5),
   and the map is evaluated to ``E = ceil(5 D/2) + 25`` digits (rounding in the third differences
   ``~ 10^-E / h^3 <= 10^-(D+9)``) — :func:`stencil_plan`.
3. **The coefficient** (:func:`first_lyapunov`, Kuznetsov, *Elementary Bifurcation Theory*, maps):
   ``A q = lambda q``, ``A^T p = conj(lambda) p`` with ``lambda = r e^{i theta}``, ``Im lambda > 0``,
   ``<q, q> = 1``, ``<p, q> = 1`` (``<u, v> = conj(u)^T v``), and

   .. math::

       c_1 = \tfrac12 \langle p,\; C(q,q,\bar q) + 2 B(q, (r^2 I - A)^{-1} B(q,\bar q))
             + B(\bar q, (\lambda^2 I - A)^{-1} B(q,q)) \rangle, \qquad d = \mathrm{Re}(e^{-i\theta} c_1).

   On the threshold curve ``r = 1`` and this is exactly the formula of the shared conventions
   (``(I - A)^{-1}``, ``(e^{2 i theta} I - A)^{-1}``). **Off the curve** (``r != 1``) the same
   homological equations at the actual eigenvalue give the cubic coefficient of the normal form
   ``w -> lambda w + c_1 w |w|^2 + O(|w|^4)`` (the choice of ``c_1`` that keeps the cubic part of the
   coordinate change bounded as ``r -> 1``); its invariant circle is
   ``|w|^2 = (1 - r^2)/(2 r d)``, and ``d`` is a continuous function of the parameters that equals
   the first Lyapunov coefficient on the curve. It is not a bifurcation coefficient off the curve.
4. **Error estimate** (:func:`lyapunov_numeric`): everything is computed twice, the second time with
   the step ``h 10^-3`` and 10 more digits (truncation ``10^6`` times smaller, rounding no larger); the
   difference of the two is the stated error of the first. The result claims ``dps`` digits when it is below ``10^-dps``.
5. **Any balanced P** (:func:`lyapunov_numeric_matrix`, ``K >= 3``, ``S 1 = 0``, ``pi0 = pi_ref`` uniform):
   the same steps in the ``(K - 1)``-dimensional chart ``l_i = log(pi_i/pi_{K-1})`` (:func:`map_in_chart_matrix`;
   the stencil of :func:`stencil_points`, ``1 + 4n + 4 C(n,2) + 8 C(n,3)`` points) and Kuznetsov's formula with
   the whole Jacobian in the resolvents (:func:`first_lyapunov_nd`: valid while no other eigenvalue is on the unit
   circle, which holds on the curve: the other pairs ``alpha + i c_f lam s_k/(b K)`` have ``|s_k| < s_max``). The
   critical pair is the one of the largest ``|s|`` among the eigenvalues ``± i s_k`` of ``S``, found exactly
   (:func:`critical_pair`); when two or more pairs share it (the 6-ring; symmetric circulants) they cross
   together, a codimension-two point, reported as degenerate without a number. For ``K = 3`` the route is checked
   against the planar one (:func:`cycle_agreement`).

>>> res = lyapunov_numeric("ipo", "1/2", "1/4", 1, dps=12)
>>> mpmath.nstr(res.d, 10), mpmath.nstr(-(1 - mpmath.mpf(1) / 4) / 8, 10)   # the hand value -(1 - alpha^2)/8
('-0.09375', '-0.09375')
>>> res.error < mpmath.mpf(10) ** -12, mpmath.nstr(res.r, 12)
(True, '1.0')
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations, permutations
from fractions import Fraction
from typing import Any, Callable, NamedTuple, Sequence

import mpmath

from verify.exact.families import cyclic
from verify.exact.objects import InputError, NumericalFailure, PreferenceMatrix, load_preference_matrix, positive, unit_interval
from verify.numerics import mrs
from verify.numerics.bridge import b_mp
from verify.numerics.optimum import as_loss, logsumexp
from verify.numerics.precision import GUARD, workdps

__all__ = [
    "Taylor",
    "EigenData",
    "NumericNS",
    "stencil_plan",
    "read_point",
    "threshold_b",
    "map_in_chart",
    "taylor_numeric",
    "first_lyapunov",
    "lyapunov_numeric",
    "resonance",
    "stencil_points",
    "CriticalPair",
    "MatrixNS",
    "RouteAgreement",
    "balanced_skew",
    "critical_pair",
    "read_alpha_lam",
    "threshold_b_matrix",
    "map_in_chart_matrix",
    "first_lyapunov_nd",
    "lyapunov_numeric_matrix",
    "sympy_to_mpf",
    "cycle_agreement",
]


class Taylor(NamedTuple):
    """The derivative tensors of a map of the plane at ``0``: ``A[i][j] = dF_i/dl_j``,
    ``B[i][j][k] = d^2 F_i/dl_j dl_k``, ``C[i][j][k][m]`` (symmetric in the lower indices)."""

    A: tuple
    B: tuple
    C: tuple


@dataclass(frozen=True)
class EigenData:
    """Eigen-data and normal-form coefficient of a map of the plane at a fixed point (:func:`first_lyapunov`)."""

    eigenvalue: mpmath.mpc
    theta: mpmath.mpf
    r: mpmath.mpf
    q: tuple
    p: tuple
    c1: mpmath.mpc
    d: mpmath.mpf
    terms: tuple = ()
    eigenvalues: tuple = ()


@dataclass(frozen=True)
class NumericNS:
    """The numeric Neimark–Sacker data of the 3-cycle MRS map at one point (:func:`lyapunov_numeric`).

    ``theta``, ``r``: the argument and modulus of the eigenvalue ``r e^{i theta}`` of ``A`` with
    ``Im > 0`` (``r = 1`` on the threshold curve, to the stated error); ``q``, ``p``: the eigenvectors
    (``<q, q> = 1``, ``<p, q> = 1``); ``c1``, ``d``: the normal-form coefficients; ``error``: the
    largest difference to the control computation (step ``h 10^-3``, 10 more digits) over
    ``theta, r, c1, d`` — the error estimate of each; ``verified``: ``error <= 10^-dps``;
    ``on_curve``: ``b`` was put on the threshold curve; ``resonance``: a strong resonance within
    ``10^-(dps/2)`` (then the coefficient does not decide the bifurcation), else ``None``.
    """

    loss: str
    alpha: Fraction
    a: Fraction
    lam: Fraction
    b: mpmath.mpf
    on_curve: bool
    theta: mpmath.mpf
    r: mpmath.mpf
    q: tuple
    p: tuple
    c1: mpmath.mpc
    d: mpmath.mpf
    dps: int
    error: mpmath.mpf
    work_dps: int
    step: mpmath.mpf
    resonance: str | None

    @property
    def verified(self) -> bool:
        """The control agrees to ``dps`` digits (absolute, every quantity is of order 1 or below)."""
        return bool(self.error <= mpmath.mpf(10) ** (-self.dps))

    @property
    def kind(self) -> str:
        """``supercritical`` (``d < 0``), ``subcritical`` (``d > 0``) or ``undecided`` (``|d| <= error``)."""
        if abs(self.d) <= self.error:
            return "undecided"
        return "supercritical" if self.d < 0 else "subcritical"

    def to_json(self) -> dict:
        n = max(self.dps, 15)
        return {
            "loss": self.loss,
            "alpha": str(self.alpha),
            "a": str(self.a),
            "lam": str(self.lam),
            "b": mpmath.nstr(self.b, n),
            "on_curve": self.on_curve,
            "theta": mpmath.nstr(self.theta, n),
            "r": mpmath.nstr(self.r, n),
            "c1": [mpmath.nstr(self.c1.real, n), mpmath.nstr(self.c1.imag, n)],
            "d": mpmath.nstr(self.d, n),
            "kind": self.kind,
            "dps": self.dps,
            "error": mpmath.nstr(self.error, 3),
            "work_dps": self.work_dps,
            "step": mpmath.nstr(self.step, 3),
            "resonance": self.resonance,
        }


# ----------------------------------------------------------------------------- precision plan


def stencil_plan(dps: int) -> tuple[int, int]:
    """``(s, E)``: the step ``h = 10^-s`` and the digits ``E`` the map must be evaluated to, so that the
    tensors of :func:`taylor_numeric` are right to about ``10^-(dps + 10)`` (module docstring, step 2).

    >>> stencil_plan(40)
    (25, 125)
    """
    D = int(dps)
    if D < 5:
        raise InputError(f"dps = {dps}, expected an integer >= 5")
    return math.ceil(D / 2) + 5, math.ceil(5 * D / 2) + 25


# ----------------------------------------------------------------------------- inputs


def read_point(alpha: Any, a: Any, lam: Any) -> tuple[Fraction, Fraction, Fraction]:
    """``(alpha, a, lam)`` validated exactly: ``0 <= alpha < 1``, ``0 < a <= 1/2``, ``0 < lam <= 1``.

    >>> read_point("1/2", 0.25, 1)
    (Fraction(1, 2), Fraction(1, 4), Fraction(1, 1))
    """
    al = unit_interval(alpha, "alpha")
    if al >= 1:
        raise InputError("alpha = 1: the eigenvalue is 1 (theta = 0, the 1:1 resonance); expected 0 <= alpha < 1")
    av = positive(a, "a")
    if av > Fraction(1, 2):
        raise InputError(f"a = {av}, expected 0 < a <= 1/2 (the cycle strength of P_cyc(a))")
    la = unit_interval(lam, "lam")
    if la == 0:
        raise InputError("lam = 0: the sampler does not depend on the policy (no oscillation); expected 0 < lam <= 1")
    return al, av, la


def _smooth_loss(loss: Any):
    lo = as_loss(loss)
    if lo.gain is None:
        raise InputError(f"the {lo.name} loss is not twice differentiable with f''(0) > 0 at 0 ({lo.not_smooth_at_0}): no normal form at the uniform point")
    return lo


def threshold_b(loss: Any, alpha: Any, a: Any, lam: Any):
    """The exact ``b`` on the threshold curve: ``c_f lam a / (sqrt 3 sqrt(1 - alpha^2))`` (a sympy number).

    ``c_f = -2 f'(0)/f''(0)`` is the loss's gain (LOSS-3); the modulus of the eigenvalue at this ``b``
    is computed, not assumed (:attr:`NumericNS.r`).

    >>> threshold_b("ipo", "1/2", "1/4", 1)
    1/3
    """
    import sympy

    lo = _smooth_loss(loss)
    al, av, la = read_point(alpha, a, lam)
    R = sympy.Rational
    return sympy.nsimplify(lo.gain * R(la.numerator, la.denominator) * R(av.numerator, av.denominator)
                           / (sympy.sqrt(3) * sympy.sqrt(1 - R(al.numerator, al.denominator) ** 2)))


def _exact_b(b: Any):
    """``b`` as an exact positive sympy number (a caller's mpf keeps all its bits)."""
    import sympy

    if isinstance(b, sympy.Basic):
        if not (b.is_real and b.is_positive):
            raise InputError(f"b = {b}, expected a number > 0")
        return b
    v = positive(b, "b")
    return sympy.Rational(v.numerator, v.denominator)


# ----------------------------------------------------------------------------- the map


def map_in_chart(loss: Any, alpha: Any, a: Any, lam: Any, b: Any, *, dps: int) -> Callable[[Sequence], tuple]:
    """The 3-cycle MRS map in the log-ratio chart, ``l -> F(l)`` (2 mpf -> 2 mpf), to ``dps`` digits.

    ``F(l)_i = z_i - z_2``, ``z`` the logits of :func:`verify.numerics.mrs.logits` at
    ``log pi = (l_0, l_1, 0) - logsumexp`` for ``P_cyc(a)``, ``pi_ref = pi0`` uniform, the loss with the
    scale that gives multiplier ``b`` (exact: a number or a sympy expression such as
    :func:`threshold_b`), computed at ``dps + GUARD`` digits with the optimum warm-started at ``x = 0``
    (the optimum at the uniform point). The callable has attributes ``dps``, ``b`` (the mpf),
    ``loss`` (the PairLoss with its scale).

    >>> F = map_in_chart("dpo", "1/2", "1/4", 1, 1, dps=20)
    >>> [mpmath.nstr(v, 12) for v in F([mpmath.mpf(0), mpmath.mpf(0)])]
    ['0.0', '0.0']
    """
    lo = _smooth_loss(loss)
    al, av, la = read_point(alpha, a, lam)
    return _chart_map(lo, cyclic(av), al, la, b, dps)


def _chart_map(lo, P: Any, al: Fraction, la: Fraction, b: Any, dps: int) -> Callable[[Sequence], tuple]:
    """The MRS map of ``P`` (exact, ``K x K``) in the log-ratio chart ``l_i = log(pi_i/pi_{K-1})``, to ``dps`` digits."""
    bx = _exact_b(b)
    D = int(dps)
    if D < 5:
        raise InputError(f"dps = {dps}, expected an integer >= 5")
    if not bx.is_Rational:
        # an irrational b (the threshold's sqrt) as a binary number of D + GUARD + 10 digits: the map reads b once per
        # evaluation, and an exact radical would be re-simplified by sympy every time
        bx = bx.evalf(D + GUARD + 10)
    try:
        scaled = lo.with_scale(lo.scale_of_b(bx))
    except ValueError as e:
        raise InputError(f"b = {bx}: {e}") from None
    s = mrs.setting(P, scaled, al, la)
    mrs.check_solvable(s)
    K = s.K
    with workdps(D + GUARD):
        bval = b_mp(scaled)

    def F(l: Sequence) -> tuple:
        with workdps(D + GUARD):
            lv = [mpmath.mpf(v) for v in l] + [mpmath.mpf(0)]
            if len(lv) != K:
                raise InputError(f"a chart point has {len(lv) - 1} coordinates, expected K - 1 = {K - 1}")
            c = logsumexp(lv)
            z, _ = mrs.logits(s, [v - c for v in lv], x0=[mpmath.mpf(0)] * K)
            return tuple(z[i] - z[K - 1] for i in range(K - 1))

    F.dps = D  # type: ignore[attr-defined]
    F.b = bval  # type: ignore[attr-defined]
    F.loss = scaled  # type: ignore[attr-defined]
    F.K = K  # type: ignore[attr-defined]
    return F


# ----------------------------------------------------------------------------- Taylor tensors


def stencil_points(dim: int) -> list[tuple[int, ...]]:
    """The points (in units of the step ``h``) at which :func:`taylor_numeric` evaluates a map of ``R^dim``:
    ``0``; ``±e_j``, ``±2 e_j``; ``±e_j ± e_k`` (``j < k``); ``±e_j ± e_k ± e_m`` (``j < k < m``).

    ``1 + 4 n + 4 C(n, 2) + 8 C(n, 3)`` points (13 in the plane, 33 for ``n = 3``).

    >>> len(stencil_points(2)), len(stencil_points(3)), len(stencil_points(5))
    (13, 33, 141)
    """
    n = int(dim)
    if n < 1:
        raise InputError(f"dim = {dim}, expected an integer >= 1")

    def e(*pairs: tuple[int, int]) -> tuple[int, ...]:
        v = [0] * n
        for j, c in pairs:
            v[j] = c
        return tuple(v)

    pts = [e()]
    for j in range(n):
        pts += [e((j, 1)), e((j, -1)), e((j, 2)), e((j, -2))]
    for j, k in combinations(range(n), 2):
        pts += [e((j, sj), (k, sk)) for sj in (1, -1) for sk in (1, -1)]
    for j, k, m in combinations(range(n), 3):
        pts += [e((j, sj), (k, sk), (m, sm)) for sj in (1, -1) for sk in (1, -1) for sm in (1, -1)]
    return pts


def taylor_numeric(F: Callable[[Sequence], Sequence], dps: int, *, step: Any = None, dim: int = 2) -> Taylor:
    """``A, B, C`` of a map ``F`` of ``R^dim`` at ``l = 0`` by central differences (every formula ``O(h^2)``).

    The stencil is :func:`stencil_points` (13 points in the plane). With ``f(v) = F(h v)`` and unit
    vectors ``e_j``: ``A e_j = (f(e_j) - f(-e_j))/2h``; ``B(e_j, e_j) = (f(e_j) - 2 f(0) + f(-e_j))/h^2``;
    ``B(e_j, e_k) = sum_{s,t = ±1} s t f(s e_j + t e_k)/4h^2``; ``C(e_j, e_j, e_j) = (f(2e_j) - 2 f(e_j)
    + 2 f(-e_j) - f(-2 e_j))/2h^3``; ``C(e_j, e_j, e_k)`` the central difference in ``e_k`` of the second
    difference in ``e_j``; ``C(e_j, e_k, e_m)`` (all different) ``sum s t u f(s e_j + t e_k + u e_m)/8h^3``.

    ``F`` must be accurate to the digits ``E`` of :func:`stencil_plan` (a callable with a ``dps``
    attribute below ``E`` is refused); ``step`` overrides ``h = 10^-s``. With the plan's step the
    entries are right to about ``10^-(dps + 10)`` times the size of ``F``'s 4th/5th derivatives.

    >>> T = taylor_numeric(lambda l: (l[0] + l[0] * l[1] ** 2, 2 * l[1] - l[0] ** 2), 12)
    >>> [[mpmath.nstr(v, 10) for v in row] for row in T.A], mpmath.nstr(T.B[1][0][0], 10), mpmath.nstr(T.C[0][0][1][1], 10)
    ([['1.0', '0.0'], ['0.0', '2.0']], '-2.0', '2.0')
    >>> T = taylor_numeric(lambda l: (l[0] * l[1] * l[2], l[1], l[2] ** 3), 12, dim=3)
    >>> mpmath.nstr(T.C[0][2][0][1], 10), mpmath.nstr(T.C[2][2][2][2], 10), mpmath.nstr(T.C[0][0][0][1], 10)
    ('1.0', '6.0', '0.0')
    """
    n = int(dim)
    s, E = stencil_plan(dps)
    have = getattr(F, "dps", None)
    if have is not None and have < E:
        raise InputError(f"the map is evaluated to {have} digits; {E} are needed for {dps}-digit tensors (stencil_plan)")
    work = max(E, have or 0) + GUARD
    with workdps(work):
        h = mpmath.mpf(10) ** (-s) if step is None else mpmath.mpf(step)
        pts = {}
        for v in stencil_points(n):
            out = F([c * h for c in v])
            if len(out) != n:
                raise InputError(f"the map returns {len(out)} components, expected dim = {n}")
            pts[v] = [mpmath.mpf(x) for x in out]
        zero = (0,) * n

        def f(comp: int, *pairs: tuple[int, int]) -> mpmath.mpf:
            v = [0] * n
            for j, c in pairs:
                v[j] = c
            return pts[tuple(v)][comp]

        A = [[None] * n for _ in range(n)]
        B = [[[None] * n for _ in range(n)] for _ in range(n)]
        C = [[[[None] * n for _ in range(n)] for _ in range(n)] for _ in range(n)]
        for c in range(n):
            f0 = pts[zero][c]
            for j in range(n):
                A[c][j] = (f(c, (j, 1)) - f(c, (j, -1))) / (2 * h)
                B[c][j][j] = (f(c, (j, 1)) - 2 * f0 + f(c, (j, -1))) / h**2
                C[c][j][j][j] = (f(c, (j, 2)) - 2 * f(c, (j, 1)) + 2 * f(c, (j, -1)) - f(c, (j, -2))) / (2 * h**3)
            for j, k in combinations(range(n), 2):
                B[c][j][k] = B[c][k][j] = (f(c, (j, 1), (k, 1)) - f(c, (j, 1), (k, -1)) - f(c, (j, -1), (k, 1))
                                           + f(c, (j, -1), (k, -1))) / (4 * h**2)
                for a_, b_ in ((j, k), (k, j)):  # d^3/da^2 db: the central difference in b of the second difference in a
                    val = (f(c, (a_, 1), (b_, 1)) - 2 * f(c, (b_, 1)) + f(c, (a_, -1), (b_, 1))
                           - f(c, (a_, 1), (b_, -1)) + 2 * f(c, (b_, -1)) - f(c, (a_, -1), (b_, -1))) / (2 * h**3)
                    for idx in set(permutations((a_, a_, b_))):
                        C[c][idx[0]][idx[1]][idx[2]] = val
            for j, k, m in combinations(range(n), 3):
                val = mpmath.fsum(sj * sk * sm * f(c, (j, sj), (k, sk), (m, sm))
                                  for sj in (1, -1) for sk in (1, -1) for sm in (1, -1)) / (8 * h**3)
                for idx in permutations((j, k, m)):
                    C[c][idx[0]][idx[1]][idx[2]] = val
    tup = lambda x: tuple(tup(y) for y in x) if isinstance(x, list) else x  # noqa: E731
    return Taylor(tup(A), tup(B), tup(C))


# ----------------------------------------------------------------------------- the coefficient


def _bil(B: Sequence, u: Sequence, v: Sequence) -> list:
    return [mpmath.fsum(B[i][j][k] * u[j] * v[k] for j in range(2) for k in range(2)) for i in range(2)]


def _tri(C: Sequence, u: Sequence, v: Sequence, w: Sequence) -> list:
    return [mpmath.fsum(C[i][j][k][m] * u[j] * v[k] * w[m] for j in range(2) for k in range(2) for m in range(2)) for i in range(2)]


def _solve2(M: Sequence, rhs: Sequence) -> list:
    det = M[0][0] * M[1][1] - M[0][1] * M[1][0]
    if det == 0:
        raise NumericalFailure("a resolvent in the normal-form coefficient is singular (a strong resonance); the coefficient is not defined there")
    return [(M[1][1] * rhs[0] - M[0][1] * rhs[1]) / det, (M[0][0] * rhs[1] - M[1][0] * rhs[0]) / det]


def _inner(u: Sequence, v: Sequence):
    return mpmath.fsum(mpmath.conj(u[i]) * v[i] for i in range(2))


def first_lyapunov(A: Sequence, B: Sequence, C: Sequence) -> EigenData:
    r"""Eigen-data and ``c1``, ``d`` of a planar map with derivative tensors ``A, B, C`` at a fixed point
    (module docstring, step 3), in complex arithmetic at the current precision.

    ``A`` must have a complex pair ``r e^{± i theta}`` (``0 < theta < pi``). The eigenvector
    ``q`` is ``(A_01, lambda - A_00)`` (or ``(lambda - A_11, A_10)`` when ``A_01 = 0``) scaled to
    ``<q, q> = 1``, ``p = (A_10, conj(lambda) - A_00)`` (or the analogue) scaled to ``<p, q> = 1``;
    ``c1`` does not depend on the remaining phase of ``q``.

    ``terms`` are the three parts of ``c1``: ``<p, C(q,q,qbar)>/2``, ``<p, 2 B(q, h11)>/2``,
    ``<p, B(qbar, h20)>/2``.

    Checked on a map built from a chosen normal form, ``w -> lambda w + c w|w|^2`` in the
    coordinates ``l = (Re w, Im w)``; with ``<q, q> = 1`` the normal-form coordinate is ``w/sqrt 2``,
    so ``c1 = 2 c``:

    >>> lam, c = mpmath.expjpi(mpmath.mpf(1) / 5), mpmath.mpc(-1, 2)
    >>> A = ((lam.real, -lam.imag), (lam.imag, lam.real))
    >>> B = tuple(tuple((0, 0) for _ in range(2)) for _ in range(2))
    >>> def cub(i, j, k, m):          # d^3/dl_j dl_k dl_m of the i-th component of c w |w|^2
    ...     idx = sorted((j, k, m)); n1 = idx.count(1)
    ...     vals = {0: (6 * c.real, 6 * c.imag), 1: (-2 * c.imag, 2 * c.real), 2: (2 * c.real, 2 * c.imag), 3: (-6 * c.imag, 6 * c.real)}
    ...     return vals[n1][i]
    >>> C = tuple(tuple(tuple(tuple(cub(i, j, k, m) for m in range(2)) for k in range(2)) for j in range(2)) for i in range(2))
    >>> ed = first_lyapunov(A, B, C)
    >>> mpmath.nstr(ed.c1, 12), mpmath.nstr(ed.d, 12), mpmath.nstr(ed.theta / mpmath.pi, 12)
    ('(-2.0 + 4.0j)', '0.73310702042', '0.2')
    """
    a00, a01, a10, a11 = (mpmath.mpf(A[0][0]), mpmath.mpf(A[0][1]), mpmath.mpf(A[1][0]), mpmath.mpf(A[1][1]))
    tr, det = a00 + a11, a00 * a11 - a01 * a10
    disc = det - tr**2 / 4
    if not disc > 0:
        raise NumericalFailure(
            f"the Jacobian at the fixed point has real eigenvalues (trace {mpmath.nstr(tr, 8)}, determinant {mpmath.nstr(det, 8)}): "
            "no Neimark–Sacker pair"
        )
    lam = mpmath.mpc(tr / 2, mpmath.sqrt(disc))
    if abs(a01) >= abs(a10):
        q = [mpmath.mpc(a01), lam - a00]
    else:
        q = [lam - a11, mpmath.mpc(a10)]
    nq = mpmath.sqrt(_inner(q, q).real)
    q = [v / nq for v in q]
    lb = mpmath.conj(lam)
    if abs(a10) >= abs(a01):
        p = [mpmath.mpc(a10), lb - a00]
    else:
        p = [lb - a11, mpmath.mpc(a01)]
    s = _inner(p, q)
    p = [v / mpmath.conj(s) for v in p]
    qb = [mpmath.conj(v) for v in q]
    r2 = det
    Bqqb = _bil(B, q, qb)
    Bqq = _bil(B, q, q)
    h11 = _solve2([[r2 - a00, -a01], [-a10, r2 - a11]], Bqqb)
    l2 = lam * lam
    h20 = _solve2([[l2 - a00, -a01], [-a10, l2 - a11]], Bqq)
    t3, t11, t20 = _tri(C, q, q, qb), _bil(B, q, h11), _bil(B, qb, h20)
    terms = (_inner(p, t3) / 2, _inner(p, t11), _inner(p, t20) / 2)
    c1 = mpmath.fsum(terms)
    r = abs(lam)
    theta = mpmath.arg(lam)
    d = (mpmath.expj(-theta) * c1).real
    return EigenData(lam, theta, r, tuple(q), tuple(p), c1, d, terms)


def resonance(theta: Any, tol: Any) -> str | None:
    """The strong resonance ``e^{i k theta} = 1`` (``k = 1..4``) within ``tol`` of ``theta``, or ``None``.

    >>> resonance(mpmath.pi / 2, 1e-10), resonance(mpmath.mpf(1), 1e-10)
    ('1:4 (theta = pi/2)', None)
    """
    names = {1: "1:1 (theta = 0)", 2: "1:2 (theta = pi)", 3: "1:3 (theta = 2 pi/3)", 4: "1:4 (theta = pi/2)"}
    for k in range(1, 5):
        for j in range(0, k + 1):
            if abs(theta - 2 * mpmath.pi * j / k) <= tol:
                return names[k] if (k, j) != (4, 2) else names[2]
    return None


def _one(loss: Any, alpha: Fraction, a: Fraction, lam: Fraction, bx: Any, dps: int, shift: int, extra: int) -> tuple[EigenData, int, mpmath.mpf]:
    s, E = stencil_plan(dps)
    F = map_in_chart(loss, alpha, a, lam, bx, dps=E + extra)
    with workdps(E + extra + GUARD):
        h = mpmath.mpf(10) ** (-(s + shift))
        T = taylor_numeric(F, dps, step=h)
        zero = F([mpmath.mpf(0), mpmath.mpf(0)])
        if max(abs(v) for v in zero) > mpmath.mpf(10) ** (-E):
            raise NumericalFailure(f"l = 0 is not a fixed point of the map (|F(0)| = {mpmath.nstr(max(abs(v) for v in zero), 3)}); the uniform point must be fixed")
        return first_lyapunov(*T), E + extra + GUARD, h


def lyapunov_numeric(loss: Any, alpha: Any, a: Any, lam: Any, b: Any = None, *, dps: int = 40) -> NumericNS:
    """The first Lyapunov coefficient of the 3-cycle MRS map at the uniform point, numerically.

    Parameters
    ----------
    loss : a smooth loss of the family: a name (``ipo``, ``dpo``, ``exp``, ``tq``), an expression in
        ``x``, or a PairLoss (its scale is replaced by the one that gives ``b``)
    alpha : ``0 <= alpha < 1``; a : ``0 < a <= 1/2``; lam : ``0 < lam <= 1`` (exact numbers)
    b : the multiplier ``b`` (exact number or sympy expression); ``None`` puts the point on the
        threshold curve (:func:`threshold_b`). Off the curve ``r != 1`` and ``d`` is the cubic
        coefficient of the normal form at the actual eigenvalue (module docstring, step 3).
    dps : the digits claimed (the map is evaluated to ``ceil(5 dps/2) + 25`` digits, twice)

    Returns
    -------
    NumericNS, with ``error`` the difference to the control computation (module docstring, step 4).
    """
    lo = _smooth_loss(loss)
    al, av, la = read_point(alpha, a, lam)
    on_curve = b is None
    bx = threshold_b(lo, al, av, la) if on_curve else _exact_b(b)
    D = int(dps)
    ed, work, h = _one(lo, al, av, la, bx, D, 0, 0)
    ctl, _, _ = _one(lo, al, av, la, bx, D, 3, 10)
    with workdps(work):
        err = max(abs(ed.theta - ctl.theta), abs(ed.r - ctl.r), abs(ed.c1 - ctl.c1), abs(ed.d - ctl.d))
        bval = b_mp(lo.with_scale(lo.scale_of_b(bx)))
        res = resonance(ed.theta, mpmath.mpf(10) ** (-(D // 2)))
    return NumericNS(lo.name, al, av, la, bval, on_curve, ed.theta, ed.r, ed.q, ed.p, ed.c1, ed.d, D, err, work, h, res)


# ============================================================================= any balanced P (K >= 3)


@dataclass(frozen=True)
class CriticalPair:
    """The spectrum of ``S = P - 11^T/2`` of a balanced ``P``, exactly (:func:`critical_pair`).

    ``S`` is real skew-symmetric with ``S 1 = 0``: its eigenvalues on the tangent space ``1^T v = 0`` are
    ``0`` (``zeros`` times) and pairs ``± i s_k``; the tangent Jacobian of the MRS map at the uniform point
    has the eigenvalues ``alpha + i c_f lam s_k/(b K)`` (LOSS-3), so the pair with the largest ``|s_k|``
    (``s_max``) crosses the unit circle first. ``spectrum``: the distinct ``s_k^2 > 0`` (exact sympy
    numbers, decreasing) with the number of pairs of each; ``pairs``: how many pairs have ``|s| = s_max``
    (1: a simple critical pair; more: they cross together, a codimension-two point).
    """

    K: int
    s_max: Any
    pairs: int
    spectrum: tuple
    zeros: int

    @property
    def simple(self) -> bool:
        """One pair crosses: the Neimark–Sacker coefficient applies."""
        return self.pairs == 1


@dataclass(frozen=True)
class MatrixNS:
    """The numeric Neimark–Sacker data of the MRS map of a balanced ``P`` at the uniform point
    (:func:`lyapunov_numeric_matrix`), in the ``(K - 1)``-dimensional log-ratio chart.

    As :class:`NumericNS`, and: ``P`` (exact rows), ``K``; ``s_max`` (mpf) and ``pairs`` from
    :func:`critical_pair`; ``degenerate``: why the coefficient does not apply (two or more pairs crossing
    together), else ``None`` — then ``c1 = d = None`` and ``theta``, ``r`` are those of the linear
    formula; ``eigenvalues``: all eigenvalues of the chart Jacobian ``A`` (numeric);
    ``linear_error``: ``|lambda - (alpha + i c_f lam s_max/(b K))|``, the computed critical eigenvalue
    against LOSS-3.
    """

    loss: str
    P: tuple
    K: int
    alpha: Fraction
    lam: Fraction
    b: mpmath.mpf
    on_curve: bool
    s_max: mpmath.mpf
    pairs: int
    degenerate: str | None
    theta: mpmath.mpf
    r: mpmath.mpf
    q: tuple
    p: tuple
    c1: Any
    d: Any
    dps: int
    error: mpmath.mpf
    work_dps: int
    step: Any
    resonance: str | None
    eigenvalues: tuple = ()
    linear_error: Any = None

    @property
    def verified(self) -> bool:
        """The control agrees to ``dps`` digits (never for a degenerate point: there is no coefficient)."""
        return self.degenerate is None and bool(self.error <= mpmath.mpf(10) ** (-self.dps))

    @property
    def kind(self) -> str:
        """``supercritical``, ``subcritical``, ``undecided`` (``|d| <= error``) or ``degenerate`` (codimension two)."""
        if self.degenerate is not None:
            return "degenerate"
        if abs(self.d) <= self.error:
            return "undecided"
        return "supercritical" if self.d < 0 else "subcritical"

    def to_json(self) -> dict:
        n = max(self.dps, 15)
        cnum = lambda z: None if z is None else [mpmath.nstr(mpmath.re(z), n), mpmath.nstr(mpmath.im(z), n)]  # noqa: E731
        return {
            "loss": self.loss,
            "K": self.K,
            "P": [[str(x) for x in row] for row in self.P],
            "alpha": str(self.alpha),
            "lam": str(self.lam),
            "b": mpmath.nstr(self.b, n),
            "on_curve": self.on_curve,
            "s_max": mpmath.nstr(self.s_max, n),
            "pairs": self.pairs,
            "degenerate": self.degenerate,
            "theta": mpmath.nstr(self.theta, n),
            "r": mpmath.nstr(self.r, n),
            "c1": cnum(self.c1),
            "d": None if self.d is None else mpmath.nstr(self.d, n),
            "kind": self.kind,
            "dps": self.dps,
            "error": mpmath.nstr(self.error, 3),
            "work_dps": self.work_dps,
            "step": None if self.step is None else mpmath.nstr(self.step, 3),
            "resonance": self.resonance,
            "eigenvalues": [cnum(z) for z in self.eigenvalues],
            "linear_error": None if self.linear_error is None else mpmath.nstr(self.linear_error, 3),
        }


def balanced_skew(P: Any) -> tuple[PreferenceMatrix, list[list[Fraction]]]:
    """``(P, S)``: the validated exact matrix and ``S = P - 11^T/2``, refused (one line) unless ``P`` is balanced
    (``S 1 = 0``), ``K >= 3`` and ``S != 0``.

    With ``pi0 = pi_ref`` uniform the uniform point is a fixed point of the MRS map of every smooth loss
    exactly when ``S 1 = 0``: at a constant ``x`` the stationarity of the population loss at the uniform
    sampler reads ``2 f'(0) (S 1)_i / K``, and ``f'(0) < 0``.

    >>> balanced_skew([["1/2", "3/5", "2/5"], ["2/5", "1/2", "3/5"], ["3/5", "2/5", "1/2"]])[1][0]
    [Fraction(0, 1), Fraction(1, 10), Fraction(-1, 10)]
    >>> balanced_skew([["1/2", "3/5", "1/2"], ["2/5", "1/2", "1/2"], ["1/2", "1/2", "1/2"]])
    Traceback (most recent call last):
    ...
    verify.exact.objects.InputError: P is not balanced: row 0 of S = P - 11^T/2 sums to 1/10, not 0, so the uniform point is not a fixed point of the MRS map (pi0 = pi_ref = uniform)
    """
    Pm = P if isinstance(P, PreferenceMatrix) else load_preference_matrix(P)
    K = Pm.K
    S = Pm.skew()
    for i, row in enumerate(S):
        r = sum(row, Fraction(0))
        if r != 0:
            raise InputError(
                f"P is not balanced: row {i} of S = P - 11^T/2 sums to {r}, not 0, so the uniform point is not a fixed point "
                "of the MRS map (pi0 = pi_ref = uniform)"
            )
    if K < 3:
        raise InputError(f"K = {K}: a balanced P with K = 2 is 11^T/2 (no complex pair, no oscillation); expected K >= 3")
    if all(x == 0 for row in S for x in row):
        raise InputError("P = 11^T/2 (S = 0): the Jacobian at the uniform point is alpha I, with no complex pair (no oscillation)")
    return Pm, S


def critical_pair(P: Any) -> CriticalPair:
    """The eigenvalues ``± i s_k`` of ``S`` of a balanced ``P``, exactly, and whether the largest pair is simple.

    ``s_k^2`` are the eigenvalues of ``S^T S = -S^2`` (each pair twice), found as the exact real roots of
    its characteristic polynomial (sympy; rational or ``CRootOf``), so a double pair is seen exactly.

    >>> cp = critical_pair([["1/2", "9/10", "1/10"], ["1/10", "1/2", "9/10"], ["9/10", "1/10", "1/2"]])
    >>> cp.s_max, cp.pairs, cp.zeros
    (2*sqrt(3)/5, 1, 0)
    >>> ring6 = [[Fraction(1, 2) + (Fraction(1, 5) if j == (i + 1) % 6 else -Fraction(1, 5) if i == (j + 1) % 6 else 0)
    ...           for j in range(6)] for i in range(6)]
    >>> critical_pair(ring6).pairs        # the 6-ring: s = 2 a sin(pi/3) = 2 a sin(2 pi/3), two pairs at once
    2
    """
    import sympy

    Pm, S = balanced_skew(P)
    K = Pm.K
    M = sympy.Matrix([[sympy.Rational(x.numerator, x.denominator) for x in row] for row in S])
    x = sympy.Symbol("x")
    roots = sympy.Poly(sympy.expand((M.T * M).charpoly(x).as_expr()), x).real_roots()
    groups: list[list] = []
    for rt in roots:
        if groups and groups[-1][0] == rt:
            groups[-1][1] += 1
        else:
            groups.append([rt, 1])
    nonzero = sorted(((g, c) for g, c in groups if g != 0), key=lambda gc: gc[0], reverse=True)
    if any(c % 2 for _, c in nonzero):  # pragma: no cover - S^T S of a real skew S has even multiplicities
        raise NumericalFailure("S^T S has a nonzero eigenvalue of odd multiplicity: S is not skew-symmetric")
    spectrum = tuple((g, c // 2) for g, c in nonzero)
    zeros = sum(c for g, c in groups if g == 0) - 1
    top, pairs = spectrum[0]
    return CriticalPair(K, sympy.sqrt(top), pairs, spectrum, zeros)


def read_alpha_lam(alpha: Any, lam: Any) -> tuple[Fraction, Fraction]:
    """``(alpha, lam)`` validated exactly: ``0 <= alpha < 1``, ``0 < lam <= 1`` (as :func:`read_point`)."""
    al, _, la = read_point(alpha, Fraction(1, 4), lam)
    return al, la


def threshold_b_matrix(loss: Any, P: Any, alpha: Any, lam: Any, pair: CriticalPair | None = None):
    """The exact ``b`` on the threshold of a balanced ``P`` (LOSS-3): ``c_f lam s_max / (K sqrt(1 - alpha^2))``.

    The eigenvalues of the tangent Jacobian are ``alpha + i c_f lam s_k/(b K)``; the largest pair reaches
    modulus 1 at this ``b`` (a sympy number: a radical, or a ``CRootOf`` expression for ``K >= 5``).

    >>> threshold_b_matrix("ipo", [["1/2", "3/4", "1/4"], ["1/4", "1/2", "3/4"], ["3/4", "1/4", "1/2"]], "1/2", 1)
    1/3
    """
    import sympy

    lo = _smooth_loss(loss)
    al, la = read_alpha_lam(alpha, lam)
    cp = pair if pair is not None else critical_pair(P)
    R = sympy.Rational
    return sympy.radsimp(lo.gain * R(la.numerator, la.denominator) * cp.s_max
                         / (cp.K * sympy.sqrt(1 - R(al.numerator, al.denominator) ** 2)))


def map_in_chart_matrix(loss: Any, P: Any, alpha: Any, lam: Any, b: Any, *, dps: int) -> Callable[[Sequence], tuple]:
    """The MRS map of a balanced ``P`` in the log-ratio chart ``l_i = log(pi_i/pi_{K-1})``, ``i = 0..K-2``, to ``dps`` digits.

    As :func:`map_in_chart` (``F(l)_i = z_i - z_{K-1}``, ``pi0 = pi_ref`` uniform, ``b`` exact), for any ``K``;
    ``K - 1`` mpf in, ``K - 1`` mpf out.

    >>> P4 = [["1/2", "4/5", "2/5", "3/10"], ["1/5", "1/2", "3/5", "7/10"], ["3/5", "2/5", "1/2", "1/2"], ["7/10", "3/10", "1/2", "1/2"]]
    >>> F = map_in_chart_matrix("dpo", P4, "1/2", 1, 1, dps=20)
    >>> [mpmath.nstr(v, 12) for v in F([0, 0, 0])]
    ['0.0', '0.0', '0.0']
    """
    lo = _smooth_loss(loss)
    Pm, _ = balanced_skew(P)
    al, la = read_alpha_lam(alpha, lam)
    return _chart_map(lo, Pm, al, la, b, dps)


def _vec_bil(B: Sequence, u: Sequence, v: Sequence) -> list:
    n = len(u)
    return [mpmath.fsum(B[i][j][k] * u[j] * v[k] for j in range(n) for k in range(n)) for i in range(n)]


def _vec_tri(C: Sequence, u: Sequence, v: Sequence, w: Sequence) -> list:
    n = len(u)
    return [mpmath.fsum(C[i][j][k][m] * u[j] * v[k] * w[m] for j in range(n) for k in range(n) for m in range(n)) for i in range(n)]


def _vec_inner(u: Sequence, v: Sequence):
    return mpmath.fsum(mpmath.conj(a) * b for a, b in zip(u, v))


def _resolvent(z: Any, A: Sequence, rhs: Sequence) -> list:
    n = len(A)
    M = mpmath.matrix(n, n)
    for i in range(n):
        for j in range(n):
            M[i, j] = (z if i == j else 0) - A[i][j]
    try:
        x = mpmath.lu_solve(M, mpmath.matrix([[v] for v in rhs]))
    except ZeroDivisionError:
        raise NumericalFailure("a resolvent in the normal-form coefficient is singular (a strong resonance); the coefficient is not defined there") from None
    return [x[i] for i in range(n)]


def first_lyapunov_nd(A: Sequence, B: Sequence, C: Sequence, *, term_factors: Sequence = (1, 2, 1)) -> EigenData:
    r"""Eigen-data and ``c1``, ``d`` of a map of ``R^n`` with derivative tensors ``A, B, C`` at a fixed point.

    Kuznetsov's formula for ``n``-dimensional maps (module docstring, step 3) with the whole ``n x n``
    Jacobian in the resolvents ``(r^2 I - A)^{-1}``, ``(lambda^2 I - A)^{-1}``: valid as long as no other
    eigenvalue of ``A`` lies on the unit circle. The critical eigenvalue ``lambda`` is the one with the
    largest imaginary part; it must be simple and its pair separated from every other eigenvalue (else
    :class:`NumericalFailure`: two pairs crossing together, the formula does not apply). ``q``: the right
    eigenvector (``<q, q> = 1``), ``p``: the left one (``A^T p = conj(lambda) p``, ``<p, q> = 1``), from
    ``mpmath.eig``. ``term_factors`` multiplies the three terms ``<p, C(q,q,qbar)>``, ``<p, B(q, h11)>``,
    ``<p, B(qbar, h20)>`` (each then halved): ``(1, 2, 1)`` is the formula; any other value plants a wrong
    variant (a negative control). ``eigenvalues`` of the result: all of ``A``'s.

    For ``n = 2`` it is :func:`first_lyapunov`. In three dimensions, a rotation ``R`` by ``theta`` coupled to a
    contracting direction, ``(x, y) -> (R x (1 + y), y/2 + |x|^2)``: its centre manifold is ``y = 2 |x|^2 + ...``,
    so on it ``w -> e^{i theta} w (1 + 2 |w|^2)`` in ``w = x_0 + i x_1``; with ``<q, q> = 1`` the normal-form
    coordinate is ``w/sqrt 2``, so ``c1 = 4 e^{i theta}`` and ``d = 4`` (the third direction enters only through
    ``(I - A)^{-1}``):

    >>> lam = mpmath.expjpi(mpmath.mpf(1) / 5)
    >>> R = ((lam.real, -lam.imag), (lam.imag, lam.real))
    >>> A = (R[0] + (0,), R[1] + (0,), (0, 0, mpmath.mpf(1) / 2))
    >>> def b(i, j, k):                  # d^2 F_i / dx_j dx_k
    ...     if i < 2 and 2 in (j, k) and j != k: return R[i][min(j, k)]
    ...     return 2 if i == 2 and j == k < 2 else 0
    >>> B = tuple(tuple(tuple(b(i, j, k) for k in range(3)) for j in range(3)) for i in range(3))
    >>> ed = first_lyapunov_nd(A, B, tuple(tuple(tuple((0, 0, 0) for _ in range(3)) for _ in range(3)) for _ in range(3)))
    >>> mpmath.nstr(mpmath.chop(ed.c1 / lam, 1e-12), 8), mpmath.nstr(ed.d, 8), mpmath.nstr(ed.theta / mpmath.pi, 8), len(ed.eigenvalues)
    ('4.0', '4.0', '0.2', 3)
    """
    n = len(A)
    M = mpmath.matrix([[mpmath.mpf(v) for v in row] for row in A])
    E, EL, ER = mpmath.eig(M, left=True, right=True)
    ev = [mpmath.mpc(E[i]) for i in range(n)]
    k = max(range(n), key=lambda i: ev[i].imag)
    lam = ev[k]
    scale = max(1, max(abs(v) for v in ev))
    tol = scale * mpmath.mpf(10) ** (-(mpmath.mp.dps // 3))
    if not lam.imag > tol:
        raise NumericalFailure(f"the Jacobian at the fixed point has real eigenvalues {[mpmath.nstr(v, 8) for v in ev]}: no Neimark–Sacker pair")
    rest = [i for i in range(n) if i != k]
    partner = min(rest, key=lambda i: abs(ev[i] - mpmath.conj(lam)))
    close = [i for i in rest if i != partner and abs(ev[i] - lam) <= tol]
    if close:
        raise NumericalFailure(
            f"the critical eigenvalue {mpmath.nstr(lam, 10)} is not simple (another eigenvalue within {mpmath.nstr(tol, 3)}): "
            "two pairs cross together, the first Lyapunov coefficient does not decide"
        )
    q = [mpmath.mpc(ER[i, k]) for i in range(n)]
    nq = mpmath.sqrt(_vec_inner(q, q).real)
    q = [v / nq for v in q]
    y = [mpmath.mpc(EL[k, i]) for i in range(n)]  # y A = lambda y
    yq = mpmath.fsum(y[i] * q[i] for i in range(n))
    p = [mpmath.conj(y[i]) / mpmath.conj(yq) for i in range(n)]  # A^T p = conj(lambda) p, <p, q> = 1
    qb = [mpmath.conj(v) for v in q]
    r2 = (lam * mpmath.conj(lam)).real
    h11 = _resolvent(r2, A, _vec_bil(B, q, qb))
    h20 = _resolvent(lam * lam, A, _vec_bil(B, q, q))
    f3, f11, f20 = (mpmath.mpf(t) for t in term_factors)
    terms = (f3 * _vec_inner(p, _vec_tri(C, q, q, qb)) / 2, f11 * _vec_inner(p, _vec_bil(B, q, h11)) / 2,
             f20 * _vec_inner(p, _vec_bil(B, qb, h20)) / 2)
    c1 = mpmath.fsum(terms)
    theta = mpmath.arg(lam)
    d = (mpmath.expj(-theta) * c1).real
    return EigenData(lam, theta, abs(lam), tuple(q), tuple(p), c1, d, terms, tuple(ev))


def _one_matrix(lo, Pm, al: Fraction, la: Fraction, bx: Any, dps: int, shift: int, extra: int, term_factors) -> tuple[EigenData, int, mpmath.mpf]:
    s, E = stencil_plan(dps)
    F = _chart_map(lo, Pm, al, la, bx, E + extra)
    n = Pm.K - 1
    with workdps(E + extra + GUARD):
        h = mpmath.mpf(10) ** (-(s + shift))
        T = taylor_numeric(F, dps, step=h, dim=n)
        zero = F([mpmath.mpf(0)] * n)
        if max(abs(v) for v in zero) > mpmath.mpf(10) ** (-E):
            raise NumericalFailure(f"l = 0 is not a fixed point of the map (|F(0)| = {mpmath.nstr(max(abs(v) for v in zero), 3)}); the uniform point must be fixed")
        return first_lyapunov_nd(*T, term_factors=term_factors), E + extra + GUARD, h


def lyapunov_numeric_matrix(loss: Any, P: Any, alpha: Any, lam: Any, b: Any = None, *, dps: int = 30,
                            term_factors: Sequence = (1, 2, 1)) -> MatrixNS:
    """The first Lyapunov coefficient of the MRS map of a balanced ``P`` (any ``K >= 3``) at the uniform point, numerically.

    ``pi0 = pi_ref`` uniform; the chart is ``l_i = log(pi_i/pi_{K-1})``, ``i = 0..K-2``, with its Euclidean
    inner product (``<q, q> = 1``, ``<p, q> = 1``). The tensors come from the solved map on the stencil of
    :func:`taylor_numeric` (``dim = K - 1``), the coefficient from :func:`first_lyapunov_nd`; the error is
    the difference to the control computation (step ``h 10^-3``, 10 more digits), as in
    :func:`lyapunov_numeric`, with which it agrees for ``K = 3`` (the same map in the same chart).

    Parameters
    ----------
    loss : a smooth loss of the family (name, expression in ``x`` or PairLoss)
    P : an exact balanced preference matrix (``S 1 = 0``; :func:`balanced_skew`)
    alpha : ``0 <= alpha < 1``; lam : ``0 < lam <= 1``
    b : the multiplier (exact); ``None`` puts the point on the threshold (:func:`threshold_b_matrix`)
    dps : the digits claimed
    term_factors : the formula's ``(1, 2, 1)``; anything else plants a wrong variant (negative control)

    Returns
    -------
    MatrixNS. When two or more pairs of ``S`` share the largest ``|s|`` (:func:`critical_pair`) they cross the
    unit circle together: ``degenerate`` says so and no coefficient is computed.

    >>> P4 = [["1/2", "4/5", "2/5", "3/10"], ["1/5", "1/2", "3/5", "7/10"], ["3/5", "2/5", "1/2", "1/2"], ["7/10", "3/10", "1/2", "1/2"]]
    >>> res = lyapunov_numeric_matrix("ipo", P4, "1/2", 1, dps=8)
    >>> res.kind, mpmath.nstr(res.r, 10), res.verified, res.linear_error < 1e-8
    ('supercritical', '1.0', True, True)
    """
    lo = _smooth_loss(loss)
    Pm, _ = balanced_skew(P)
    al, la = read_alpha_lam(alpha, lam)
    D = int(dps)
    if D < 5:
        raise InputError(f"dps = {dps}, expected an integer >= 5")
    if len(tuple(term_factors)) != 3:
        raise InputError(f"term_factors = {term_factors!r}, expected three numbers")
    cp = critical_pair(Pm)
    K = Pm.K
    on_curve = b is None
    bx = threshold_b_matrix(lo, Pm, al, la, cp) if on_curve else _exact_b(b)
    work = D + GUARD
    with workdps(work + 10):
        bval = b_mp(lo.with_scale(lo.scale_of_b(bx if bx.is_Rational else bx.evalf(work + 10))))
        smax = sympy_to_mpf(cp.s_max, work + 10)
        omega = sympy_to_mpf(lo.gain, work + 10) * mpmath.mpf(la.numerator) / la.denominator * smax / (bval * K)
        lin = mpmath.mpc(mpmath.mpf(al.numerator) / al.denominator, omega)
    entries = tuple(tuple(row) for row in Pm.entries)
    if not cp.simple:
        why = (f"{cp.pairs} pairs of eigenvalues +-i s of S share the largest |s| = s_max and cross the unit circle together "
               "(a codimension-two point): the first Lyapunov coefficient does not decide")
        return MatrixNS(lo.name, entries, K, al, la, bval, on_curve, smax, cp.pairs, why, mpmath.arg(lin), abs(lin), (), (),
                        None, None, D, mpmath.mpf(0), work, None, resonance(mpmath.arg(lin), mpmath.mpf(10) ** (-(D // 2))))
    ed, wd, h = _one_matrix(lo, Pm, al, la, bx, D, 0, 0, term_factors)
    ctl, _, _ = _one_matrix(lo, Pm, al, la, bx, D, 3, 10, term_factors)
    with workdps(wd):
        err = max(abs(ed.theta - ctl.theta), abs(ed.r - ctl.r), abs(ed.c1 - ctl.c1), abs(ed.d - ctl.d))
        res = resonance(ed.theta, mpmath.mpf(10) ** (-(D // 2)))
        lin_err = abs(ed.eigenvalue - lin)
    return MatrixNS(lo.name, entries, K, al, la, bval, on_curve, smax, cp.pairs, None, ed.theta, ed.r, ed.q, ed.p, ed.c1, ed.d,
                    D, err, wd, h, res, ed.eigenvalues, lin_err)


def sympy_to_mpf(x: Any, dps: int) -> mpmath.mpf:
    """A real sympy number (a radical, a ``CRootOf`` expression) as an mpf of ``dps`` digits."""
    with workdps(dps):
        return mpmath.mpf(x.evalf(dps + 5))


@dataclass(frozen=True)
class RouteAgreement:
    """The general-``K`` route against the 3-cycle route at one point (:func:`cycle_agreement`): the largest
    difference over ``theta, r, c1, d``, the tolerance (``10`` times the sum of the two error estimates plus
    ``10^-dps``), ``agree``."""

    general: MatrixNS
    cyclic: NumericNS
    difference: mpmath.mpf
    tolerance: mpmath.mpf

    @property
    def agree(self) -> bool:
        return bool(self.difference <= self.tolerance)


def cycle_agreement(loss: Any, alpha: Any, a: Any, lam: Any, *, dps: int = 12, term_factors: Sequence = (1, 2, 1)) -> RouteAgreement:
    """Compare :func:`lyapunov_numeric_matrix` on ``P_cyc(a)`` with :func:`lyapunov_numeric` (on the curve).

    The two routes share the chart and the map but not the stencil code path (``dim = 2`` of the general
    stencil), the eigenvectors (``mpmath.eig`` against the planar closed form) or the resolvents (LU
    against Cramer); a planted ``term_factors`` in the general route is refuted.

    >>> cycle_agreement("dpo", "1/2", "1/2", 1, dps=8).agree, cycle_agreement("dpo", "1/2", "1/2", 1, dps=8, term_factors=(1, 2, 2)).agree
    (True, False)
    """
    al, av, la = read_point(alpha, a, lam)
    g = lyapunov_numeric_matrix(loss, cyclic(av), al, la, dps=dps, term_factors=term_factors)
    c = lyapunov_numeric(loss, al, av, la, dps=dps)
    with workdps(max(g.work_dps, c.work_dps)):
        diff = max(abs(g.theta - c.theta), abs(g.r - c.r), abs(g.c1 - c.c1), abs(g.d - c.d))
        tol = 10 * (g.error + c.error) + mpmath.mpf(10) ** (-int(dps))
    return RouteAgreement(g, c, diff, tol)
