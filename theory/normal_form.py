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
from sympy import QQ, I, Rational
from sympy.polys.rings import PolyRing

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
    "MODEL_POINTS",
    "SECOND_CHANGE",
    "DELAYED_LOGISTIC_C1",
    "re_im_poly",
    "COS",
    "SIN",
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
    if all(F[i].is_polynomial(*xs) for i in range(F.rows)):
        return _polynomial_tensors(F, xs, point, simplify)

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


def _polynomial_tensors(F: sympy.Matrix, xs: list, point: dict, simplify: Callable):
    """:func:`taylor_tensors` of a polynomial map: ``d^m F / dx^m (x0) = m! * coefficient of h^m`` in ``F(x0 + h)``."""
    n = len(xs)
    shift = {x: x + point.get(x, 0) for x in xs}
    polys = [sympy.Poly(sympy.expand(F[i].xreplace(shift)) if any(point.get(x, 0) != 0 for x in xs) else F[i], *xs)
             for i in range(F.rows)]

    def deriv(i, idx):
        mon = [0] * n
        for j in idx:
            mon[j] += 1
        coef = polys[i].coeff_monomial(tuple(mon))
        return simplify(coef * sympy.prod([sympy.factorial(k) for k in mon]))

    A = sympy.Matrix(F.rows, n, lambda i, j: deriv(i, (j,)))
    second = {(i, *idx): deriv(i, idx) for i in range(F.rows) for idx in combinations_with_replacement(range(n), 2)}
    third = {(i, *idx): deriv(i, idx) for i in range(F.rows) for idx in combinations_with_replacement(range(n), 3)}
    return A, MultilinearForm(_nested(F.rows, n, 2, second), 2), MultilinearForm(_nested(F.rows, n, 3, third), 3)


def _nested(rows: int, n: int, order: int, values: dict) -> tuple:
    def rec(i, prefix):
        if len(prefix) == order:
            return values[(i, *sorted(prefix))]
        return tuple(rec(i, prefix + [j]) for j in range(n))

    return tuple(rec(i, []) for i in range(rows))


# =========================================================================== complex arithmetic, exactly
def _conj(e):
    """Complex conjugate of an expression whose symbols are all real (``I -> -I``)."""
    if isinstance(e, sympy.MatrixBase):
        return e.applyfunc(_conj)
    return sympy.sympify(e).xreplace({I: -I})


class _Exact:
    """Exact arithmetic in ``Q[symbols, i, sqrt(k), ...]`` modulo ``i^2 = -1``, ``sqrt(k)^2 = k`` (and ``c^2 + s^2 = 1``).

    Expressions are sent to a sparse polynomial ring over ``QQ`` (``I`` and every ``sqrt`` of a rational become
    generators); products are reduced by the relations (their leading monomials are pairwise coprime, so the
    remainder is the unique normal form: linear in ``i``, in each root and in ``s``). A quotient is a pair of ring
    elements; :meth:`real_quotient` returns it as a reduced sympy expression whose denominator is free of ``i``,
    the roots and ``s``.
    """

    def __init__(self, exprs, circle=None):
        syms, primes = set(), set()
        for e in exprs:
            e = sympy.sympify(e)
            syms |= e.free_symbols
            for pw in e.atoms(sympy.Pow):
                if pw.base.is_Rational and pw.exp.is_Rational and pw.exp.q == 2:
                    primes |= set(sympy.factorint(pw.base.p * pw.base.q))
        if circle is not None:
            syms |= set(circle)
        self.j = sympy.Dummy("i")
        self.roots = {k: sympy.Dummy(f"sqrt{k}") for k in sorted(primes)}
        # lex order with s, i and the roots first: the leading monomials of the relations are s^2, i^2, r^2
        front = ([circle[1]] if circle is not None else []) + [self.j] + list(self.roots.values())
        gens = front + sorted(syms - set(front), key=sympy.default_sort_key)
        self.R = PolyRing(gens, QQ)
        self.gens = gens
        self.back = {self.j: I, **{r: sympy.sqrt(k) for k, r in self.roots.items()}}
        g = {x: self.R.gens[i] for i, x in enumerate(gens)}
        self.rel = [g[self.j] ** 2 + 1] + [g[r] ** 2 - k for k, r in self.roots.items()]
        self.circle = circle
        if circle is not None:
            c, s = circle
            self.rel.append(g[s] ** 2 + g[c] ** 2 - 1)
        self.g = g
        self.split_gens = [self.gens.index(self.j)] + [self.gens.index(r) for r in self.roots.values()]
        if circle is not None:
            self.split_gens.append(self.gens.index(circle[1]))

    def _root(self, pw) -> sympy.Expr:
        """``k^(n/2)`` for a rational ``k`` as a product of prime-root generators and a rational."""
        k, n = pw.base, pw.exp.p
        out = sympy.Integer(1)
        # sqrt(p/q) = sqrt(p q)/q
        whole = sympy.Rational(k.p * k.q)
        for prime, mult in sympy.factorint(whole).items():
            if prime not in self.roots:
                raise ValueError(f"sqrt({prime}) appeared after the ring was built")
            out *= sympy.Integer(prime) ** (mult // 2) * (self.roots[prime] if mult % 2 else 1)
        return (out / k.q) ** n               # sqrt(k) = out / q

    def poly(self, e: sympy.Expr):
        """A polynomial expression (in the symbols, ``I`` and square roots of rationals) as a reduced ring element."""
        e = sympy.expand(sympy.sympify(e))
        rep = {I: self.j}
        for pw in e.atoms(sympy.Pow):
            if pw.base.is_Rational and pw.exp.is_Rational and pw.exp.q == 2:
                if pw.exp.p < 0:
                    raise ValueError(f"a root in a denominator: {pw} (pass numerator and denominator separately)")
                rep[pw] = self._root(pw)
        return self.reduce(self.R.from_expr(sympy.expand(e.xreplace(rep))))

    def frac(self, e: sympy.Expr):
        """``(numerator, denominator)`` of a rational expression as ring elements."""
        num, den = sympy.fraction(sympy.together(sympy.sympify(e)))
        return self.poly(num), self.poly(den)

    def reduce(self, p):
        return p.rem(self.rel) if p else p

    def mul(self, *ps):
        out = self.R.one
        for p in ps:
            out = self.reduce(out * p)
        return out

    def conj(self, p):
        return p.compose(self.g[self.j], -self.g[self.j])

    def part(self, p, gen, k: int):
        """The coefficient of ``gen^k`` (``k = 0, 1``) in a reduced element."""
        idx = self.gens.index(gen)
        out = {}
        for m, c in p.items():
            if m[idx] == k:
                out[m[:idx] + (0,) + m[idx + 1:]] = c
        return self.R.from_dict(out) if out else self.R.zero

    def expr(self, p) -> sympy.Expr:
        return p.as_expr().xreplace(self.back) if p else sympy.Integer(0)

    def real_quotient(self, num, den) -> sympy.Expr:
        """``num/den`` (both real) as a reduced sympy expression with a denominator free of roots and ``s``."""
        num, den = self.reduce(num), self.reduce(den)
        if not num:
            return sympy.Integer(0)
        for idx in self.split_gens:
            gen = self.gens[idx]
            if den.degree(idx) > 0:
                d0, d1 = self.part(den, gen, 0), self.part(den, gen, 1)
                other = d0 - d1 * self.g[gen]
                num, den = self.mul(num, other), self.mul(den, other)
        g = num.gcd(den)
        num, den = num.exquo(g), den.exquo(g)
        lc = den.LC
        num, den = num.quo_ground(lc), den.quo_ground(lc)
        n_e, d_e = self.expr(num), self.expr(den)
        return _pretty(n_e) / _pretty(d_e) if d_e != 1 else _pretty(n_e)


def _pretty(e: sympy.Expr) -> sympy.Expr:
    """``factor`` for small polynomials, ``factor_terms`` otherwise (bounded cost)."""
    if len(sympy.Add.make_args(e)) <= 60:
        return sympy.factor(e)
    return sympy.factor_terms(e)


def re_im(e: sympy.Expr, circle=None) -> tuple[sympy.Expr, sympy.Expr]:
    """``(Re e, Im e)`` of a rational expression in ``I``, square roots of rationals and real symbols, exactly.

    The denominator is made real by multiplying with its conjugate. ``circle = (c, s)`` (two real symbols) reduces
    everything modulo ``c^2 + s^2 = 1``.

    >>> re_im(1 / (1 + I))
    (1/2, -1/2)
    >>> re_im(1 / (sympy.sqrt(3) + I))
    (sqrt(3)/4, -1/4)
    """
    ex = _Exact([e], circle)
    num, den = ex.frac(e)
    N = ex.mul(num, ex.conj(den))
    D = ex.mul(den, ex.conj(den))
    return ex.real_quotient(ex.part(N, ex.j, 0), D), ex.real_quotient(ex.part(N, ex.j, 1), D)


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


def _eigenvector(A: sympy.Matrix, lam) -> sympy.Matrix:
    """An eigenvector of ``A`` for ``lam``, polynomial in the entries (for ``n = 2`` the explicit one)."""
    n = A.rows
    if n == 2:
        for cand in (sympy.Matrix([A[0, 1], lam - A[0, 0]]), sympy.Matrix([lam - A[1, 1], A[1, 0]])):
            if any(sympy.expand(c) != 0 for c in cand):
                return cand.applyfunc(sympy.expand)
        return sympy.Matrix([1, 0])
    M = A - lam * sympy.eye(n)
    ns = M.nullspace(simplify=True)
    if not ns:
        raise ValueError(f"{lam} is not an eigenvalue of the given A (no null vector of A - lam I found)")
    v = ns[0]
    den = sympy.lcm([sympy.fraction(sympy.together(x))[1] for x in v])
    return (v * den).applyfunc(lambda x: sympy.expand(sympy.cancel(x)))


def _dot(u: sympy.Matrix, v: sympy.Matrix) -> sympy.Expr:
    """``<u, v> = conj(u)^T v`` (sympy expressions with real symbols)."""
    return sympy.expand(sum((_conj(a) * b for a, b in zip(u, v)), sympy.Integer(0)))


def _common(ex: _Exact, entries):
    """Ring numerators over one common denominator: ``(list of numerators, denominator)``."""
    fr = [ex.frac(e) for e in entries]
    den = ex.R.one
    for _, d in fr:
        den = den.lcm(d) if d != 1 else den
    nums = [ex.mul(n, den.exquo(d)) for n, d in fr]
    return nums, den


def first_lyapunov(A: sympy.Matrix, B: Callable, C: Callable, cos_t, sin_t, *, q=None, p=None,
                   term_factors=(1, 2, 1), half=Rational(1, 2), conjugate: bool = True,
                   circle: bool | None = None) -> NSCoefficient:
    r"""``c_1`` and ``d = Re(e^{-i theta} c_1)`` at a fixed point with eigenvalues ``cos_t ± i sin_t`` (exact).

    ``A`` is the Jacobian and ``B``/``C`` the forms of :func:`taylor_tensors` (:class:`MultilinearForm`), all real
    with real symbols; ``cos_t``/``sin_t`` real expressions: numbers, or two real symbols ``c, s`` — then everything
    is reduced modulo ``c^2 + s^2 = 1`` (``circle=False`` switches that off) and ``d`` comes out as a polynomial in
    ``c``, linear in ``s``, over a denominator free of ``s``. ``q``/``p`` default to the normalisation of
    :data:`NORMALISATION`; a given ``q`` is used as it is (and ``p``, given or not, is scaled to ``<p, q> = 1``).

    Planted wrong variants (negative controls only): ``term_factors`` are the factors of the three terms
    (true ``(1, 2, 1)``), ``half`` the prefactor (true ``1/2``), ``conjugate=False`` uses ``q`` where the
    formula has ``conj(q)``.

    Exact and free of square roots of non-constants: with the unnormalised eigenvector ``q0`` (polynomial in the
    entries of ``A``) the coefficient is ``c1(q0)/<q0, q0>`` (``c_1`` scales like ``|q|^{-2}`` and does not depend
    on the phase of ``q``); the resolvents are adjugates over determinants, so ``c_1`` is one polynomial over one
    denominator until its real and imaginary parts are taken (:class:`_Exact`, sparse polynomials over ``QQ``).
    The normalised ``q, p`` are reported.
    """
    A = sympy.Matrix(A)
    n = A.rows
    cos_t, sin_t = sympy.sympify(cos_t), sympy.sympify(sin_t)
    if circle is None:
        circle = isinstance(cos_t, sympy.Symbol) and isinstance(sin_t, sympy.Symbol)
    circ = (cos_t, sin_t) if circle else None
    lam_e = cos_t + I * sin_t
    lamc_e = cos_t - I * sin_t
    Bt = B.tensor if isinstance(B, MultilinearForm) else None
    Ct = C.tensor if isinstance(C, MultilinearForm) else None
    if Bt is None or Ct is None:
        raise TypeError("B and C must be MultilinearForm objects (taylor_tensors returns them)")
    bent, cent = _flatten(Bt), _flatten(Ct)
    extra = [cos_t, sin_t, half, *term_factors, *(q if q is not None else []), *(p if p is not None else [])]
    ex = _Exact(list(A) + bent + cent + extra, circ)
    P = ex.poly
    # A = At / QA, B = Bt / QB, C = Ct / QC with polynomial numerators
    a_nums, QA = _common(ex, list(A))
    At = [[a_nums[i * n + j] for j in range(n)] for i in range(n)]
    b_nums, QB = _common(ex, bent)
    c_nums, QC = _common(ex, cent)
    Bn = _nested_from(b_nums, n, 2)
    Cn = _nested_from(c_nums, n, 3)
    lam, lamc = P(lam_e), P(lamc_e)

    def matvec(M, v):
        return [sum((ex.mul(M[i][j], v[j]) for j in range(n)), ex.R.zero) for i in range(n)]

    def form(T, *vs):
        out = []
        for i in range(n):
            acc = ex.R.zero
            for idx in _indices(n, len(vs)):
                coef = T[i]
                for k in idx:
                    coef = coef[k]
                if coef:
                    acc += ex.mul(coef, *[vs[m][idx[m]] for m in range(len(vs))])
            out.append(ex.reduce(acc))
        return out

    def dot(u, v):
        return ex.reduce(sum((ex.mul(ex.conj(a), b) for a, b in zip(u, v)), ex.R.zero))

    def eig(M_rows, lam_r):
        """An eigenvector of (M_rows / QA) for lam_r: polynomial, of M_rows - lam_r QA I."""
        if n == 2:
            for cand in ([M_rows[0][1], ex.mul(lam_r, QA) - M_rows[0][0]], [ex.mul(lam_r, QA) - M_rows[1][1], M_rows[1][0]]):
                if any(cand):
                    return cand
            return [ex.R.one, ex.R.zero]
        Ms = sympy.Matrix(n, n, lambda i, j: ex.expr(M_rows[i][j]))
        vec = _eigenvector(Ms, ex.expr(ex.mul(lam_r, QA)))
        return [P(x) for x in vec]

    given_q = q is not None
    q0 = [P(x) for x in q] if given_q else eig(At, lam)
    AtT = [[At[j][i] for j in range(n)] for i in range(n)]
    p_raw = [P(x) for x in p] if p is not None else eig(AtT, lamc)
    qq = ex.R.one if given_q else dot(q0, q0)
    pq = dot(p_raw, q0)
    if not pq:
        raise ValueError("<p, q> = 0: p is not a left eigenvector for the conjugate eigenvalue")
    qb = [ex.conj(x) for x in q0] if conjugate else q0
    t1, t2, t3 = (P(t) for t in term_factors)
    lam2 = ex.mul(lam, lam)
    M1 = [[(QA if i == j else ex.R.zero) - At[i][j] for j in range(n)] for i in range(n)]
    M2 = [[(ex.mul(lam2, QA) if i == j else ex.R.zero) - At[i][j] for j in range(n)] for i in range(n)]
    det1, adj1 = _det_adj(ex, M1)
    det2, adj2 = _det_adj(ex, M2)
    if not det1 or not det2:
        raise ValueError("a resolvent is singular: a strong resonance (e^{i theta} = 1 or e^{3 i theta} = 1)")
    # (I - A)^{-1} = QA adj(M1)/det1 ; (e^{2 i theta} I - A)^{-1} = QA adj(M2)/det2
    H11 = matvec(adj1, form(Bn, q0, qb))
    H20 = matvec(adj2, form(Bn, q0, q0))
    QB2 = ex.mul(QB, QB)
    term_c = [ex.mul(t1, x, QB2, det1, det2) for x in form(Cn, q0, q0, qb)]
    term_1 = [ex.mul(t2, x, QA, QC, det2) for x in form(Bn, q0, H11)]
    term_2 = [ex.mul(t3, x, QA, QC, det1) for x in form(Bn, qb, H20)]
    v = [term_c[i] + term_1[i] + term_2[i] for i in range(n)]        # v_true * (QC QB^2 det1 det2)
    num = ex.mul(P(half), dot(p_raw, v))
    den = ex.mul(pq, qq, QC, QB2, det1, det2)
    dcj = ex.conj(den)
    Nc = ex.mul(num, dcj)
    D = ex.mul(den, dcj)
    c1_re = ex.real_quotient(ex.part(Nc, ex.j, 0), D)
    c1_im = ex.real_quotient(ex.part(Nc, ex.j, 1), D)
    Nd = ex.mul(lamc, Nc)
    d = ex.real_quotient(ex.part(Nd, ex.j, 0), D)
    q_e = sympy.Matrix([ex.expr(x) for x in q0])
    p_e = sympy.Matrix([ex.expr(x) for x in p_raw])
    pq_e = ex.expr(pq)
    if given_q:
        q_out, p_out = q_e, p_e / _conj(pq_e)
    else:
        nrm = sympy.sqrt(ex.expr(qq))
        q_out, p_out = q_e / nrm, p_e / _conj(pq_e) * nrm
    return NSCoefficient(eigenvalue=lam_e, q=q_out, p=p_out, c1=c1_re + I * c1_im, d=d)


def _indices(n: int, k: int):
    if k == 0:
        yield ()
        return
    for j in range(n):
        for rest in _indices(n, k - 1):
            yield (j, *rest)


def _nested_from(flat: list, n: int, order: int) -> tuple:
    """Inverse of :func:`_flatten` for an ``n``-output form of the given order."""
    it = iter(flat)

    def rec(depth):
        if depth == order:
            return next(it)
        return tuple(rec(depth + 1) for _ in range(n))

    return tuple(rec(0) for _ in range(n))


def _det_adj(ex: _Exact, M: list):
    """Determinant and adjugate of a square matrix of ring elements (Laplace; small ``n``)."""
    n = len(M)
    if n == 1:
        return M[0][0], [[ex.R.one]]
    if n == 2:
        det = ex.reduce(ex.mul(M[0][0], M[1][1]) - ex.mul(M[0][1], M[1][0]))
        return det, [[M[1][1], -M[0][1]], [-M[1][0], M[0][0]]]

    def minor(rows, cols):
        if len(rows) == 1:
            return M[rows[0]][cols[0]]
        acc = ex.R.zero
        for k, cidx in enumerate(cols):
            sub = minor(rows[1:], cols[:k] + cols[k + 1:])
            term = ex.mul(M[rows[0]][cidx], sub)
            acc = acc + term if k % 2 == 0 else acc - term
        return ex.reduce(acc)

    full = list(range(n))
    det = minor(full, full)
    adj = [[None] * n for _ in range(n)]
    for i in range(n):
        for j in range(n):
            m = minor([r for r in full if r != j], [c for c in full if c != i])
            adj[i][j] = m if (i + j) % 2 == 0 else -m
    return det, adj


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
    >>> m.predicted_c1, m.predicted_d
    (-16/25 + 32*I/25, 16/25)
    """
    cos_t, sin_t, c1 = map(sympy.sympify, (cos_t, sin_t, c1))
    xs = sympy.symbols("x_0 x_1", real=True)
    T = change.T
    Tinv = T.inv()
    u, v = re_im_poly(c1)
    ex = _Exact([*xs, cos_t, sin_t, u, v, *T, *Tinv])
    i0, i1 = ex.gens.index(xs[0]), ex.gens.index(xs[1])

    def trunc(p):
        p = ex.reduce(p)
        return ex.R.from_dict({m: c for m, c in p.items() if m[i0] + m[i1] <= 3}) if p else p

    def apply(M, vec):
        return [trunc(sum((ex.poly(M[i, j]) * vec[j] for j in range(2)), ex.R.zero)) for i in range(2)]

    X = [ex.poly(xs[0]), ex.poly(xs[1])]
    psi = apply(Tinv, X)
    for _ in range(3):
        rest = [trunc(qq + kk) for qq, kk in zip(change.Q(*psi), change.K(*psi))]
        psi = apply(Tinv, [X[i] - rest[i] for i in range(2)])
    c, s, U, V = (ex.poly(e) for e in (cos_t, sin_t, u, v))
    r2 = trunc(psi[0] ** 2 + psi[1] ** 2)
    yn = [trunc(c * psi[0] - s * psi[1] + trunc(r2 * trunc(U * psi[0] - V * psi[1]))),
          trunc(s * psi[0] + c * psi[1] + trunc(r2 * trunc(V * psi[0] + U * psi[1])))]
    lin = apply(T, yn)
    quad, cub = change.Q(*yn), change.K(*yn)
    F = sympy.Matrix([ex.expr(trunc(lin[i] + quad[i] + cub[i])) for i in range(2)])
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

#: A rational point of the circle (``cos theta = 3/5``: not a root of unity, by Niven's theorem) and the symbolic
#: point ``(c, s)`` with ``c^2 + s^2 = 1`` (every ``theta`` at once) where the built models are checked.
COS, SIN = sympy.symbols("c s", real=True)
MODEL_POINTS = ((Rational(3, 5), Rational(4, 5)), (COS, SIN))

#: A second change: another non-orthogonal linear part, other quadratic and cubic terms.
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


def formula_obligations(term_factors=(1, 2, 1), half=Rational(1, 2), conjugate: bool = True, *,
                        every_theta: bool = True) -> list[tuple[str, object]]:
    """Residuals that are exactly 0 for the true formula of :func:`first_lyapunov` (a list of ``(name, residual)``).

    * the map built from the normal form ``w -> e^{i theta} w + (u + i v) w|w|^2`` (``u, v`` real symbols, so every
      ``c1`` at once) has coefficient :func:`predicted_coefficient` (residual: real and imaginary parts of the
      difference, in ``u, v``): at ``cos theta = 3/5`` and for every ``theta`` (``cos theta = c``, ``sin theta = s``,
      ``c^2 + s^2 = 1``) with :data:`DEFAULT_CHANGE`, and for every ``theta`` with :data:`SECOND_CHANGE`;
    * the delayed logistic map at ``r = 2``: ``c1`` equals the elimination of :func:`eliminated_normal_form`, and
      equals the hand value :data:`DELAYED_LOGISTIC_C1` (so ``d = -1``).

    ``term_factors``, ``half`` and ``conjugate`` are passed to :func:`first_lyapunov` to plant a wrong variant
    (``tests/test_normal_form.py`` shows that each one is refuted); ``every_theta=False`` keeps the rational point
    and the delayed logistic map only (cheaper).
    """
    kw = dict(term_factors=term_factors, half=half, conjugate=conjugate)
    out = []
    cases = ((0, MODEL_POINTS[0]), (0, MODEL_POINTS[1]), (1, MODEL_POINTS[1])) if every_theta else ((0, MODEL_POINTS[0]),)
    for which, (c, s) in cases:
        m, (A, B, C) = _model_tensors(c, s, which)
        nf = first_lyapunov(A, B, C, c, s, **kw)
        circle = (c, s) if isinstance(c, sympy.Symbol) else None
        diff = re_im(nf.c1 - m.predicted_c1, circle)
        where = "every theta" if circle else f"cos theta = {c}"
        out.append((f"model (change {which}) at {where}: c1 = 4 (u + i v)/||T||_F^2", [sympy.expand(diff[0]), sympy.expand(diff[1])]))
    A, B, C, c, s = delayed_logistic()
    nf = first_lyapunov(A, B, C, c, s, **kw)
    elim = eliminated_normal_form(A, B, C, c, s)
    out.append(("delayed logistic r = 2: c1 = the eliminated normal form", [sympy.expand(x) for x in re_im(nf.c1 - elim)]))
    out.append(("delayed logistic r = 2: c1 = 1 - i sqrt(3) (by hand)", [sympy.expand(x) for x in re_im(nf.c1 - DELAYED_LOGISTIC_C1)]))
    return out
