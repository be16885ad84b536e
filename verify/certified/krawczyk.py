r"""The Krawczyk test: a computer-assisted proof that a system ``f(x) = 0`` has exactly one zero in a box.

For a box ``X = c ± r`` (a vector of ``arb`` balls), a point matrix ``Y`` (an approximate inverse of
``f'(c)``) and an enclosure ``f'(X)`` of the Jacobian over ``X``, the Krawczyk operator is

    K(X) = c - Y f(c) + (I - Y f'(X)) (X - c).

**Theorem** (Krawczyk 1969; Moore 1977; Neumaier, *Interval Methods for Systems of Equations*, 1990,
§5.1). If ``K(X)`` lies in the interior of ``X``, then ``f`` has exactly one zero in ``X``, and it lies in
``K(X)``. The argument, checked here as numbers rather than cited: ``g(x) = x - Y f(x)`` maps ``X`` into
``K(X)`` (mean-value form over the convex box), so into ``X``; the radii give
``|I - Y f'(X)| r < r`` componentwise, so ``kappa = max_i (|I - Y f'(X)| r)_i / r_i < 1`` and ``g`` is a
``kappa``-contraction of ``X`` in the ``r``-weighted max-norm (Banach: one fixed point), and
``rho(|I - Y f'(X)|) <= kappa < 1`` makes ``Y`` nonsingular, so the fixed points of ``g`` are the zeros of
``f``. :func:`krawczyk` requires both the inclusion and ``kappa < 1`` (an upper bound computed separately) before
it says ``proved``.

Before the test, the Jacobian enclosure is checked against the residual: by the mean-value theorem
``f(x) - f(c)`` lies in ``f'(X)(x - c)`` for ``x = c ± r_i e_i``; a certified violation means the Jacobian
formula is wrong (a wrong enclosure would void the theorem), and nothing is claimed.

The box is then narrowed by ``X <- K(X) ∩ X`` (the zero stays inside: it is in every ``K(X)``), so the
final box is as tight as the working precision allows; uniqueness is proved in the first box.

Everything runs in flint's ball arithmetic at the working precision; the centre and ``Y`` may come from
anywhere (a float solver, a Newton step on midpoints): they affect only whether the test succeeds.

>>> from fractions import Fraction as F
>>> from verify.certified.balls import ball, working_precision
>>> with working_precision(128) as flint:
...     f = lambda X: [X[0] * X[0] - ball(F(2))]             # sqrt(2)
...     df = lambda X: flint.arb_mat([[2 * X[0]]])
...     res = krawczyk(f, df, [ball(F(7, 5)).mid()], [F(1, 10)])
>>> res.proved, res.box[0].contains(F(141421356, 10**8)), res.box[0].width < F(1, 10**30)
(True, False, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable, Sequence

from verify.certified.balls import Interval, centre_ball, dyadic, flint_module, interval_of

__all__ = ["KrawczykResult", "krawczyk", "newton_midpoint"]


@dataclass(frozen=True)
class KrawczykResult:
    """The outcome of :func:`krawczyk`.

    ``proved``: ``K(X0)`` lies in the interior of the first box ``X0`` (``initial``), so the zero is unique in
    ``X0``; ``box`` is the final (narrowed) box that contains it; ``kappa`` an upper bound on the contraction
    factor of ``x - Y f(x)`` on ``X0`` (< 1 when proved); ``reason`` says why not otherwise.
    """

    proved: bool
    initial: tuple[Interval, ...]
    box: tuple[Interval, ...]
    kappa: Fraction | None
    iterations: int
    reason: str = ""
    balls: tuple = ()  #: the final box as arb balls (for evaluating the Jacobian over it)
    initial_balls: tuple = ()  #: the first box as arb balls


def _box(flint, centre: Sequence[Any], radius: Sequence[Fraction]):
    return [flint.arb(c, flint.arb(flint.fmpq(r.numerator, r.denominator)).upper()) for c, r in zip(centre, radius)]


def _operator(flint, f, df, X):
    """``(K(X), kappa)`` with the centre ``mid(X)``; ``None`` when the Jacobian at the centre is singular."""
    n = len(X)
    c = [x.mid() for x in X]
    fc = f(c)
    try:
        Y = df(c).mid().inv().mid()
    except ZeroDivisionError:
        return None
    JX = df(X)
    A = _eye(flint, n) - Y * JX
    D = flint.arb_mat([[X[i] - c[i]] for i in range(n)])
    Yf = Y * flint.arb_mat([[v] for v in fc])
    AD = A * D
    K = [c[i] - Yf[i, 0] + AD[i, 0] for i in range(n)]
    rads = [x.rad() for x in X]
    kappa = None
    if not all(k.is_finite() for k in K):
        return K, None
    if all(r > 0 for r in rads):
        kappa = max(interval_of(sum((abs(A[i, j]) * rads[j] for j in range(n)), flint.arb(0)) / rads[i]).hi for i in range(n))
    return K, kappa


def _eye(flint, n: int):
    M = flint.arb_mat(n, n)
    for i in range(n):
        M[i, i] = 1
    return M


def _inconsistent_jacobian(flint, f, df, X) -> str:
    """A certified inconsistency between ``f`` and ``df`` on ``X``, or ``""``.

    If ``df(X)`` encloses the Jacobian on the convex box, the mean-value theorem puts ``f(x) - f(c)`` in
    ``df(X) (x - c)`` for every ``x`` in ``X``; this is checked at the ``2 n`` points ``c ± r_i e_i``. A failure is a
    proof that ``df`` is not an enclosure of ``f'`` (a wrong formula), and the test refuses to run."""
    n = len(X)
    c = [x.mid() for x in X]
    fc = f(c)
    JX = df(X)
    for i in range(n):
        for sgn in (1, -1):
            x = list(c)
            x[i] = c[i] + sgn * X[i].rad()
            fx = f(x)
            for k in range(n):
                if not (JX[k, i] * (x[i] - c[i])).overlaps(fx[k] - fc[k]):
                    return (f"the Jacobian enclosure is inconsistent with the residual (mean-value test, component {k}, "
                            f"direction {i}): the Jacobian formula is wrong")
    return ""


def krawczyk(
    f: Callable[[list], list],
    df: Callable[[list], Any],
    centre: Sequence[Any],
    radius: Sequence[Fraction],
    *,
    narrow: int = 12,
) -> KrawczykResult:
    """Run the Krawczyk test on the box ``centre ± radius`` at the current flint precision.

    Parameters
    ----------
    f : callable
        ``f(X) -> list of arb``: an enclosure of ``f`` over the box ``X`` (a list of ``arb``).
    df : callable
        ``df(X) -> arb_mat``: an enclosure of the Jacobian ``f'`` over ``X``.
    centre : sequence
        Exact ``arb`` points (midpoints) of the box.
    radius : sequence of Fraction
        Positive radii of the box (rounded up to the ball radii flint stores).
    narrow : int
        At most this many narrowing steps ``X <- K(X) ∩ X`` after the proof.
    """
    flint = flint_module()
    X = X0 = _box(flint, centre, radius)
    initial = tuple(interval_of(x) for x in X)
    bad_jac = _inconsistent_jacobian(flint, f, df, X)
    if bad_jac:
        return KrawczykResult(False, initial, initial, None, 0, bad_jac)
    op = _operator(flint, f, df, X)
    if op is None:
        return KrawczykResult(False, initial, initial, None, 0, "the Jacobian at the centre is numerically singular")
    K, kappa = op
    if not all(k.is_finite() for k in K):
        return KrawczykResult(False, initial, initial, None, 0, "K(X) is not finite: the box is too large for the ball arithmetic")
    bad = [i for i in range(len(X)) if not X[i].contains_interior(K[i])]
    if bad:
        why = "; ".join(f"component {i}: K = {K[i].str(5, radius=True)} not inside X = {X[i].str(5, radius=True)}" for i in bad[:2])
        return KrawczykResult(False, initial, initial, kappa, 0, "K(X) is not inside the interior of X: " + why)
    if kappa is None or not kappa < 1:
        return KrawczykResult(False, initial, initial, kappa, 0, f"the contraction factor bound {kappa} is not < 1")
    # narrow: X <- K(X) ∩ X while it shrinks
    it = 0
    for it in range(1, narrow + 1):
        Xn = [X[i].intersection(K[i]) for i in range(len(X))]
        shrink = min(dyadic(Xn[i].rad()) / max(dyadic(X[i].rad()), Fraction(1, 2**4000)) for i in range(len(X)))
        X = Xn
        if shrink > Fraction(9, 10):  # no component shrank by 10 %: as tight as the precision allows
            break
        op = _operator(flint, f, df, X)
        if op is None:
            break
        K, _ = op
    return KrawczykResult(True, initial, tuple(interval_of(x) for x in X), kappa, it, balls=tuple(X), initial_balls=tuple(X0))


def newton_midpoint(f: Callable[[list], list], df: Callable[[list], Any], start: Sequence[Any], *, steps: int = 40) -> list:
    """Newton's method on midpoints (no error bounds: a box centre for :func:`krawczyk`, nothing more)."""
    flint = flint_module()
    x = [centre_ball(v) for v in start]
    n = len(x)
    tiny = flint.arb(2) ** (-(flint.ctx.prec - 8))
    for _ in range(steps):
        fx = flint.arb_mat([[v.mid()] for v in f(x)])
        try:
            step = df(x).mid().solve(fx.mid(), algorithm="approx")
        except ZeroDivisionError:
            break
        x = [(x[i] - step[i, 0]).mid() for i in range(n)]
        if all(abs(step[i, 0].mid()) <= tiny * (1 + abs(x[i])) for i in range(n)):
            break
    return x
