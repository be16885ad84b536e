"""Inputs keep their precision, and numerical failure is not bad input.

Each test here failed on the code before this change (run against the old tree).
"""

import json
import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import verify.numerics.dpo as dpo_mod
from verify.cli import main
from verify.numerics.dpo import DPONumericalFailure, dpo_minimise, dpo_optimum
from verify.numerics.ipo import ipo_minimise, ipo_optimum
from verify.exact.objects import FLOAT_TOL, InputError, NumericalFailure, load_preference_matrix, read_number, simplex_vector
from verify.exact.social import PREDICATE_FLOAT_TOL, condorcet_winner, is_bt, is_sst, is_transitive, smith_set


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def _close(a, b, digits):
    with mpmath.workdps(digits + 20):
        return max(abs(x - y) / max(1, abs(x), abs(y)) for x, y in zip(a, b)) <= mpmath.mpf(10) ** -digits


# 1. mpmath numbers are converted exactly ---------------------------------------------------------


def _mpf_instance():
    with mpmath.workdps(60):
        P = [[mpmath.mpf(1) / 2, mpmath.mpf("0.3"), mpmath.mpf(2) / 7], [None, mpmath.mpf(1) / 2, mpmath.mpf(1) / 3], [None, None, mpmath.mpf(1) / 2]]
        for i in range(3):
            for j in range(i):
                P[i][j] = 1 - P[j][i]
        mu = [mpmath.mpf(1) / 3, mpmath.mpf(1) / 3, 1 - 2 * (mpmath.mpf(1) / 3)]
        ref = [mpmath.mpf("0.2"), mpmath.mpf("0.3"), mpmath.mpf("0.5")]
        beta = mpmath.mpf(1) / 7
    return P, mu, ref, beta


def test_mpf_inputs_are_not_rounded_to_float64():
    P, mu, ref, beta = _mpf_instance()
    got = ipo_optimum(P, mu, ref, beta, dps=50)
    # the same numbers as exact binary fractions (after the reported exact repair): agreement to 50 digits
    Pm = load_preference_matrix(P)
    assert Pm.repairs and not Pm.exact
    want = ipo_optimum(Pm.rows(), list(simplex_vector(mu)), list(simplex_vector(ref)), read_number(beta, "beta").value, dps=50)
    assert _close(got, want, 50)


def test_mpf_reading_is_exact_and_tied_to_its_precision():
    with mpmath.workdps(60):
        x = mpmath.mpf(1) / 3
    r = read_number(x, "x")
    assert r.kind == "mpf"
    man, exp = x.man_exp
    assert r.value == Fraction(man) * Fraction(2) ** exp
    assert r.tol <= Fraction(1, 10**55)
    with pytest.raises(InputError, match=r"x = .* is complex \(mpmath.mpc\), expected a real number"):
        read_number(mpmath.mpc(1, 2), "x")
    with pytest.raises(InputError, match="not finite"):
        read_number(mpmath.inf, "x")


def test_mpf_vector_off_by_rounding_is_repaired_and_reported():
    with mpmath.workdps(60):
        v = [mpmath.mpf(1) / 3] * 3  # sums to 1 - 2^-200 or so, not exactly 1
    s = simplex_vector(v)
    assert sum(s) == 1 and not s.exact
    assert s.repairs and "mu divided by its sum" in s.repairs[0]
    with mpmath.workdps(60), pytest.raises(InputError, match="mu sums to"):
        simplex_vector([mpmath.mpf(1) / 3, mpmath.mpf(1) / 3, mpmath.mpf(1) / 3 + mpmath.mpf(10) ** -40])


# 2./3. decimal strings and files ----------------------------------------------------------------


@st.composite
def float_matrices(draw):
    K = draw(st.integers(2, 6))
    P = np.full((K, K), 0.5)
    for i in range(K):
        for j in range(i + 1, K):
            p = draw(st.floats(0.0, 1.0))
            P[i, j], P[j, i] = p, 1.0 - p
    return P


@given(float_matrices())
@example(np.array([[0.5, 0.1 + 0.2, 0.4], [1 - (0.1 + 0.2), 0.5, 0.6], [0.6, 0.4, 0.5]]))
def test_savetxt_and_json_dump_read_like_the_array(tmp_path_factory, P):
    d = tmp_path_factory.mktemp("m")
    want = load_preference_matrix(P)
    np.savetxt(d / "p.txt", P)
    np.savetxt(d / "p.csv", P, delimiter=",")
    (d / "p.json").write_text(json.dumps(P.tolist()))
    for f in ("p.txt", "p.csv", "p.json"):
        got = load_preference_matrix(d / f)
        assert got.entries == want.entries
        assert got.repairs == want.repairs


def test_float_repairs_are_reported():
    P = load_preference_matrix([[0.5, 0.1 + 0.2], [0.7, 0.5]])
    assert P.repairs == ("P[1,0] := 1 - P[0,1] (the pair summed to 1 + 4e-17; tolerance 1e-09)",)
    assert load_preference_matrix([[0.5, 0.3], [0.7, 0.5]]).repairs == ()


def test_decimal_string_tolerance_follows_its_digits():
    # short decimals and fractions are exact
    assert read_number("0.3", "x").tol == 0 and read_number("3/10", "x").tol == 0
    with pytest.raises(InputError, match=r"mu sums to 9/10, expected 1"):
        simplex_vector("0.3,0.6")
    # d >= 7 digits: one unit in the last digit
    assert read_number("0.3333333", "x").tol == Fraction(1, 10**7)
    assert simplex_vector("0.3333333,0.3333333,0.3333334").exact is False
    assert simplex_vector("0.3333333,0.3333333,0.3333333").repairs == ("mu divided by its sum 1 - 1e-07 (tolerance 3e-07)",)
    with pytest.raises(InputError, match=r"mu sums to 0.9999996, expected 1 .*\(tolerance 2e-07"):
        simplex_vector("0.3333333,0.3333333,0.333333")


def test_fifty_digit_vector_within_1e_60_is_accepted_and_repaired():
    third = "0." + "3" * 49 + "3" + "0" * 10  # 50 significant digits + trailing zeros: 60 decimals
    last = "0." + "3" * 49 + "4" + "0" * 9 + "1"  # sum = 1 + 1e-60 - ...
    v = simplex_vector([third, third, last])
    assert sum(v) == 1 and v.repairs
    with pytest.raises(InputError, match="expected 1"):
        simplex_vector(["0." + "3" * 50, "0." + "3" * 50, "0." + "3" * 44 + "4" + "3" * 5])


def test_json_numbers_get_the_float_tolerance_json_strings_do_not(tmp_path):
    f = tmp_path / "m.json"
    f.write_text("[[0.5, 0.30000000000000004], [0.7, 0.5]]")  # json.dump of 0.1 + 0.2
    P = load_preference_matrix(f)
    assert P.repairs and not P.exact and P[0, 1] == Fraction("0.30000000000000004")
    f.write_text("[[0.5, 0.3], [0.7, 0.5]]")
    assert not load_preference_matrix(f).exact  # a JSON number is a float
    f.write_text('[["1/2", "0.3"], ["0.7", "1/2"]]')
    assert load_preference_matrix(f).exact  # a short string is exact
    f.write_text('[["1/2", "0.300001"], ["0.7", "1/2"]]')
    with pytest.raises(InputError, match="expected 1"):
        load_preference_matrix(f)


@pytest.mark.parametrize(
    "text",
    [
        "\ufeff0.5,0.25\n0.75,0.5\n",  # Excel's UTF-8 byte-order mark
        "0.5;0.25\n0.75;0.5\n",
        "0.5\t0.25\n0.75\t0.5\n",
        "0.5,0.25,\n0.75,0.5,\n",  # trailing comma
        "5.000000000000000000e-01 2.500000000000000000e-01\n7.500000000000000000e-01 5.000000000000000000e-01\n",
    ],
)
def test_files_as_people_write_them(tmp_path, text):
    f = tmp_path / "m.csv"
    f.write_bytes(text.encode("utf-8"))
    assert load_preference_matrix(f)[0, 1] == Fraction(1, 4)


def test_header_row_is_named(tmp_path):
    f = tmp_path / "m.csv"
    f.write_text("a,b\n0.5,0.25\n0.75,0.5\n")
    with pytest.raises(InputError, match=r"row 1 looks like a header: 'a', 'b'"):
        load_preference_matrix(f)


def test_directory_and_negative_list_values_exit_2_with_one_line(capsys, tmp_path):
    code, out, err = run(capsys, "ipo", "--matrix", str(tmp_path))
    assert code == 2 and "is a directory" in err and len(err.strip().splitlines()) == 1
    f = tmp_path / "m.csv"
    f.write_text("0.5,0.3,0.4\n0.7,0.5,0.6\n0.6,0.4,0.5\n")
    code, out, err = run(capsys, "ipo", "--matrix", str(f), "--mu", "-0.1,0.5,0.6")
    assert code == 2 and "mu[0] = -0.1 < 0" in err and len(err.strip().splitlines()) == 1


def test_cli_prints_repairs_as_a_note(capsys, tmp_path):
    f = tmp_path / "m.csv"
    np.savetxt(f, np.array([[0.5, 0.1 + 0.2], [1 - (0.1 + 0.2), 0.5]]))
    for cmd in ("ipo", "dpo"):
        code, out, err = run(capsys, cmd, "--matrix", str(f), "--dps", "15")
        assert code == 0
        assert "note: input repaired: P[1,0] := 1 - P[0,1]" in err


# 4. predicates on float input ----------------------------------------------------------------------


@given(st.lists(st.floats(-4, 4), min_size=3, max_size=6))
def test_float_bradley_terry_matrix_is_bt(u):
    P = [[1 / (1 + math.exp(-(a - b))) for b in u] for a in u]
    assert is_bt(P)


def test_float_ties_within_the_predicate_tolerance():
    assert PREDICATE_FLOAT_TOL == 1e-12
    near = [[0.5, 0.5 + 1e-13], [0.5 - 1e-13, 0.5]]
    assert condorcet_winner(near) is None and smith_set(near) == [0, 1] and not is_transitive(near)
    clear = [[0.5, 0.5 + 1e-10], [0.5 - 1e-10, 0.5]]
    assert condorcet_winner(clear) == 0 and is_transitive(clear)
    # exact input stays exact: a margin of 1e-30 is a margin
    tiny = [["1/2", Fraction(1, 2) + Fraction(1, 10**30)], [Fraction(1, 2) - Fraction(1, 10**30), "1/2"]]
    assert condorcet_winner(tiny) == 0
    # SST with float rounding in the inequality P[i,k] >= max(P[i,j], P[j,k])
    P = [[0.5, 0.6, 0.6 - 1e-15], [0.4, 0.5, 0.6], [0.4 + 1e-15, 0.4, 0.5]]
    assert is_sst(P)


# 6. extreme but valid input ------------------------------------------------------------------------

P3 = [["1/2", "3/10", "2/5"], ["7/10", "1/2", "3/5"], ["3/5", "2/5", "1/2"]]


@pytest.mark.parametrize(
    "mu0, beta",
    [(Fraction(1, 10**30), 1), (Fraction(1, 10**300), 1), (Fraction(1, 3), 10**4), (Fraction(1, 10**300), 10**4), (Fraction(1, 3), 10**300)],
)
def test_ipo_direct_minimiser_agrees_on_extreme_input(mu0, beta):
    mu = [mu0, Fraction(1, 2), Fraction(1, 2) - mu0]
    ref = ipo_optimum(P3, mu, None, beta, dps=80)
    assert _close(ipo_minimise(P3, mu, None, beta, dps=50), ref, 50)
    assert _close(ipo_optimum(P3, mu, None, beta, dps=50), ref, 50)


def test_cli_ipo_tiny_mu_is_not_a_false_alarm(capsys, tmp_path):
    f = tmp_path / "m.json"
    f.write_text(json.dumps(P3))
    code, out, err = run(capsys, "ipo", "--matrix", str(f), "--mu", "1e-30,0.5,0.499999999999999999999999999999", "--dps", "30")
    assert code == 0 and "agree" in out and "DISAGREE" not in out


def test_dpo_with_an_entry_1e_300_solves(capsys, tmp_path):
    tiny = Fraction(1, 10**300)
    P = [[Fraction(1, 2), tiny, Fraction(2, 5)], [1 - tiny, Fraction(1, 2), Fraction(3, 5)], [Fraction(3, 5), Fraction(2, 5), Fraction(1, 2)]]
    mu = [Fraction(1, 3)] * 3
    ref = dpo_optimum(P, mu, dps=60)
    assert _close(dpo_minimise(P, mu, dps=30), ref, 30)
    assert _close(dpo_optimum(P, mu, dps=30), ref, 30)
    f = tmp_path / "e.json"
    f.write_text("[[0.5, 1e-300, 0.4], [1.0, 0.5, 0.6], [0.6, 0.4, 0.5]]")
    code, out, err = run(capsys, "dpo", "--matrix", str(f))
    assert code == 0 and "agree" in out


def test_numerical_failure_exits_1_with_advice(capsys, tmp_path, monkeypatch):
    import verify.commands.optimum as cmd

    def boom(*a, **k):
        raise DPONumericalFailure("direct DPO minimisation did not converge in 5 Newton steps; try a larger --dps")

    monkeypatch.setattr(cmd, "minimise", boom)
    f = tmp_path / "m.json"
    f.write_text(json.dumps(P3))
    code, out, err = run(capsys, "dpo", "--matrix", str(f))
    assert code == 1
    assert err.strip().startswith("prefdyn dpo: error:") and "try a larger --dps" in err
    assert len(err.strip().splitlines()) == 1
    assert issubclass(DPONumericalFailure, NumericalFailure) and not issubclass(NumericalFailure, ValueError)


# 7. DPO-1's direct minimiser is independent of the Newton solver -----------------------------------


def _plant_derivatives(monkeypatch, fp, fpp):
    """Replace DPO's compiled f' and f'' (never f) wherever a solver looks them up: the bridge."""
    import dataclasses

    from verify.numerics import bridge

    real = bridge.loss_functions

    def planted(lo):
        fns = real(lo)
        return dataclasses.replace(fns, fp=fp, fpp=fpp) if lo.name == "dpo" else fns

    monkeypatch.setattr(bridge, "loss_functions", planted)


def test_dpo_minimise_uses_loss_values_only(monkeypatch):
    from verify.numerics import optimum

    def forbidden(*a, **k):
        raise AssertionError("dpo_minimise must not use the Newton solver's pieces")

    for name in ("stationarity", "solve", "stationarity_jacobian", "ift_matrices", "loss_x", "data_start", "link"):
        monkeypatch.setattr(optimum, name, forbidden)
    for name in ("stationarity", "solve_scaled", "stationarity_jacobian", "scaled_loss"):
        monkeypatch.setattr(dpo_mod, name, forbidden)
    _plant_derivatives(monkeypatch, forbidden, forbidden)
    pi = dpo_minimise([["1/2", "3/4"], ["1/4", "1/2"]], ["1/3", "2/3"], beta_dpo=2, dps=30)
    with mpmath.workdps(40):
        assert abs(pi[0] / pi[1] - mpmath.sqrt(3)) < mpmath.mpf(10) ** -30


def test_dpo1_numeric_catches_a_wrong_sigmoid(monkeypatch):
    from verify.claims.dpo import check_dpo1_numeric
    from verify.engine.registry import CheckContext
    from verify.numerics.bridge import expit_mp

    ctx = lambda: CheckContext(budget="quick", seed=0, claim_id="DPO-1")  # noqa: E731
    assert check_dpo1_numeric(ctx()).verdict == "verified"
    # the solver's sigmoid sig(2 z): f'(x) = -sig(-2x), f'' consistent with it
    _plant_derivatives(monkeypatch, lambda x: -expit_mp(-2 * x), lambda x: 2 * expit_mp(2 * x) * expit_mp(-2 * x))
    assert check_dpo1_numeric(ctx()).verdict == "refuted"


def test_float_tol_is_the_documented_value():
    assert FLOAT_TOL == 1e-9


def test_dpo_tiny_entry_two_responses_is_right_in_log_space(capsys, tmp_path):
    """K = 2, P[0,1] = 1e-300: the optimum has pi_0/pi_1 = P[0,1]/P[1,0] exactly (BT), i.e. 1e-300.
    The Newton solver once stopped at 5e-52 (its residual 1e-52 was 'small' while x was 600 units
    off), and the comparison of policies in absolute terms called that agreement."""
    import mpmath

    P = [[Fraction(1, 2), Fraction(1, 10**300)], [1 - Fraction(1, 10**300), Fraction(1, 2)]]
    for solve in (dpo_optimum, dpo_minimise):
        pi = solve(P, [Fraction(1, 2)] * 2, dps=30)
        with mpmath.workdps(40):
            assert abs(mpmath.log(pi[0] / pi[1]) - mpmath.log(mpmath.mpf(10) ** -300)) < mpmath.mpf(10) ** -25
    f = tmp_path / "tiny.json"
    f.write_text("[[0.5, 1e-300], [1.0, 0.5]]")
    code, out, err = run(capsys, "dpo", "--matrix", str(f), "--mu", "0.5,0.5")
    assert code == 0 and "agree" in out and "1.0e-300" in out


def test_policy_agreement_is_judged_in_log_space():
    import mpmath

    from verify.numerics.precision import agree, agree_log

    a, b = mpmath.mpf("1e-300"), mpmath.mpf("5e-52")
    assert agree(a, b, 30)[0] and not agree_log(a, b, 30)[0]
