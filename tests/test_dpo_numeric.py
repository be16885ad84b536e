"""verify.numerics.dpo: the Newton solver, the direct minimiser, BT invariance, sensitivities, bad input, CLI."""

import json
from fractions import Fraction

import mpmath
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from verify import DPOSolveError, InputError, NonUniqueDPOOptimum, dpo_minimise, dpo_optimum, dpo_sensitivity
from verify.numerics.bridge import mp_matrix, mp_vector
from verify.cli import main
from verify.numerics.dpo import scaled_loss, solve_scaled, stationarity
from verify.numerics.precision import agree, workdps
from verify.engine.strategies import preference_matrices, simplex_points


def _interior(P):
    return all(0 < P[i][j] < 1 for i in range(len(P)) for j in range(len(P)) if i != j)


@given(preference_matrices(min_K=2, max_K=5, exact=True), st.data())
@example(P=[[Fraction(1, 2), Fraction(99, 100)], [Fraction(1, 100), Fraction(1, 2)]], data=None)
def test_newton_solution_is_stationary_and_minimal(P, data):
    K = len(P)
    if not _interior(P):
        return
    mu = data.draw(simplex_points(K=K, exact=True)) if data is not None else (Fraction(1, 5), Fraction(4, 5))
    with workdps(60):
        Pm, m = mp_matrix(P), mp_vector(mu)
        x, info = solve_scaled(Pm, m)
        assert max(abs(g) for g in stationarity(Pm, m, x)) < mpmath.mpf(10) ** -45
        assert abs(sum(x)) < mpmath.mpf(10) ** -50  # centred
        L = scaled_loss(Pm, m, x)
        for k in range(K):  # a minimum: every coordinate perturbation increases the loss
            for s in (1, -1):
                y = list(x)
                y[k] += s * mpmath.mpf(10) ** -8
                assert scaled_loss(Pm, m, y) > L


@pytest.mark.parametrize("K", [2, 3, 5])
def test_newton_agrees_with_coordinate_descent_to_50_digits(K):
    P = [[Fraction(1, 2)] * K for _ in range(K)]
    vals = [Fraction(7, 10), Fraction(1, 5), Fraction(11, 20), Fraction(3, 4), Fraction(2, 5), Fraction(9, 10), Fraction(1, 4), Fraction(3, 5), Fraction(1, 3), Fraction(5, 8)]
    n = 0
    for i in range(K):
        for j in range(i + 1, K):
            P[i][j], P[j][i] = vals[n], 1 - vals[n]
            n += 1
    mu = [Fraction(k + 1, K * (K + 1) // 2) for k in range(K)]
    a = dpo_optimum(P, mu, beta_dpo="3/2", dps=50)
    b = dpo_minimise(P, mu, beta_dpo="3/2", dps=50)
    with workdps(70):
        assert all(agree(x, y, 50)[0] for x, y in zip(a, b))


@given(st.lists(st.fractions(Fraction(1, 10), Fraction(10), max_denominator=10), min_size=2, max_size=5), st.data())
def test_bt_optimum_is_sampler_independent(w, data):
    K = len(w)
    P = [[w[i] / (w[i] + w[j]) for j in range(K)] for i in range(K)]
    mu = data.draw(simplex_points(K=K, exact=True))
    beta = data.draw(st.fractions(Fraction(1, 10), Fraction(20), max_denominator=10))
    pi = dpo_optimum(P, mu, beta_dpo=beta, dps=40)
    with workdps(60):
        z = [mpmath.mpf(x.numerator) / x.denominator for x in w]
        target = [v ** (1 / (mpmath.mpf(beta.numerator) / beta.denominator)) for v in z]
        s = mpmath.fsum(target)
        assert all(agree(p, t / s, 40)[0] for p, t in zip(pi, target))


def test_non_bt_optimum_moves_and_sensitivity_matches_finite_differences():
    P = [["1/2", "7/10", "3/10"], ["3/10", "1/2", "7/10"], ["7/10", "3/10", "1/2"]]
    a = dpo_optimum(P, ["1/3", "1/3", "1/3"], dps=30)
    b = dpo_optimum(P, ["1/2", "1/4", "1/4"], dps=30)
    assert max(abs(x - y) for x, y in zip(a, b)) > 1e-3
    X = dpo_sensitivity(P, ["1/3", "1/3", "1/3"], beta_dpo=2, dps=40)
    with workdps(60):
        # at uniform mu the balanced 3-cycle has dr/dmu = 4 S / beta_dpo exactly (DPO-6)
        S = [[0, 0.2, -0.2], [-0.2, 0, 0.2], [0.2, -0.2, 0]]
        for i in range(3):
            for j in range(3):
                assert agree(X[i, j], 2 * mpmath.mpf(str(S[i][j])), 40)[0]


def test_sensitivity_is_zero_for_bt():
    X = dpo_sensitivity([["1/2", "2/3"], ["1/3", "1/2"]], ["1/5", "4/5"], dps=30)
    assert max(abs(v) for v in X) < mpmath.mpf(10) ** -30


def test_large_and_small_beta_dpo():
    P = [["1/2", "9/10"], ["1/10", "1/2"]]
    big = dpo_optimum(P, ["1/2", "1/2"], beta_dpo=10**6, dps=30)
    small = dpo_optimum(P, ["1/2", "1/2"], beta_dpo="1/1000", dps=30)
    with workdps(50):
        assert agree(big[0] / big[1], mpmath.exp(mpmath.log(9) / 10**6), 30)[0]
        assert small[1] < mpmath.mpf(10) ** -900  # 9^-1000 relative mass, no overflow


def test_zero_mass_is_reported_as_non_unique():
    with pytest.raises(NonUniqueDPOOptimum, match=r"mu\[1\] = 0"):
        dpo_optimum([[0.5, 0.8], [0.2, 0.5]], [1, 0])


def test_no_finite_minimiser_raises():
    with pytest.raises(DPOSolveError, match=r"no finite DPO minimiser: responses \[0\] beat \[1\]"):
        dpo_optimum([["1/2", "1"], ["0", "1/2"]], ["1/2", "1/2"], dps=20)


def test_extreme_entry_with_finite_minimiser_is_solved():
    # P[0,1] = 1 but 0 loses to 2 and 2 loses to 1: the cycle keeps every margin finite
    P = [["1/2", "1", "1/5"], ["0", "1/2", "3/5"], ["4/5", "2/5", "1/2"]]
    pi = dpo_optimum(P, ["1/3", "1/3", "1/3"], dps=30)
    with workdps(50):
        x = [mpmath.log(v) for v in pi]
        G = stationarity(mp_matrix(P), mp_vector([Fraction(1, 3)] * 3), x)
        assert max(abs(g) for g in G) < mpmath.mpf(10) ** -25


@pytest.mark.parametrize(
    "P, mu, beta, msg",
    [
        ([[0.5, 0.8], [0.3, 0.5]], [0.5, 0.5], 1, r"P\[0,1\] \+ P\[1,0\] = 1.1, expected 1"),
        ([[0.5, 0.8], [0.2, 0.5]], [0.5, 0.6], 1, "mu sums to"),
        ([[0.5, 0.8], [0.2, 0.5]], [0.5, 0.5], 0, "beta_dpo = 0, expected > 0"),
        ([[0.5, 0.8], [0.2, 0.5]], [0.5, 0.5, 0], 1, "mu has 3 entries, expected K = 2"),
    ],
)
def test_bad_input_names_the_entry(P, mu, beta, msg):
    with pytest.raises(InputError, match=msg):
        dpo_optimum(P, mu, beta_dpo=beta)


def test_cli_dpo(tmp_path, capsys):
    f = tmp_path / "P.json"
    f.write_text(json.dumps([["1/2", "7/10", "3/10"], ["3/10", "1/2", "7/10"], ["7/10", "3/10", "1/2"]]))
    assert main(["dpo", "--matrix", str(f), "--mu", "1/2,1/4,1/4", "--dps", "20", "--json", "--sensitivity"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["agrees_to_dps"] is True and len(out["pi"]) == 3 and len(out["dr_dmu"]) == 3
    assert main(["dpo-threshold", "--matrix", str(f), "--alpha", "1/2", "--lam", "1", "--beta-dpo", "1/2", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["verdict"] == "unstable" and res["spectral_radius_closed_form"] == res["spectral_radius_numeric"]


@pytest.mark.parametrize(
    "argv, msg",
    [
        (["dpo", "--beta-dpo", "-1"], "beta_dpo = -1, expected > 0"),
        (["dpo-threshold", "--alpha", "2", "--lam", "1", "--beta-dpo", "1"], "alpha = 2 is outside"),
    ],
)
def test_cli_bad_input_exits_2_with_one_line(tmp_path, capsys, argv, msg):
    f = tmp_path / "P.json"
    f.write_text(json.dumps([["1/2", "7/10", "3/10"], ["3/10", "1/2", "7/10"], ["7/10", "3/10", "1/2"]]))
    assert main(argv[:1] + ["--matrix", str(f)] + argv[1:]) == 2
    err = capsys.readouterr().err
    assert msg in err and err.count("\n") == 1


def test_cli_zero_mu_reports_the_solution_set(tmp_path, capsys):
    """A sampler with zeros leaves some log-ratios free: the command states the set and exits 0 (it picks nothing)."""
    f = tmp_path / "P.json"
    f.write_text(json.dumps([["1/2", "7/10", "3/10"], ["3/10", "1/2", "7/10"], ["7/10", "3/10", "1/2"]]))
    assert main(["dpo", "--matrix", str(f), "--mu", "1,0,0"]) == 0
    assert "not unique" in capsys.readouterr().out


def test_cli_threshold_refuses_unbalanced(tmp_path, capsys):
    f = tmp_path / "P.json"
    f.write_text(json.dumps([["1/2", "7/10", "7/10"], ["3/10", "1/2", "7/10"], ["3/10", "3/10", "1/2"]]))
    assert main(["dpo-threshold", "--matrix", str(f), "--alpha", "0", "--lam", "1", "--beta-dpo", "1"]) == 2
    assert "row 0 of S = P - 1/2 sums to 2/5, expected 0" in capsys.readouterr().err


def test_escaping_set_criterion():
    from verify.numerics.dpo import escaping_set
    from verify.exact.objects import load_preference_matrix as L

    # {0, 1} beat 2 surely; 0 vs 1 open: U = {0, 1} escapes
    assert escaping_set(L([["1/2", "3/5", "1"], ["2/5", "1/2", "1"], ["0", "0", "1/2"]])) == [0, 1]
    # a sure 3-cycle is strongly connected: a finite minimiser exists
    assert escaping_set(L([["1/2", "1", "0"], ["0", "1/2", "1"], ["1", "0", "1/2"]])) is None
    pi = dpo_optimum([["1/2", "1", "0"], ["0", "1/2", "1"], ["1", "0", "1/2"]], ["1/3"] * 3, dps=20)
    with workdps(40):
        assert all(agree(p, mpmath.mpf(1) / 3, 20)[0] for p in pi)
