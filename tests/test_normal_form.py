"""The first Lyapunov coefficient of a map (theory/normal_form.py): the formula on maps whose coefficient is known,
and every planted wrong variant refuted."""

from __future__ import annotations

import pytest
import sympy
from sympy import I, Rational, sqrt

from theory import normal_form as N

x, y = sympy.symbols("x y", real=True)


def _zero(res) -> bool:
    return all(sympy.expand(r) == 0 for r in res)


# --------------------------------------------------------------------------- Taylor tensors
def test_taylor_tensors_reconstruct_a_polynomial_to_order_three():
    F = sympy.Matrix([x + 3 * x**2 * y - y**3 / 2 + x**4, 2 * y - x * y + 5 * x**3])
    A, B, C = N.taylor_tensors(F, [x, y])
    h = sympy.Matrix([x, y])
    rest = (F - A * h - B(h, h) / 2 - C(h, h, h) / 6).applyfunc(sympy.expand)
    assert [sympy.Poly(r, x, y).total_degree() for r in rest if r != 0] == [4]   # only x**4 is left
    assert B([0, 1], [1, 0]) == sympy.Matrix([0, -1]) and C([1, 0], [1, 0], [0, 1]) == sympy.Matrix([6, 0])


def test_taylor_tensors_of_a_transcendental_map_match_the_polynomial_path():
    F = sympy.Matrix([sympy.sin(x) * sympy.exp(y), sympy.log(1 + x + y**2)])
    A, B, C = N.taylor_tensors(F, [x, y])
    series = sympy.Matrix([x + x * y + x * y**2 / 2 - x**3 / 6, x + y**2 - x**2 / 2 - x * y**2 + x**3 / 3])
    A2, B2, C2 = N.taylor_tensors(series, [x, y])
    assert A == A2 and _zero(B.minus(B2)) and _zero(C.minus(C2))
    # a wrong series term is seen
    A3, B3, C3 = N.taylor_tensors(series + sympy.Matrix([x**2 * y, 0]), [x, y])
    assert not _zero(C.minus(C3))


def test_taylor_tensors_at_a_point():
    A, B, C = N.taylor_tensors(sympy.Matrix([x**3]), [x], at={x: 2})
    assert (A[0], B([1], [1])[0], C([1], [1], [1])[0]) == (12, 12, 6)


# --------------------------------------------------------------------------- the formula on known maps
def test_every_formula_obligation_holds():
    obs = N.formula_obligations()
    assert len(obs) == 5
    assert [name for name, res in obs if not _zero(res)] == []


@pytest.mark.parametrize("kw", [
    dict(term_factors=(1, 1, 1)),        # the 2 in front of B(q, (I - A)^{-1} B(q, conj q)) replaced by 1
    dict(term_factors=(1, 2, 0)),        # the resolvent term at e^{2 i theta} dropped
    dict(term_factors=(0, 2, 1)),        # the cubic term dropped
    dict(term_factors=(1, 2, 2)),        # a wrong factor on the third term
    dict(half=1),                        # the 1/2 replaced by 1
    dict(conjugate=False),               # conj(q) replaced by q
])
def test_each_planted_variant_is_refuted(kw):
    obs = N.formula_obligations(every_theta=False, **kw)
    assert any(not _zero(res) for _, res in obs), kw


def test_the_model_is_conjugate_to_its_normal_form_with_the_stated_factor():
    c, s = Rational(3, 5), Rational(4, 5)
    ident = N.CoordinateChange(sympy.eye(2), lambda u, v: [0, 0], lambda u, v: [0, 0])
    m = N.normal_form_model(c, s, -1 + 2 * I, ident)
    assert m.F[0] == sympy.expand(c * m.xs[0] - s * m.xs[1] + (m.xs[0] ** 2 + m.xs[1] ** 2) * (-m.xs[0] - 2 * m.xs[1]))
    nf = first = N.first_lyapunov(*m.tensors(), c, s)
    assert first.c1 == 2 * (-1 + 2 * I) and nf.d == 2 * sympy.re((c - I * s) * (-1 + 2 * I))
    m2 = N.normal_form_model(c, s, -1 + 2 * I)          # non-orthogonal T, quadratic and cubic terms
    assert N.first_lyapunov(*m2.tensors(), c, s).c1 == m2.predicted_c1 == Rational(16, 25) * (-1 + 2 * I)
    assert m2.F != m.F


def test_delayed_logistic_hand_value_and_the_elimination():
    A, B, C, c, s = N.delayed_logistic()
    nf = N.first_lyapunov(A, B, C, c, s)
    assert (nf.c1, nf.d) == (1 - I * sqrt(3), N.DELAYED_LOGISTIC_D)
    assert sympy.expand(N.eliminated_normal_form(A, B, C, c, s) - nf.c1) == 0
    # with the unnormalised q = (lam, 1) the coefficient doubles (c1 scales like 1/|q|^2)
    lam = c + I * s
    assert sympy.expand(N.first_lyapunov(A, B, C, c, s, q=[lam, 1]).c1 - 2 * nf.c1) == 0


def test_normalisation_and_phase_invariance():
    A, B, C, c, s = N.delayed_logistic()
    nf = N.first_lyapunov(A, B, C, c, s)
    lam = c + I * s
    q, p = nf.q, nf.p
    dot = lambda u, v: sympy.radsimp(sympy.expand(sum(sympy.conjugate(a) * b for a, b in zip(u, v))))  # noqa: E731
    tidy = lambda e: sympy.radsimp(sympy.expand(e))  # noqa: E731
    assert (A * q - lam * q).applyfunc(tidy) == sympy.zeros(2, 1)
    assert (A.T * p - sympy.conjugate(lam) * p).applyfunc(tidy) == sympy.zeros(2, 1)
    assert dot(q, q) == 1 and dot(p, q) == 1
    for phase in (I, (3 + 4 * I) / 5):
        assert sympy.expand(N.first_lyapunov(A, B, C, c, s, q=list(q * phase)).c1 - nf.c1) == 0


def test_re_im_and_a_strong_resonance_is_refused():
    assert N.re_im((2 + I) / (1 - I)) == (Rational(1, 2), Rational(3, 2))
    c, s = N.COS, N.SIN
    assert N.re_im((c + I * s) * (c - I * s), (c, s)) == (1, 0)
    A = sympy.eye(2)
    B = N.MultilinearForm(((((0, 0), (0, 0))), (((0, 0), (0, 0)))), 2)
    C = N.MultilinearForm(tuple(tuple(tuple((0, 0) for _ in range(2)) for _ in range(2)) for _ in range(2)), 3)
    with pytest.raises(ValueError, match="resonance"):
        N.first_lyapunov(A, B, C, 1, 0)


def test_a_three_dimensional_map_with_a_stable_direction():
    """The n-dimensional formula (centre-manifold terms through the resolvents) on a 3-D map built from
    ``w -> e^{i theta} w + c1 w|w|^2`` plus a stable direction ``v -> v/2 + y0 y1`` coupled quadratically, conjugated
    by ``x = T y + Q(y)`` (non-orthogonal ``T``, quadratic ``Q`` mixing all three coordinates)."""
    from sympy import QQ
    from sympy.polys.rings import PolyRing

    xs = sympy.symbols("x0:3", real=True)
    R = PolyRing(xs, QQ)
    c, s, u, v = Rational(3, 5), Rational(4, 5), -1, 2
    T = sympy.Matrix([[2, 1, 0], [Rational(1, 2), 1, 1], [0, -1, 1]])
    Ti = T.inv()

    def trunc(p):
        return R.from_dict({m: k for m, k in p.items() if sum(m) <= 3}) if p else p

    def lin(M, vec):
        return [trunc(sum((R.domain.convert(M[i, j]) * vec[j] for j in range(3)), R.zero)) for i in range(3)]

    def Q(y):
        return [trunc(y[0] * y[2] + y[1] ** 2), trunc(y[0] ** 2 - y[2] ** 2), trunc(y[0] * y[1] + 2 * y[2] ** 2)]

    X = list(R.gens)
    psi = lin(Ti, X)
    for _ in range(2):
        psi = lin(Ti, [X[i] - Q(psi)[i] for i in range(3)])
    y0, y1, w = psi
    r2 = trunc(y0**2 + y1**2)
    normal = [trunc(c * y0 - s * y1 + r2 * (u * y0 - v * y1)), trunc(s * y0 + c * y1 + r2 * (v * y0 + u * y1)),
              trunc(w / 2 + y0 * y1)]
    F = sympy.Matrix([trunc(a + b).as_expr() for a, b in zip(lin(T, normal), Q(normal))])
    A, B, C = N.taylor_tensors(F, list(xs))
    nf = N.first_lyapunov(A, B, C, c, s)
    nu2 = sum(abs(e) ** 2 for e in T * sympy.Matrix([1, -I, 0]))
    assert sympy.expand(nf.c1 - 4 * (u + I * v) / nu2) == 0
    assert sympy.expand(N.first_lyapunov(A, B, C, c, s, term_factors=(1, 2, 0)).c1 - nf.c1) != 0
