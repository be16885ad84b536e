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


def test_wrong_solver_dual_is_caught_and_repaired(monkeypatch):
    real = sx._simplex

    def bad(A, B, C, *a, **k):
        o, x, y = real(A, B, C, *a, **k)
        y = list(y)
        y[0], y[1] = y[1], y[0]  # a planted wrong dual
        return o, x, y

    monkeypatch.setattr(sx, "_simplex", bad)
    r = L.max_min_margin(W, OP)
    assert r.t == Fraction(-1, 20) and L.check_farkas(W, OP, r.y)
    assert min(L.margins(W, OP, r.mu)) == r.t == L.dual_value(W, OP, r.y)
