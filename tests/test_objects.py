"""Validation of preference matrices, simplex vectors and parameters."""

import json
import math
from fractions import Fraction

import numpy as np
import pytest
import sympy

from verify.exact.objects import InputError, load_preference_matrix, positive, simplex_vector, unit_interval


@pytest.mark.parametrize(
    "P, message",
    [
        ([[0.5, 0.7], [0.6, 0.5]], r"P\[0,1\] \+ P\[1,0\] = 1.3, expected 1"),
        ([[0.5, 1.2], [-0.2, 0.5]], r"P\[0,1\] = 1.2 is outside \[0, 1\]"),
        ([[0.4, 0.5], [0.5, 0.5]], r"P\[0,0\] = 0.4, expected 1/2"),
        ([[0.5, float("nan")], [0.5, 0.5]], r"P\[0,1\] is NaN"),
        ([[0.5, float("inf")], [0.5, 0.5]], r"P\[0,1\] = inf is not finite"),
        ([[0.5]], r"at least K = 2"),
        ([[0.5, 0.5], [0.5]], r"row 1 has 1 entries, expected 2"),
        ([[0.5, "x"], [0.5, 0.5]], r"P\[0,1\] = 'x' is not a number"),
        ([[0.5, None], [0.5, 0.5]], r"P\[0,1\] = None is not a number"),
        ([[0.5, True], [0.5, 0.5]], r"P\[0,1\] = True is not a number"),
        ([["1/2", "2/3"], ["1/2", "1/2"]], r"P\[0,1\] \+ P\[1,0\] = 7/6, expected 1"),
        (np.zeros((2, 2, 2)), r"2-d matrix"),
        (5, r"square matrix"),
    ],
)
def test_invalid_matrices_are_refused_with_the_entry_named(P, message):
    with pytest.raises(InputError, match=message):
        load_preference_matrix(P)


def test_exact_input_is_checked_exactly():
    # 1/3 + 2/3 is exactly 1; a float-like near miss in exact form is refused
    P = load_preference_matrix([["1/2", "1/3"], ["2/3", "1/2"]])
    assert P.exact and P[0, 1] == Fraction(1, 3)
    with pytest.raises(InputError, match="expected 1"):
        load_preference_matrix([["1/2", "333333333/1000000000"], ["2/3", "1/2"]])


def test_float_input_within_tolerance_is_repaired_exactly():
    P = load_preference_matrix([[0.5, 0.7 + 1e-12], [0.3, 0.5]])
    assert not P.exact
    assert P[0, 1] + P[1, 0] == 1  # upper triangle kept, lower set to 1 - upper
    with pytest.raises(InputError):
        load_preference_matrix([[0.5, 0.7 + 1e-6], [0.3, 0.5]])


def test_sources_numpy_sympy_and_files(tmp_path):
    a = load_preference_matrix(np.array([[0.5, 0.25], [0.75, 0.5]]))
    b = load_preference_matrix(sympy.Matrix([[sympy.Rational(1, 2), sympy.Rational(1, 4)], [sympy.Rational(3, 4), sympy.Rational(1, 2)]]))
    assert a.entries == b.entries
    j = tmp_path / "m.json"
    j.write_text(json.dumps({"P": [["1/2", "1/4"], ["3/4", "1/2"]]}))
    c = tmp_path / "m.csv"
    c.write_text("# comment\n0.5,0.25\n0.75,0.5\n")
    assert load_preference_matrix(j).entries == load_preference_matrix(str(c)).entries == b.entries
    bad = tmp_path / "m.xlsx"
    bad.write_text("x")
    with pytest.raises(InputError, match="unknown format"):
        load_preference_matrix(bad)
    with pytest.raises(InputError, match="does not exist"):
        load_preference_matrix(tmp_path / "missing.json")
    broken = tmp_path / "b.json"
    broken.write_text("[[0.5, ")
    with pytest.raises(InputError, match="not valid JSON"):
        load_preference_matrix(broken)


def test_conversions_round_trip():
    P = load_preference_matrix([["1/2", "1/3", "1"], ["2/3", "1/2", "0"], ["0", "1", "1/2"]])
    assert P.to_sympy()[0, 1] == sympy.Rational(1, 3)
    assert P.to_numpy()[1, 0] == pytest.approx(2 / 3)
    assert P.skew()[0][0] == 0 and P.skew()[0][1] == -P.skew()[1][0]
    assert load_preference_matrix(P.to_json()).entries == P.entries


@pytest.mark.parametrize(
    "v, kwargs, message",
    [
        ([0.5, 0.6], {}, r"mu sums to 1.1, expected 1"),
        ([1.2, -0.2], {}, r"mu\[1\] = -0.2 < 0, expected >= 0"),
        ([0.5, math.nan], {}, r"mu\[1\] is NaN"),
        ([1.0], {}, r"at least 2"),
        ([0.5, 0.5], {"K": 3}, r"has 2 entries, expected K = 3"),
        ([1, 0], {"interior": True, "name": "pi_ref"}, r"pi_ref\[1\] = 0, expected > 0"),
        ("0.5,,0.5", {}, r"empty entry"),
        (np.ones((2, 2)) / 4, {}, r"must be a vector"),
    ],
)
def test_invalid_vectors(v, kwargs, message):
    with pytest.raises(InputError, match=message):
        simplex_vector(v, **kwargs)


def test_vectors_are_exact_and_normalised():
    assert simplex_vector("1/3,1/3,1/3") == (Fraction(1, 3),) * 3
    v = simplex_vector([0.1, 0.2, 0.7 + 1e-12])
    assert sum(v) == 1


def test_parameters():
    assert unit_interval("0.25", "alpha") == Fraction(1, 4)
    with pytest.raises(InputError, match=r"alpha = 1.5 is outside \[0, 1\]"):
        unit_interval(1.5, "alpha")
    with pytest.raises(InputError, match=r"beta = 0, expected > 0"):
        positive(0, "beta")
    with pytest.raises(InputError, match=r"beta is NaN"):
        positive(float("nan"), "beta")
