r"""The Neimark–Sacker normal form of a map at a fixed point, exactly (the first Lyapunov coefficient).

A smooth map with a fixed point at ``0`` has the Taylor expansion

.. math::

    F(x) = A x + \tfrac12 B(x, x) + \tfrac16 C(x, x, x) + O(|x|^4),

``B`` and ``C`` the symmetric multilinear forms of the second and third derivatives
(:func:`taylor_tensors`). When ``A`` has a simple pair of eigenvalues ``e^{\pm i\theta}`` on the unit circle
with ``e^{ik\theta} \ne 1`` for ``k = 1, 2, 3, 4`` (no strong resonance), the map restricted to its
centre manifold is conjugate, up to terms of order four, to the normal form

.. math::

    w \mapsto e^{i\theta} w + c_1 w |w|^2,

and the sign of the first Lyapunov coefficient ``d = Re(e^{-i theta} c_1)`` decides the Neimark–Sacker
bifurcation: ``d < 0`` supercritical (a stable invariant circle is born), ``d > 0`` subcritical.

**The formula** (Kuznetsov, *Elementary Bifurcation Theory*, 3rd ed., 2004, §5.7 for ``n``-dimensional
maps; the ``c_1`` here is the coefficient of the normal form above, so the factor ``e^{-i theta}`` of the
book's expression sits in ``d``):

.. math::

    c_1 = \tfrac12 \langle p,\ C(q, q, \bar q) + 2 B(q, (I - A)^{-1} B(q, \bar q))
          + B(\bar q, (e^{2i\theta} I - A)^{-1} B(q, q)) \rangle,

``A q = e^{i theta} q``, ``A^T p = e^{-i theta} p``, ``<u, v> = conj(u)^T v``.

**Normalisation** (:data:`NORMALISATION`): ``<q, q> = 1`` and ``<p, q> = 1`` in the Euclidean inner
product of the coordinates the map is written in. ``c_1`` does not depend on the phase of ``q``, but it
scales like ``1/|q|^2``: it is the coefficient of the normal form in the coordinate ``z = <p, x>`` on the
centre manifold (``x = z q + conj(z q) + ...``). For a map whose linear part is a rotation written in
``w = x_0 + i x_1``, ``q = (1, -i)/sqrt(2)`` and ``z = w/sqrt(2)``, so the coefficient of this module is
**twice** the one of the normal form in ``w`` (:func:`predicted_coefficient` states the factor for a
linear part ``T R_theta T^{-1}``: ``4/||T||_F^2``). The sign of ``d`` does not depend on the choice.

**Checks of the formula** (:func:`formula_obligations`): (a) maps built to be conjugate to a chosen
truncated normal form by an explicit polynomial change of coordinates (:func:`normal_form_model`) — their
coefficient is known by construction; (b) the delayed logistic map at ``r = 2``, whose coefficient is
computed independently by eliminating the non-resonant terms one by one
(:func:`eliminated_normal_form`); the ``term_factors`` / ``half`` / ``conjugate`` hooks of
:func:`first_lyapunov` plant wrong variants, and every one is refuted.

>>> import sympy
>>> x, y = sympy.symbols("x y", real=True)
>>> A, B, C = taylor_tensors(sympy.Matrix([2 * x * (1 - y), x]), [x, y], at={x: sympy.Rational(1, 2), y: sympy.Rational(1, 2)})
>>> A
Matrix([
[1, -1],
[1,  0]])
>>> B([1, 0], [0, 1]).T
Matrix([[-2, 0]])
>>> nf = first_lyapunov(A, B, C, sympy.Rational(1, 2), sympy.sqrt(3) / 2)
>>> nf.c1, nf.d
(1 - sqrt(3)*I, -1)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations_with_replacement
from typing import Callable, Sequence

import sympy
from sympy import I, Rational

__all__ = [
    "NORMALISATION",
    "MultilinearForm",
    "taylor_tensors",
    "NSCoefficient",
    "first_lyapunov",
    "re_im",
    "CoordinateChange",
    "DEFAULT_CHANGE",
    "NormalFormModel",
    "normal_form_model",
    "predicted_coefficient",
    "eliminated_normal_form",
    "delayed_logistic",
    "DELAYED_LOGISTIC_D",
    "formula_obligations",
]

#: The normalisation of the eigenvectors behind every coefficient of this module.
NORMALISATION = (
    "A q = e^{i theta} q, A^T p = e^{-i theta} p, <q, q> = 1, <p, q> = 1 with <u, v> = conj(u)^T v "
    "(the Euclidean inner product of the map's coordinates); c1 is the coefficient of w -> e^{i theta} w + c1 w|w|^2 "
    "in the centre-manifold coordinate z = <p, x>, d = Re(e^{-i theta} c1)"
)


# =========================================================================== Taylor tensors
@dataclass(frozen=True)
class MultilinearForm:
    """A vector-valued symmetric multilinear form ``M(u_1, ..., u_k)_i = sum T[i][j_1]...[j_k] u_1j_1 ... u_kj_k``.

    ``tensor`` is a nested tuple (``n`` outputs, then ``k`` indices of length ``n``); calling the form returns a
    column ``sympy.Matrix``.

    >>> M = MultilinearForm((((1, 0), (0, 0)),), 2)
    >>> M([1, 2], [3, 4])
    Matrix([[3]])
    """

    tensor: tuple
    order: int

    def __call__(self, *vectors) -> sympy.Matrix:
        if len(vectors) != self.order:
            raise ValueError(f"a form of order {self.order} takes {self.order} vectors, got {len(vectors)}")
        vs = [list(v) for v in vectors]
        out = []
        for Ti in self.tensor:
            out.append(sympy.expand(_contract(Ti, vs)))
        return sympy.Matrix(out)

    def entry(self, i: int, *idx: int) -> sympy.Expr:
        """``T[i][j_1]...[j_k]``."""
        t = self.tensor[i]
        for j in idx:
            t = t[j]
        return sympy.sympify(t)

    def applyfunc(self, fn: Callable) -> "MultilinearForm":
        """The form with ``fn`` applied to every coefficient."""
        return MultilinearForm(_map_nested(self.tensor, fn), self.order)

    def minus(self, other: "MultilinearForm") -> list:
        """All coefficients of ``self - other`` (a list; all 0 iff the forms are equal)."""
        return [sympy.expand(a - b) for a, b in zip(_flatten(self.tensor), _flatten(other.tensor))]


def _contract(T, vs):
    if not vs:
        return T
    return sum((vs[0][j] * _contract(T[j], vs[1:]) for j in range(len(vs[0]))), sympy.Integer(0))


def _map_nested(T, fn):
    if isinstance(T, tuple):
        return tuple(_map_nested(t, fn) for t in T)
    return fn(T)


def _flatten(T):
    if isinstance(T, tuple):
        out = []
        for t in T:
            out += _flatten(t)
        return out
    return [T]


def taylor_tensors(F, xs: Sequence[sympy.Symbol], at: dict | None = None, *,
                   simplify: Callable = sympy.cancel) -> tuple[sympy.Matrix, MultilinearForm, MultilinearForm]:
    """The Jacobian ``A`` and the forms ``B``, ``C`` of the 2nd and 3rd derivatives of ``F`` at a point, exactly.

    ``F(x0 + h) = F(x0) + A h + B(h, h)/2 + C(h, h, h)/6 + O(|h|^4)``; ``B(u, w)_i = sum_{j,k} d^2F_i/dx_j dx_k u_j w_k``,
    ``C(u, w, z)_i = sum_{j,k,l} d^3F_i/dx_j dx_k dx_l u_j w_k z_l`` (any dimension ``n``). ``at`` maps the
    variables to the point (default 0); ``simplify`` is applied to every derivative at the point.

    >>> x, y = sympy.symbols("x y")
    >>> A, B, C = taylor_tensors(sympy.Matrix([x + x**2 * y, y**2 / 2]), [x, y])
    >>> B([1, 0], [0, 1]).T, B([0, 1], [0, 1]).T, C([1, 0], [1, 0], [0, 1]).T
    (Matrix([[0, 0]]), Matrix([[0, 1]]), Matrix([[2, 0]]))
    """
    F = sympy.Matrix(F)
    xs = list(xs)
    n = len(xs)
    point = {x: 0 for x in xs} if at is None else dict(at)

    def val(e):
        return simplify(e.subs(point))

    A = sympy.Matrix(F.rows, n, lambda i, j: val(sympy.diff(F[i], xs[j])))
    second, third = {}, {}
    for i in range(F.rows):
        d1 = [sympy.diff(F[i], x) for x in xs]
        d2 = {}
        for j, k in combinations_with_replacement(range(n), 2):
            d2[(j, k)] = sympy.diff(d1[j], xs[k])
            second[(i, j, k)] = val(d2[(j, k)])
        for j, k, l in combinations_with_replacement(range(n), 3):
            third[(i, j, k, l)] = val(sympy.diff(d2[(j, k)], xs[l]))
    B = MultilinearForm(_nested(F.rows, n, 2, second), 2)
    C = MultilinearForm(_nested(F.rows, n, 3, third), 3)
    return A, B, C


def _nested(rows: int, n: int, order: int, values: dict) -> tuple:
    def rec(i, prefix):
        if len(prefix) == order:
            return values[(i, *sorted(prefix))]
        return tuple(rec(i, prefix + [j]) for j in range(n))

    return tuple(rec(i, []) for i in range(rows))


# =========================================================================== complex arithmetic, exactly
def _conj(e):
    """Complex conjugate of an expression whose symbols are real (``I -> -I``)."""
    if isinstance(e, sympy.MatrixBase):
        return e.applyfunc(_conj)
    return sympy.sympify(e).xreplace({I: -I})


def _reduce_circle(e: sympy.Expr, circle) -> sympy.Expr:
    """Remainder of a polynomial ``e`` modulo ``s^2 + c^2 - 1`` in ``s`` (``circle = (c, s)``), else ``e``."""
    if circle is None:
        return sympy.expand(e)
    c, s = circle
    e = sympy.expand(e)
    if not e.has(s):
        return e
    return sympy.expand(sympy.rem(e, s**2 + c**2 - 1, s))


def re_im(e: sympy.Expr, circle=None) -> tuple[sympy.Expr, sympy.Expr]:
    """``(Re e, Im e)`` of a rational expression in ``I`` and real symbols, exactly.

    The denominator is made real by multiplying with its conjugate. ``circle = (c, s)`` (two real symbols) reduces
    numerator and denominator modulo ``c^2 + s^2 = 1``.

    >>> re_im(1 / (1 + I))
    (1/2, -1/2)
    """
    e = sympy.cancel(sympy.together(sympy.sympify(e)))
    num, den = sympy.fraction(e)
    dc = _conj(den)
    N = _reduce_circle(num * dc, circle)
    D = _reduce_circle(den * dc, circle)
    parts = sympy.collect(N, I, evaluate=False)
    re_part = parts.get(sympy.S.One, sympy.Integer(0))
    im_part = parts.get(I, sympy.Integer(0))
    if set(parts) - {sympy.S.One, I}:
        raise ValueError(f"cannot split {e} into real and imaginary parts")
    return _tidy(re_part, D, circle), _tidy(im_part, D, circle)


def _tidy(num: sympy.Expr, den: sympy.Expr, circle) -> sympy.Expr:
    if num == 0:
        return sympy.Integer(0)
    return sympy.factor(sympy.cancel(num / den), extension=None)


# =========================================================================== the coefficient
@dataclass(frozen=True)
class NSCoefficient:
    """The Neimark–Sacker normal-form data at a fixed point.

    Attributes
    ----------
    eigenvalue : ``e^{i theta} = cos_t + i sin_t``
    q : ``A q = e^{i theta} q``, ``<q, q> = 1``
    p : ``A^T p = e^{-i theta} p``, ``<p, q> = 1``
    c1 : the coefficient of ``w -> e^{i theta} w + c1 w|w|^2`` (complex, exact)
    d : ``Re(e^{-i theta} c1)``, the first Lyapunov coefficient (real, exact)
    normalisation : the normalisation in words (:data:`NORMALISATION`)
    """

    eigenvalue: sympy.Expr
    q: sympy.Matrix
    p: sympy.Matrix
    c1: sympy.Expr
    d: sympy.Expr
    normalisation: str = NORMALISATION


def _eigenvector(A: sympy.Matrix, lam, circle) -> sympy.Matrix:
    """An eigenvector of ``A`` for ``lam`` (exact; for ``n = 2`` the explicit one, no nullspace search)."""
    n = A.rows
    if n == 2:
        for cand in (sympy.Matrix([A[0, 1], lam - A[0, 0]]), sympy.Matrix([lam - A[1, 1], A[1, 0]])):
            if any(sympy.expand(c) != 0 for c in cand):
                return cand
        return sympy.Matrix([1, 0])
    M = A - lam * sympy.eye(n)
    ns = M.nullspace(simplify=True)
    if not ns:
        raise ValueError(f"{lam} is not an eigenvalue of the given A (no null vector of A - lam I found)")
    return ns[0]


def _solve(M: sympy.Matrix, v: sympy.Matrix) -> sympy.Matrix:
    """``M^{-1} v`` by the adjugate (exact)."""
    det = sympy.expand(M.det(method="berkowitz"))
    if det == 0:
        raise ValueError("the resolvent is singular (a strong resonance: e^{i theta} = 1 or e^{3 i theta} = 1)")
    return (M.adjugate() * v) / det


def _dot(u: sympy.Matrix, v: sympy.Matrix) -> sympy.Expr:
    """``<u, v> = conj(u)^T v``."""
    return sympy.expand(sum((_conj(a) * b for a, b in zip(u, v)), sympy.Integer(0)))


def first_lyapunov(A: sympy.Matrix, B: Callable, C: Callable, cos_t, sin_t, *, q=None, p=None,
                   term_factors=(1, 2, 1), half=Rational(1, 2), conjugate: bool = True,
                   circle: bool | None = None) -> NSCoefficient:
    r"""``c_1`` and ``d = Re(e^{-i theta} c_1)`` at a fixed point with eigenvalues ``cos_t ± i sin_t`` (exact).

    ``A`` is the Jacobian, ``B``/``C`` the forms of :func:`taylor_tensors`, all real; ``cos_t``/``sin_t`` real
    expressions (numbers, or two real symbols ``c, s`` — then every polynomial is reduced modulo
    ``c^2 + s^2 = 1``; ``circle=False`` switches that off). ``q``/``p`` default to the normalisation of
    :data:`NORMALISATION`; a given ``q`` is used as it is (and ``p`` normalised against it).

    Planted wrong variants (negative controls only): ``term_factors`` are the factors of the three terms
    (true ``(1, 2, 1)``), ``half`` the prefactor (true ``1/2``), ``conjugate=False`` uses ``q`` where the
    formula has ``conj(q)``.

    Sqrt-free: with an unnormalised eigenvector ``q0`` the coefficient is ``c1(q0)/<q0, q0>`` (``c_1`` scales like
    ``|q|^{-2}`` and does not depend on the phase of ``q``); the normalised ``q, p`` are reported.
    """
    A = sympy.Matrix(A)
    n = A.rows
    cos_t, sin_t = sympy.sympify(cos_t), sympy.sympify(sin_t)
    circ = None
    if circle is None:
        circle = isinstance(cos_t, sympy.Symbol) and isinstance(sin_t, sympy.Symbol)
    if circle:
        circ = (cos_t, sin_t)
    lam = cos_t + I * sin_t
    lamc = cos_t - I * sin_t
    given_q = q is not None
    q0 = sympy.Matrix(q) if given_q else _eigenvector(A, lam, circ)
    qq = _reduce_circle(_dot(q0, q0), circ)
    p0 = sympy.Matrix(p) if p is not None else _eigenvector(A.T, lamc, circ)
    pq = _dot(p0, q0)
    p0 = p0 / _conj(pq)
    qb = _conj(q0) if conjugate else q0
    t1, t2, t3 = term_factors
    Iden = sympy.eye(n)
    h11 = _solve(Iden - A, B(q0, qb))
    h20 = _solve(lam**2 * Iden - A, B(q0, q0))
    v = t1 * C(q0, q0, qb) + t2 * B(q0, h11) + t3 * B(qb, h20)
    c1 = half * _dot(p0, v)
    if not given_q:
        c1 = c1 / qq
    c1_re, c1_im = re_im(c1, circ)
    d, _ = re_im(lamc * (c1_re + I * c1_im), circ)
    if given_q:
        q_out, p_out = q0, p0
    else:
        nrm = sympy.sqrt(qq)
        q_out, p_out = q0 / nrm, p0 * nrm
    return NSCoefficient(eigenvalue=lam, q=q_out, p=p_out, c1=c1_re + I * c1_im, d=d)


# =========================================================================== (a) maps built from a normal form
@dataclass(frozen=True)
class CoordinateChange:
    """A polynomial change of coordinates ``x = Phi(y) = T y + Q(y) + K(y)`` of the plane.

    ``T`` is a real invertible 2x2 matrix, ``Q``/``K`` columns of homogeneous quadratic/cubic polynomials in the
    symbols ``y`` (given as functions of ``(y0, y1)``).
    """

    T: sympy.Matrix
    Q: Callable
    K: Callable

    def __call__(self, y) -> sympy.Matrix:
        y = sympy.Matrix(y)
        return self.T * y + sympy.Matrix(self.Q(y[0], y[1])) + sympy.Matrix(self.K(y[0], y[1]))


#: A change with a non-orthogonal linear part and non-zero quadratic and cubic terms (rational coefficients).
DEFAULT_CHANGE = CoordinateChange(
    T=sympy.Matrix([[2, 1], [Rational(1, 2), 1]]),
    Q=lambda u, v: [u**2 - 3 * u * v + Rational(1, 2) * v**2, 2 * u * v - v**2],
    K=lambda u, v: [u**3 + u * v**2 - 2 * v**3, Rational(-1, 3) * u**2 * v + v**3],
)


@dataclass(frozen=True)
class NormalFormModel:
    """A planar map conjugate to ``w -> e^{i theta} w + c1 w|w|^2`` through :attr:`change` (to order 3).

    ``F`` is its Taylor polynomial of degree 3 at 0 in the symbols ``xs``; ``c1``/``d`` the coefficient of the
    normal form in ``w = y0 + i y1``; ``predicted_c1``/``predicted_d`` what :func:`first_lyapunov` must return
    (:func:`predicted_coefficient`).
    """

    cos_t: sympy.Expr
    sin_t: sympy.Expr
    c1: sympy.Expr
    change: CoordinateChange
    xs: tuple
    F: sympy.Matrix
    predicted_c1: sympy.Expr
    predicted_d: sympy.Expr

    def tensors(self):
        """``(A, B, C)`` of :attr:`F` at 0."""
        return taylor_tensors(self.F, self.xs, simplify=sympy.expand)


def _truncate(P: sympy.Poly, order: int = 3) -> sympy.Poly:
    """The terms of total degree ``<= order`` of a polynomial (a ``sympy.Poly``)."""
    return sympy.Poly.from_dict({m: c for m, c in P.as_dict().items() if sum(m) <= order} or {(0,) * len(P.gens): 0},
                                *P.gens, domain=P.domain)


def predicted_coefficient(c1, change: CoordinateChange = DEFAULT_CHANGE) -> sympy.Expr:
    """The coefficient :func:`first_lyapunov` must give for a map conjugate to ``w -> e^{i theta} w + c1 w|w|^2``.

    Write ``y = (Re w, Im w)``, so the linear part is the rotation ``R_theta`` and its eigenvector for
    ``e^{i theta}`` is ``(1, -i)``: ``y = zeta (1, -i) + conj(...)`` with ``w = 2 zeta``. The change ``x = T y + ...``
    maps it to ``x = zeta T(1, -i) + conj(...) + ...``; the normalised eigenvector is ``q = T(1, -i)/nu`` with
    ``nu^2 = |T(1, -i)|^2 = ||T||_F^2``, so the centre-manifold coordinate is ``z = nu zeta = nu w / 2`` and
    ``w -> e^{i theta} w + c1 w |w|^2`` becomes ``z -> e^{i theta} z + (4 c1 / nu^2) z |z|^2``: the
    coefficient is ``4 c1 / ||T||_F^2`` (``2 c1`` when ``T = I``). Quadratic and cubic terms of the change do not
    alter it (``c1`` is an invariant of the normal form).

    >>> predicted_coefficient(1, CoordinateChange(sympy.eye(2), lambda u, v: [0, 0], lambda u, v: [0, 0]))
    2
    """
    T = change.T
    frob = sum((t**2 for t in T), sympy.Integer(0))
    return sympy.expand(4 * sympy.sympify(c1) / frob)


def normal_form_model(cos_t, sin_t, c1, change: CoordinateChange = DEFAULT_CHANGE) -> NormalFormModel:
    """A real planar map whose normal form is ``w -> e^{i theta} w + c1 w|w|^2`` by construction.

    ``N(y)``: the truncated normal form in ``w = y0 + i y1`` (``c1 = u + i v`` may contain real symbols);
    ``Phi`` the change ``x = T y + Q(y) + K(y)``; ``Psi`` its inverse as a series, to order 3 (three rounds of
    ``Psi <- T^{-1}(x - Q(Psi) - K(Psi))``, truncated); the model is ``Phi o N o Psi`` truncated at degree 3, which
    is the Taylor polynomial of degree 3 of the exact conjugate ``Phi o N o Phi^{-1}``.

    >>> m = normal_form_model(sympy.Rational(3, 5), sympy.Rational(4, 5), -1 + 2 * sympy.I)
    >>> m.predicted_c1
    -32/23 + 64*I/23
    """
    cos_t, sin_t, c1 = map(sympy.sympify, (cos_t, sin_t, c1))
    xs = sympy.symbols("x_0 x_1", real=True)
    T = change.T
    Tinv = T.inv()

    def poly(e):
        return sympy.Poly(e, *xs)

    def apply(M, vec):
        return [_truncate(sum((poly(M[i, j]) * vec[j] for j in range(2)), poly(0))) for i in range(2)]

    X = [poly(xs[0]), poly(xs[1])]
    psi = apply(Tinv, X)
    for _ in range(3):
        rest = [_truncate(poly(0) + a + b) for a, b in zip(change.Q(*psi), change.K(*psi))]
        psi = apply(Tinv, [X[i] - rest[i] for i in range(2)])
    u, v = re_im_poly(c1)
    r2 = _truncate(psi[0] ** 2 + psi[1] ** 2)
    yn = [_truncate(cos_t * psi[0] - sin_t * psi[1] + r2 * (u * psi[0] - v * psi[1])),
          _truncate(sin_t * psi[0] + cos_t * psi[1] + r2 * (v * psi[0] + u * psi[1]))]
    lin = apply(T, yn)
    F = [_truncate(lin[i] + poly(0) + change.Q(*yn)[i] + change.K(*yn)[i]) for i in range(2)]
    F = sympy.Matrix([f.as_expr() for f in F])
    pred = predicted_coefficient(c1, change)
    d_pred = re_im(sympy.expand((cos_t - I * sin_t) * pred))[0]
    return NormalFormModel(cos_t, sin_t, c1, change, tuple(xs), F, pred, d_pred)


def re_im_poly(e: sympy.Expr) -> tuple[sympy.Expr, sympy.Expr]:
    """``(Re, Im)`` of a polynomial with real symbols (expanded; ``I`` collected)."""
    parts = sympy.collect(sympy.expand(e), I, evaluate=False)
    return parts.get(sympy.S.One, sympy.Integer(0)), parts.get(I, sympy.Integer(0))


# =========================================================================== (b) an independent route, a textbook map
def eliminated_normal_form(A: sympy.Matrix, B: Callable, C: Callable, cos_t, sin_t) -> sympy.Expr:
    r"""``c_1`` of a planar map by eliminating its non-resonant terms one by one (no resolvent formula).

    Independent of :func:`first_lyapunov`'s formula (same normalisation, :data:`NORMALISATION`):

    1. ``q`` spans the null space of ``A - e^{i theta} I``, scaled to ``<q, q> = 1``; ``p`` spans that of
       ``A^T - e^{-i theta} I``, scaled to ``<p, q> = 1``. In the plane ``x = z q + conj(z q)`` exactly, and
       ``z' = <p, F(x)> = lam z + G_2(z, zb) + G_3(z, zb) + O(4)`` with ``G_k`` homogeneous of degree ``k`` in
       ``(z, zb)`` (``zb = conj(z)``, treated as an independent variable).
    2. The change ``z = w + h_2(w, wb)`` with ``h_2 = sum_{j+k=2} h_jk w^j wb^k``,
       ``h_jk = g_jk / (lam^j conj(lam)^k - lam)`` removes ``G_2`` (no resonance at order 2 unless
       ``e^{i theta}`` is a root of unity of order 1 or 3).
    3. At order 3 the term ``w^2 wb`` cannot be removed (``lam^2 conj(lam) = lam`` on the unit circle); its
       coefficient after the change is
       ``c_1 = [w^2 wb] ( G_3(w, wb) + d_z G_2(w, wb) h_2(w, wb) + d_zb G_2(w, wb) conj(h_2)(w, wb) )``
       (the other cubic terms are removed by a cubic change that does not touch it).
    """
    A = sympy.Matrix(A)
    if A.shape != (2, 2):
        raise ValueError("eliminated_normal_form is written for planar maps")
    cos_t, sin_t = sympy.sympify(cos_t), sympy.sympify(sin_t)
    lam, lamc = cos_t + I * sin_t, cos_t - I * sin_t
    ns = (A - lam * sympy.eye(2)).nullspace(simplify=True)
    q = ns[0]
    q = q / sympy.sqrt(sympy.nsimplify(sympy.radsimp(_dot(q, q))))
    pn = (A.T - lamc * sympy.eye(2)).nullspace(simplify=True)[0]
    p = pn / _conj(sympy.radsimp(_dot(pn, q)))
    z, zb, w, wb = sympy.symbols("z zb w wb")
    x = z * q + zb * _conj(q)
    pc = _conj(p)
    G2 = sympy.expand((pc.T * B(x, x))[0] / 2)
    G3 = sympy.expand((pc.T * C(x, x, x))[0] / 6)
    g2 = sympy.Poly(G2, z, zb)
    h2 = sympy.Integer(0)
    h2c = sympy.Integer(0)
    for (j, k), g in g2.terms():
        hjk = sympy.radsimp(g / sympy.expand(lam**j * lamc**k - lam))
        h2 += hjk * w**j * wb**k
        h2c += _conj(hjk) * wb**j * w**k
    sub = {z: w, zb: wb}
    cubic = (G3.subs(sub) + sympy.diff(G2, z).subs(sub) * h2 + sympy.diff(G2, zb).subs(sub) * h2c)
    coeff = sympy.Poly(sympy.expand(cubic), w, wb).coeff_monomial(w**2 * wb)
    re_part, im_part = re_im(coeff)
    return sympy.radsimp(re_part) + I * sympy.radsimp(im_part)


def delayed_logistic(r=2) -> tuple[sympy.Matrix, MultilinearForm, MultilinearForm, sympy.Expr, sympy.Expr]:
    r"""The delayed logistic map ``(x, y) -> (r x (1 - y), x)`` at its fixed point ``(1 - 1/r, 1 - 1/r)``.

    Returns ``(A, B, C, cos_t, sin_t)`` (at ``r = 2``: ``cos_t = 1/2``, ``sin_t = sqrt(3)/2``). The map is the
    standard example of a Neimark–Sacker bifurcation of a planar map (Maynard Smith 1968; Kuznetsov,
    *Elementary Bifurcation Theory*, 3rd ed., §4.7, the delayed logistic equation; Aronson et al. 1982), which
    is supercritical at ``r = 2``: a stable closed invariant curve exists for ``r`` slightly above 2.

    **Its coefficient by hand** (:data:`DELAYED_LOGISTIC_D`). At ``r = 2`` the fixed point is ``(1/2, 1/2)``,
    ``A = [[1, -1], [1, 0]]`` (trace 1, determinant 1), so the eigenvalues are ``lam = e^{i pi/3}``, ``conj(lam)``;
    ``lam + conj(lam) = 1``, ``lam^2 = lam - 1``, ``lam^3 = -1``. The only non-zero second derivative is
    ``d^2 x'/dx dy = -2``: ``B(u, v) = (-2 (u_0 v_1 + u_1 v_0), 0)``, ``C = 0``.
    ``q = (lam, 1)/sqrt(2)`` (``A (lam, 1) = (lam - 1, lam) = lam (lam, 1)`` since ``1 - conj(lam) = lam``),
    ``p = i sqrt(2/3) (1, -lam)`` (``A^T (1, -lam) = conj(lam) (1, -lam)``, ``<p, q> = -i sqrt(2/3) (lam - conj(lam))/sqrt(2) = 1``).
    ``B(q, conj q) = (-1, 0)``, ``(I - A)^{-1} = [[1, -1], [1, 0]]``, so ``h11 = (-1, -1)`` and
    ``B(q, h11) = (sqrt(2)(lam + 1), 0)``. ``B(q, q) = (-2 lam, 0)``, ``det(lam^2 I - A) = 2 - 2 lam``,
    ``h20 = (lam^2 I - A)^{-1} B(q, q) = (lam, -lam^2)`` and ``B(conj q, h20) = (-sqrt(2)(-conj(lam) lam^2 + lam), 0) = 0``.
    Hence ``c1 = (1/2) conj(p_0) 2 sqrt(2)(lam + 1) = -(2i/sqrt 3)(lam + 1) = 1 - i sqrt(3)`` and
    ``d = Re(conj(lam) c1) = Re((1 - i sqrt 3)^2 / 2) = -1`` (supercritical, as published). With the
    unnormalised ``q = (lam, 1)`` (``<q, q> = 2``) the same computation gives ``-2``.

    >>> A, B, C, c, s = delayed_logistic()
    >>> (c, s), A.eigenvals()
    ((1/2, sqrt(3)/2), {1/2 - sqrt(3)*I/2: 1, 1/2 + sqrt(3)*I/2: 1})
    """
    r = sympy.sympify(r)
    x, y = sympy.symbols("x y", real=True)
    fix = 1 - 1 / r
    A, B, C = taylor_tensors(sympy.Matrix([r * x * (1 - y), x]), [x, y], at={x: fix, y: fix})
    tr, det = A.trace(), A.det()
    cos_t = tr / 2
    sin_t = sympy.sqrt(sympy.expand(det - cos_t**2))
    return A, B, C, cos_t, sin_t


#: ``d`` of the delayed logistic map at ``r = 2`` in the normalisation of this module (derived by hand in
#: :func:`delayed_logistic`).
DELAYED_LOGISTIC_D = sympy.Integer(-1)
#: ``c_1`` of the delayed logistic map at ``r = 2`` (by hand, :func:`delayed_logistic`).
DELAYED_LOGISTIC_C1 = 1 - I * sympy.sqrt(3)

#: The points of the circle where the built models are checked (rational cosines: no root of unity, by Niven).
MODEL_POINTS = ((Rational(3, 5), Rational(4, 5)), (Rational(5, 13), Rational(-12, 13)), (Rational(-7, 25), Rational(24, 25)))

#: A second change: orthogonal-free shear with other quadratic and cubic terms.
SECOND_CHANGE = CoordinateChange(
    T=sympy.Matrix([[1, 3], [-1, 1]]),
    Q=lambda u, v: [-u * v, 2 * u**2 + v**2],
    K=lambda u, v: [u**2 * v, -u**3 + 2 * u * v**2],
)


@lru_cache(maxsize=None)
def _model_tensors(cos_t, sin_t, which: int):
    u, v = sympy.symbols("u v", real=True)
    change = (DEFAULT_CHANGE, SECOND_CHANGE)[which]
    m = normal_form_model(cos_t, sin_t, u + I * v, change)
    return m, m.tensors()


def formula_obligations(term_factors=(1, 2, 1), half=Rational(1, 2), conjugate: bool = True) -> list[tuple[str, object]]:
    """Residuals that are exactly 0 for the true formula of :func:`first_lyapunov` (a list of ``(name, residual)``).

    * for each point of :data:`MODEL_POINTS` and two coordinate changes: the map built from the normal form
      ``w -> e^{i theta} w + (u + i v) w|w|^2`` (``u, v`` real symbols, so every ``c1`` at once) has coefficient
      :func:`predicted_coefficient` (residual: real and imaginary parts of the difference, in ``u, v``);
    * the delayed logistic map at ``r = 2``: ``c1`` equals the elimination of :func:`eliminated_normal_form`, and
      equals the hand value :data:`DELAYED_LOGISTIC_C1` (so ``d = -1``).

    The keyword arguments are passed to :func:`first_lyapunov` to plant a wrong variant.

    >>> [name for name, res in formula_obligations() if res != [0, 0]]
    []
    """
    kw = dict(term_factors=term_factors, half=half, conjugate=conjugate)
    out = []
    for which in (0, 1):
        for k, (c, s) in enumerate(MODEL_POINTS):
            if which == 1 and k > 0:
                continue
            m, (A, B, C) = _model_tensors(c, s, which)
            nf = first_lyapunov(A, B, C, c, s, **kw)
            diff = re_im(nf.c1 - m.predicted_c1)
            out.append((f"model (change {which}) at cos theta = {c}: c1 = 4 (u + i v)/||T||_F^2",
                        [sympy.expand(diff[0]), sympy.expand(diff[1])]))
    A, B, C, c, s = delayed_logistic()
    nf = first_lyapunov(A, B, C, c, s, **kw)
    elim = eliminated_normal_form(A, B, C, c, s)
    out.append(("delayed logistic r = 2: c1 = the eliminated normal form", [sympy.expand(x) for x in re_im(nf.c1 - elim)]))
    out.append(("delayed logistic r = 2: c1 = 1 - i sqrt(3) (by hand)", [sympy.expand(x) for x in re_im(nf.c1 - DELAYED_LOGISTIC_C1)]))
    return out
