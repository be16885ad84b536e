"""Exact max-min-margin LP and Farkas certificates (verify.exact.lp)."""

from fractions import Fraction

import pytest
import sympy.solvers.simplex as sx

from verify.exact import lp as L

W = [["1/2", "3/5", "4/5", "3/5"], ["2/5", "1/2", "1", "4/5"], ["1/5", "0", "1/2", "3/5"], ["2/5", "1/5", "2/5", "1/2"]]
OP = [(0, 1), (1, 2), (2, 3)]


def test_witness_lp_is_certified_both_ways():
    r = L.max_min_margin(W, OP)
    assert r.t == Fraction(-1, 20) and not r.feasible
    assert min(L.margins(W, OP, r.mu)) == r.t == L.dual_value(W, OP, r.y)
    assert L.check_farkas(W, OP, r.y)


@pytest.mark.parametrize("y", [["1/2", "-1/2", "1"], ["0", "0", "0"], ["1/2", "1/2"], ["1/3", "1/3", "1/3"]])
def test_farkas_rejects_bad_certificates(y):
    assert not L.check_farkas(W, OP, y)


def test_margin_certificate_checks_the_simplex():
    assert L.check_margin_certificate([["1/2", "3/5"], ["2/5", "1/2"]], [(0, 1)], ["1/2", "1/2"]) == Fraction(1, 10)
    with pytest.raises(ValueError, match="simplex"):
        L.check_margin_certificate([["1/2", "3/5"], ["2/5", "1/2"]], [(0, 1)], ["1/2", "1/3"])
    with pytest.raises(ValueError, match="no pairs"):
        L.max_min_margin(W, [])
    with pytest.raises(ValueError, match="method"):
        L.max_min_margin(W, OP, method="magic")


def _planted(real, which, broken):
    """``linprog`` with a planted wrong optimal point for the primal (``which = "primal"``, the first LP
    that ``max_min_margin`` solves) or the dual LP (the second)."""
    calls = []

    def bad(*a, **k):
        opt, x = real(*a, **k)
        calls.append(1)
        if (len(calls) % 2 == 0) == (which == "dual"):
            x = broken(list(x))
        return opt, x

    return bad


def _swap(x):
    x[0], x[1] = x[1], x[0]
    return x


def test_the_solver_is_sympys_public_linprog(monkeypatch):
    calls = []
    real = sx.linprog

    def spy(*a, **k):
        calls.append(a)
        return real(*a, **k)

    monkeypatch.setattr(sx, "linprog", spy)
    L.max_min_margin(W, OP)
    assert len(calls) == 2  # the primal and the dual LP


def test_wrong_solver_dual_is_caught_and_repaired(monkeypatch):
    monkeypatch.setattr(sx, "linprog", _planted(sx.linprog, "dual", _swap))
    r = L.max_min_margin(W, OP)
    assert r.t == Fraction(-1, 20) and L.check_farkas(W, OP, r.y)
    assert min(L.margins(W, OP, r.mu)) == r.t == L.dual_value(W, OP, r.y)


def test_wrong_solver_primal_is_rejected(monkeypatch):
    """A primal point that does not attain the reported optimum cannot be repaired by the dual: the LP fails loudly."""
    P = [["1/2", "3/5", "4/5"], ["2/5", "1/2", "3/5"], ["1/5", "2/5", "1/2"]]
    good = L.max_min_margin(P, [(0, 1), (1, 2)])
    assert good.t > 0
    monkeypatch.setattr(sx, "linprog", _planted(sx.linprog, "primal", lambda x: [sum(x[:-1]) / 3] * 3 + x[-1:]))
    with pytest.raises(ArithmeticError, match="certificate mismatch"):
        L.max_min_margin(P, [(0, 1), (1, 2)])


def test_certify_rejects_planted_wrong_certificates():
    r = L.max_min_margin(W, OP)
    L.certify(W, r)
    wrong_y = L.MarginLP(r.pairs, r.t, r.mu, (Fraction(1, 2), Fraction(1, 2), Fraction(0)))
    wrong_t = L.MarginLP(r.pairs, r.t + Fraction(1, 100), r.mu, r.y)
    off_simplex = L.MarginLP(r.pairs, r.t, tuple(2 * m for m in r.mu), r.y)
    for bad in (wrong_y, wrong_t, off_simplex):
        with pytest.raises(ArithmeticError):
            L.certify(W, bad)


def test_a_failing_dual_solve_is_repaired(monkeypatch):
    from sympy.solvers.simplex import InfeasibleLPError

    real, calls = sx.linprog, []

    def flaky(*a, **k):
        calls.append(1)
        if len(calls) == 2:
            raise InfeasibleLPError("planted solver failure")
        return real(*a, **k)

    monkeypatch.setattr(sx, "linprog", flaky)
    r = L.max_min_margin(W, OP)
    assert r.t == Fraction(-1, 20) and L.check_farkas(W, OP, r.y) and L.dual_value(W, OP, r.y) == r.t
