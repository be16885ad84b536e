r"""The Neimark–Sacker coefficient of the 3-cycle MRS map, numerically, from the solved map itself.

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

>>> res = lyapunov_numeric("ipo", "1/2", "1/4", 1, dps=12)
>>> mpmath.nstr(res.d, 10), mpmath.nstr(-(1 - mpmath.mpf(1) / 4) / 8, 10)   # the hand value -(1 - alpha^2)/8
('-0.09375', '-0.09375')
>>> res.error < mpmath.mpf(10) ** -12, mpmath.nstr(res.r, 12)
(True, '1.0')
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable, NamedTuple, Sequence

import mpmath

from verify.exact.families import cyclic
from verify.exact.objects import InputError, NumericalFailure, positive, unit_interval
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
    s = mrs.setting(cyclic(av), scaled, al, la)
    mrs.check_solvable(s)
    with workdps(D + GUARD):
        bval = b_mp(scaled)

    def F(l: Sequence) -> tuple:
        with workdps(D + GUARD):
            l0, l1 = (mpmath.mpf(v) for v in l)
            c = logsumexp([l0, l1, mpmath.mpf(0)])
            z, _ = mrs.logits(s, [l0 - c, l1 - c, -c], x0=[mpmath.mpf(0)] * 3)
            return (z[0] - z[2], z[1] - z[2])

    F.dps = D  # type: ignore[attr-defined]
    F.b = bval  # type: ignore[attr-defined]
    F.loss = scaled  # type: ignore[attr-defined]
    return F


# ----------------------------------------------------------------------------- Taylor tensors


def taylor_numeric(F: Callable[[Sequence], Sequence], dps: int, *, step: Any = None) -> Taylor:
    """``A, B, C`` of ``F`` at ``l = 0`` by central differences (13-point stencil, every formula ``O(h^2)``).

    ``F`` must be accurate to the digits ``E`` of :func:`stencil_plan` (a callable with a ``dps``
    attribute below ``E`` is refused); ``step`` overrides ``h = 10^-s``. With the plan's step the
    entries are right to about ``10^-(dps + 10)`` times the size of ``F``'s 4th/5th derivatives.

    >>> T = taylor_numeric(lambda l: (l[0] + l[0] * l[1] ** 2, 2 * l[1] - l[0] ** 2), 12)
    >>> [[mpmath.nstr(v, 10) for v in row] for row in T.A], mpmath.nstr(T.B[1][0][0], 10), mpmath.nstr(T.C[0][0][1][1], 10)
    ([['1.0', '0.0'], ['0.0', '2.0']], '-2.0', '2.0')
    """
    s, E = stencil_plan(dps)
    have = getattr(F, "dps", None)
    if have is not None and have < E:
        raise InputError(f"the map is evaluated to {have} digits; {E} are needed for {dps}-digit tensors (stencil_plan)")
    work = max(E, have or 0) + GUARD
    with workdps(work):
        h = mpmath.mpf(10) ** (-s) if step is None else mpmath.mpf(step)
        pts = {}
        for i, j in ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1), (2, 0), (-2, 0), (0, 2), (0, -2), (1, 1), (1, -1), (-1, 1), (-1, -1)):
            v = F([i * h, j * h])
            pts[i, j] = [mpmath.mpf(v[0]), mpmath.mpf(v[1])]

        def f(i: int, j: int, comp: int) -> mpmath.mpf:
            return pts[i, j][comp]

        A = [[None, None], [None, None]]
        B = [[[None] * 2 for _ in range(2)] for _ in range(2)]
        C = [[[[None] * 2 for _ in range(2)] for _ in range(2)] for _ in range(2)]
        for c in range(2):
            A[c][0] = (f(1, 0, c) - f(-1, 0, c)) / (2 * h)
            A[c][1] = (f(0, 1, c) - f(0, -1, c)) / (2 * h)
            B[c][0][0] = (f(1, 0, c) - 2 * f(0, 0, c) + f(-1, 0, c)) / h**2
            B[c][1][1] = (f(0, 1, c) - 2 * f(0, 0, c) + f(0, -1, c)) / h**2
            B[c][0][1] = B[c][1][0] = (f(1, 1, c) - f(1, -1, c) - f(-1, 1, c) + f(-1, -1, c)) / (4 * h**2)
            xxx = (f(2, 0, c) - 2 * f(1, 0, c) + 2 * f(-1, 0, c) - f(-2, 0, c)) / (2 * h**3)
            yyy = (f(0, 2, c) - 2 * f(0, 1, c) + 2 * f(0, -1, c) - f(0, -2, c)) / (2 * h**3)
            xxy = (f(1, 1, c) - 2 * f(0, 1, c) + f(-1, 1, c) - f(1, -1, c) + 2 * f(0, -1, c) - f(-1, -1, c)) / (2 * h**3)
            xyy = (f(1, 1, c) - 2 * f(1, 0, c) + f(1, -1, c) - f(-1, 1, c) + 2 * f(-1, 0, c) - f(-1, -1, c)) / (2 * h**3)
            for j in range(2):
                for k in range(2):
                    for m in range(2):
                        C[c][j][k][m] = (xxx, xxy, xyy, yyy)[j + k + m]
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
