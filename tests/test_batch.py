"""verify.numerics.batch: the one batched float64 MRS step, tested over every built-in loss.

Every test that takes ``name`` runs once per entry of ``theory.losses.BUILTIN``, so a new loss
is tested without writing a test. References are independent: a few lines of Newton in mpmath
at 30 digits (smooth losses) and an exact enumeration in fractions (piecewise-linear losses).
"""

from __future__ import annotations

import dataclasses
import itertools
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy

from theory.losses import BUILTIN, X, from_expression
from verify.exact.objects import InputError
from verify.numerics import batch as bt
from verify.numerics.basis import helmert_basis
from verify.numerics.simulate import normalise_log

NAMES = sorted(BUILTIN)
NEWTON_OR_CLOSED = [n for n in NAMES if bt.method_for(n) != "enumerate"]
PIECEWISE_LINEAR = [n for n in NAMES if bt.method_for(n) == "enumerate"]
WITH_GAIN = [n for n in NAMES if BUILTIN[n].gain is not None]


# ----------------------------------------------------------------------------- references


def _mp_derivatives(loss):
    f = loss.f.rewrite(sympy.Piecewise)
    return (
        sympy.lambdify(X, f, "mpmath"),
        sympy.lambdify(X, sympy.diff(f, X), "mpmath"),
        sympy.lambdify(X, sympy.diff(f, X, 2), "mpmath"),
    )


def _mp_G(loss, P, mu, x):
    """``G_k`` and the term sizes ``T_k`` in mpmath (the current precision)."""
    _, fp, _ = _mp_derivatives(loss)
    K = len(mu)
    G, T = [], []
    for k in range(K):
        a = [P[k][j] * fp(x[k] - x[j]) for j in range(K)]
        c = [(1 - P[k][j]) * fp(x[j] - x[k]) for j in range(K)]
        G.append(mpmath.fsum(mu[j] * (a[j] - c[j]) for j in range(K)))
        T.append(mpmath.fsum(mu[j] * (abs(a[j]) + abs(c[j])) for j in range(K)))
    return G, T


def _mp_newton(loss, P, mu, x0, dps=30):
    """Stationarity ``G(x; mu) = 0`` by plain Newton in mpmath (coordinate of the largest mu pinned)."""
    _, fp, fpp = _mp_derivatives(loss)
    K = len(mu)
    p = max(range(K), key=lambda k: mu[k])
    with mpmath.workdps(dps + 10):
        P = [[mpmath.mpf(v) for v in row] for row in P]
        mu = [mpmath.mpf(v) for v in mu]
        x = [mpmath.mpf(float(v)) - mpmath.mpf(float(x0[p])) for v in x0]
        for _ in range(100):
            G, _T = _mp_G(loss, P, mu, x)
            A = mpmath.matrix(K, K)
            for k in range(K):
                for m in range(K):
                    if m != k:
                        w = mu[m] * (P[k][m] * fpp(x[k] - x[m]) + (1 - P[k][m]) * fpp(x[m] - x[k]))
                        A[k, m] = -w
                        A[k, k] += w
            rhs = mpmath.matrix([-g for g in G])
            for m in range(K):
                A[p, m] = 0
            A[p, p], rhs[p] = 1, 0
            dx = mpmath.lu_solve(A, rhs)
            x = [x[k] + dx[k] for k in range(K)]
            if max(abs(v) for v in dx) < mpmath.mpf(10) ** (-dps - 5):
                break
        else:  # pragma: no cover - the reference must converge
            raise AssertionError("the mpmath reference did not converge")
        c = mpmath.fsum(x) / K
        return [v - c for v in x]


def _exact_minimisers(loss, P, mu):
    """The documented selection in exact arithmetic: mean of the centred vertices within ``1e-12 (1 + |L_min|)`` of the least."""
    K = len(mu)
    f = sympy.lambdify(X, loss.f.rewrite(sympy.Piecewise), "sympy")
    kink = Fraction(str(abs(loss.kinks[0])))
    P = [[Fraction(v) for v in row] for row in P]
    mu = [Fraction(v) for v in mu]
    cands, values = [], []
    for v in itertools.product(range(K), repeat=K):
        if set(v) != set(range(max(v) + 1)):
            continue
        x = [kink * t for t in v]
        L = 2 * sum(mu[i] * mu[j] * P[i][j] * Fraction(str(f(sympy.Rational(x[i] - x[j])))) for i in range(K) for j in range(K))
        cands.append(x)
        values.append(L)
    Lmin = min(values)
    sel = [x for x, L in zip(cands, values) if L <= Lmin + Fraction(1, 10**12) * (1 + abs(Lmin))]
    mean = [sum(x[k] for x in sel) / len(sel) for k in range(K)]
    c = sum(mean) / K
    return [m - c for m in mean]


def _reference_step(loss, P, lp, alpha, lam, scale, ref, p0, dps=30):
    """One MRS step for one row, in mpmath (smooth losses) or fractions (piecewise linear)."""
    K = len(lp)
    with mpmath.workdps(dps + 10):
        pi = [mpmath.exp(mpmath.mpf(float(v))) for v in lp]
        s = mpmath.fsum(pi)
        pi = [v / s for v in pi]
        mu = [mpmath.mpf(lam) * pi[k] + (1 - mpmath.mpf(lam)) * mpmath.mpf(p0[k]) for k in range(K)]
        if bt.method_for(loss) == "enumerate":
            x = [mpmath.mpf(v.numerator) / v.denominator for v in _exact_minimisers(loss, P, [Fraction(float(m)) for m in mu])]
        else:
            xf, ok = bt.solve_batch(np.asarray(P, float), np.array([[float(m) for m in mu]]), loss)
            x = _mp_newton(loss, P, mu, xf[0], dps)
        b = loss.b_of(sympy.Rational(Fraction(scale)))
        b = mpmath.mpf(str(sympy.N(b, dps + 10)))
        z = [mpmath.mpf(alpha) * mpmath.log(pi[k]) + (1 - mpmath.mpf(alpha)) * mpmath.log(mpmath.mpf(ref[k])) + x[k] / b for k in range(K)]
        top = max(z)
        c = top + mpmath.log(mpmath.fsum(mpmath.exp(v - top) for v in z))
        return [float(v - c) for v in z]


def _random_P(rng, K, den=20):
    P = np.full((K, K), 0.5)
    for i in range(K):
        for j in range(i + 1, K):
            P[i, j] = rng.integers(1, den) / den
            P[j, i] = 1 - P[i, j]
    return P


def _case(rng, B, K):
    P = np.stack([_random_P(rng, K) for _ in range(B)])
    al = rng.integers(0, 17, B) / 16
    la = rng.integers(1, 17, B) / 16
    sc = rng.integers(4, 33, B) / 8
    ref = rng.dirichlet(np.ones(K), B)
    p0 = rng.dirichlet(np.ones(K), B)
    lp = np.log(rng.dirichlet(np.ones(K), B))
    return P, al, la, sc, ref, p0, lp


# ----------------------------------------------------------------------------- the solve


@pytest.mark.parametrize("name", NEWTON_OR_CLOSED)
@pytest.mark.parametrize("K", [2, 3, 5])
def test_solve_batch_is_stationary(name, K):
    rng = np.random.default_rng(K)
    B = 40
    P = np.stack([_random_P(rng, K) for _ in range(B)])
    mu = rng.dirichlet(np.ones(K) * 0.7, B)
    mu[0] = np.r_[1.0, np.zeros(K - 1)]  # boundary sampler: the continuous extension
    x, ok = bt.solve_batch(P, mu, name)
    assert ok.all()
    with mpmath.workdps(30):
        for b in range(B):
            G, T = _mp_G(BUILTIN[name], P[b].tolist(), [mpmath.mpf(float(m)) for m in mu[b]], [mpmath.mpf(float(v)) for v in x[b]])
            assert max(abs(g) / (1 + t) for g, t in zip(G, T)) <= 1e-9


@pytest.mark.parametrize("name", NEWTON_OR_CLOSED)
def test_solve_batch_far_out_is_stable(name):
    """Entries of P within 1e-300 of 0 or 1 put the pairwise optimum hundreds out: still solved, no NaN."""
    P = np.array([[[0.5, 1e-300], [1 - 1e-300, 0.5]], [[0.5, 0.3], [0.7, 0.5]]])
    mu = np.array([[0.5, 0.5], [0.2, 0.8]])
    x, ok = bt.solve_batch(P, mu, name)
    assert ok.all() and np.isfinite(x).all()
    with mpmath.workdps(30):
        for b in range(2):
            G, T = _mp_G(BUILTIN[name], P[b].tolist(), [mpmath.mpf(float(m)) for m in mu[b]], [mpmath.mpf(float(v)) for v in x[b]])
            assert max(abs(g) / (1 + t) for g, t in zip(G, T)) <= 1e-9


def test_logistic_terms_are_stable_past_float_overflow():
    """``x_k - x_j = ±800``: exp overflows in float64; the logistic stationarity is still exact."""
    G = bt.stationarity_batch([[0.5, 0.25], [0.75, 0.5]], [[0.5, 0.5]], [[-400.0, 400.0]], "dpo")
    assert np.isfinite(G).all()
    # g(x; p) = sig(x) - p: G_0 = mu_1 (sig(-800) - 1/4), G_1 = mu_0 (sig(800) - 3/4)
    assert np.allclose(G, [[-0.125, 0.125]], rtol=0, atol=1e-15)
    x, ok = bt.solve_batch([[0.5, 0.25], [0.75, 0.5]], [[0.5, 0.5]], "dpo", x0=[[-400.0, 400.0]])
    assert ok.all() and np.allclose(x[0, 0] - x[0, 1], np.log(1 / 3))


@pytest.mark.parametrize("name", PIECEWISE_LINEAR)
@pytest.mark.parametrize("K", [2, 3, 4])
def test_enumeration_gives_a_minimiser(name, K):
    rng = np.random.default_rng(10 + K)
    B = 12
    P = np.stack([_random_P(rng, K) for _ in range(B)])
    mu = rng.dirichlet(np.ones(K), B)
    x, ok = bt.solve_batch(P, mu, name)
    assert ok.all()
    base = bt.loss_batch(P, mu, x, name)
    dirs = [np.eye(K)[k] * s * h for k in range(K) for s in (1, -1) for h in (0.01, 0.1, 0.5, 1.0, 2.0)]
    dirs += list(rng.normal(0, 0.5, (40, K)))
    for d in dirs:
        assert (bt.loss_batch(P, mu, x + d, name) >= base - 1e-12).all()


@pytest.mark.parametrize("name", PIECEWISE_LINEAR)
def test_enumeration_selection_is_the_exact_rule_and_relabelling_invariant(name):
    loss = BUILTIN[name]
    P = np.array([[0.5, 0.8, 0.2], [0.2, 0.5, 0.8], [0.8, 0.2, 0.5]])  # P_cyc(0.3): at uniform mu the optimum is a set
    mu = np.full((1, 3), 1 / 3)
    x, _ = bt.solve_batch(P, mu, name)
    exact = _exact_minimisers(loss, P.tolist(), [Fraction(1, 3)] * 3)
    assert np.allclose(x[0], [float(v) for v in exact], atol=1e-12)
    rng = np.random.default_rng(5)
    P4 = _random_P(rng, 4)
    mu4 = rng.dirichlet(np.ones(4))
    x4, _ = bt.solve_batch(P4, mu4[None], name)
    for perm in ([1, 0, 2, 3], [3, 2, 1, 0], [2, 3, 0, 1]):
        xp, _ = bt.solve_batch(P4[np.ix_(perm, perm)], mu4[perm][None], name)
        assert np.allclose(xp[0], x4[0][perm], atol=1e-12)


@pytest.mark.parametrize("name", PIECEWISE_LINEAR)
def test_enumeration_refuses_large_K(name):
    K = bt.MAX_ENUMERATION_K + 1
    with pytest.raises(InputError, match=f"K <= {bt.MAX_ENUMERATION_K}"):
        bt.make_step(np.full((K, K), 0.5), name, 0.5, 1.0)


# ----------------------------------------------------------------------------- the step


def _max_deviation(name, step_factory, seed=0, B=5, K=4):
    rng = np.random.default_rng(seed)
    P, al, la, sc, ref, p0, lp = _case(rng, B, K)
    step = step_factory(P, name, al, la, ref, p0, sc)
    out = np.asarray(step(lp))
    dev = 0.0
    for b in range(B):
        want = _reference_step(BUILTIN[name], P[b].tolist(), lp[b], al[b], la[b], sc[b], ref[b], p0[b])
        dev = max(dev, float(np.abs(out[b] - np.array(want)).max()))
    return dev


def _make(P, name, al, la, ref, p0, sc):
    return bt.make_step(P, name, al, la, ref, p0, scale=sc)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("seed", [0, 1])
def test_step_agrees_with_per_row_reference(name, seed):
    assert _max_deviation(name, _make, seed=seed, K=3 + seed) <= 1e-9


@pytest.mark.parametrize("name", NAMES)
def test_planted_wrong_step_is_caught(name, monkeypatch):
    """``x/b`` replaced by ``2x/b`` inside make_step: the same comparison refutes it."""
    real = bt.loss_numbers

    def doubled(loss):
        nums = real(loss)
        return dataclasses.replace(nums, inv_b=lambda s: 2 * np.asarray(nums.inv_b(s)))

    monkeypatch.setattr(bt, "loss_numbers", doubled)
    assert _max_deviation(name, _make) > 1e-3


def test_closed_form_equals_generic_newton_for_quadratic_losses():
    rng = np.random.default_rng(3)
    P, al, la, sc, ref, p0, lp = _case(rng, 30, 4)
    for loss in ("ipo", from_expression("x**2 - 2*x + 1"), from_expression("(1 - x)**2/2")):
        fast = bt.make_step(P, loss, al, la, ref, p0, scale=sc)
        slow = bt.make_step(P, loss, al, la, ref, p0, scale=sc, method="newton")
        assert fast.method == "closed" and slow.method == "newton"
        assert np.abs(np.asarray(fast(lp)) - slow(lp)).max() <= 1e-9


def test_method_is_chosen_from_f_not_from_the_name():
    assert bt.method_for(from_expression("(1 - x)**2")) == "closed"
    assert bt.method_for(from_expression("Max(0, 1 - x)")) == "enumerate"
    assert bt.method_for(from_expression("log(1 + exp(-x))")) == "newton"
    with pytest.raises(InputError, match="quadratic"):
        bt.make_step(np.full((2, 2), 0.5), "dpo", 0.5, 1.0, method="closed")
    with pytest.raises(InputError, match="piecewise linear"):
        bt.make_step(np.full((2, 2), 0.5), "slic", 0.5, 1.0, method="newton")


@pytest.mark.parametrize("name", NAMES)
def test_batched_settings_equal_one_setting_at_a_time(name):
    """alpha, lam and the scale as arrays over the batch give the rows of scalar runs."""
    rng = np.random.default_rng(4)
    P = _random_P(rng, 3)
    al, la, sc = np.array([0.2, 0.9, 0.5]), np.array([1.0, 0.5, 0.25]), np.array([0.5, 2.0, 8.0])
    lp = np.log(rng.dirichlet(np.ones(3), 3))
    out = np.asarray(bt.make_step(P, name, al, la, scale=sc)(lp))
    for b in range(3):
        one = bt.make_step(P, name, al[b], la[b], scale=sc[b])(lp[b : b + 1])
        assert np.allclose(out[b], one[0], rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", NEWTON_OR_CLOSED)
def test_jacobian_matches_finite_differences(name):
    rng = np.random.default_rng(6)
    K = 4
    P, al, la, sc, ref, p0, lp = _case(rng, 3, K)
    step = bt.make_step(P, name, al, la, ref, p0, scale=sc, tol=1e-14)  # x* to ~1e-14: central differences see it
    H = helmert_basis(K)
    J = step.jacobian(lp)
    h = 1e-5
    y = (lp - lp.mean(axis=1, keepdims=True)) @ H
    for c in range(K - 1):
        e = np.zeros(K - 1)
        e[c] = h
        up = np.asarray(step(normalise_log((y + e) @ H.T))) @ H
        dn = np.asarray(step(normalise_log((y - e) @ H.T))) @ H
        assert np.allclose((up - dn) / (2 * h), J[:, :, c], atol=2e-6)


def _growth_error(name, case):
    """Largest relative gap between the simulated growth per step and sqrt(alpha^2 + (c_f lam ||S|| / (b K))^2)."""
    loss = BUILTIN[name]
    if case == "3-cycle":
        a = 0.3
        P = np.array([[0.5, 0.5 + a, 0.5 - a], [0.5 - a, 0.5, 0.5 + a], [0.5 + a, 0.5 - a, 0.5]])
    else:  # a non-circulant balanced matrix: S 1 = 0
        S = np.array([[0, 0.2, -0.1, -0.1], [-0.2, 0, 0.15, 0.05], [0.1, -0.15, 0, 0.05], [0.1, -0.05, -0.05, 0]])
        P = 0.5 + S
    K = P.shape[0]
    rho = np.linalg.norm(P - 0.5, 2)
    gain = float(loss.gain)
    worst = 0.0
    for alpha, lam, r in ((0.6, 0.8, 0.97), (0.9, 1.0, 1.03), (0.3, 0.5, 0.995)):
        b = gain * lam * rho / (K * np.sqrt(r**2 - alpha**2))  # the scale that puts the modulus at r
        scale = float(loss.scale_of_b(sympy.Float(b, 30)))
        step = bt.make_step(P, loss, alpha, lam, scale=scale)
        rng = np.random.default_rng(7)
        v = rng.normal(size=(1, K))
        v -= v.mean()
        lp = np.log(np.full((1, K), 1.0 / K)) + 1e-6 * v / np.linalg.norm(v)
        norms = []
        for _ in range(60):
            lp = np.asarray(step(lp))
            norms.append(np.linalg.norm(lp - lp.mean()))
        measured = (norms[-1] / norms[-21]) ** (1 / 20)
        worst = max(worst, abs(measured / r - 1))
    return worst


@pytest.mark.parametrize("name", WITH_GAIN)
@pytest.mark.parametrize("case", ["3-cycle", "K4-balanced"])
def test_growth_at_uniform_matches_the_loss3_modulus(name, case):
    """Balanced P, pi_0 = pi_ref = uniform: a small perturbation grows by the LOSS-3 modulus per step."""
    assert _growth_error(name, case) <= 2e-4


@pytest.mark.parametrize("name", WITH_GAIN)
def test_growth_comparison_catches_a_planted_wrong_step(name, monkeypatch):
    real = bt.loss_numbers

    def doubled(loss):
        nums = real(loss)
        return dataclasses.replace(nums, inv_b=lambda s: 2 * np.asarray(nums.inv_b(s)))

    monkeypatch.setattr(bt, "loss_numbers", doubled)
    assert _growth_error(name, "3-cycle") > 1e-2


# ----------------------------------------------------------------------------- input and failures


def test_escaping_set_refused_only_where_no_optimum_exists():
    P = np.array([[0.5, 1.0], [0.0, 0.5]])
    for name in ("dpo", "exp"):
        with pytest.raises(InputError, match=r"responses \[0\] beat all others with probability 1"):
            bt.make_step(P, name, 0.5, 1.0)
    for name in ("tq", "slic", "ipo"):
        out = bt.make_step(P, name, 0.5, 1.0)(np.log(np.full((1, 2), 0.5)))
        assert np.isfinite(out).all()


def test_failure_names_the_rows():
    step = bt.make_step(np.array([[0.5, 0.9], [0.1, 0.5]]), "dpo", 0.5, 1.0, max_iter=1)
    with pytest.raises(bt.BatchSolveError, match=r"batch rows \[0, 1\]"):
        step(np.log(np.array([[0.5, 0.5], [0.3, 0.7]])))
    out, ok = step.try_step(np.log(np.array([[0.5, 0.5]])))
    assert not ok[0]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"alpha": 1.5}, "alpha = 1.5 is outside"),
        ({"lam": np.array([0.5, 2.0])}, r"lam\[1\] = 2 is outside"),
        ({"scale": 0}, "beta_dpo = 0, expected > 0"),
        ({"alpha": np.zeros(3)}, "alpha has shape"),
        ({"P": np.array([[[0.5, 0.9], [0.2, 0.5]]] * 2)}, r"P\[0\]: P\[0,1\] = 0.9"),
        ({"pi_ref": [0.5, 0.6]}, "pi_ref"),
    ],
)
def test_bad_input_is_named(kwargs, message):
    args = {"P": np.array([[0.5, 0.9], [0.1, 0.5]]), "alpha": 0.5, "lam": 1.0}
    args.update(kwargs)
    P = args.pop("P")
    alpha, lam = args.pop("alpha"), args.pop("lam")
    with pytest.raises(InputError, match=message):
        bt.make_step(P, "dpo", alpha, lam, B=2, **args)


def test_exact_strings_and_numpy_scalars_accepted():
    step = bt.make_step([["1/2", "4/5"], ["1/5", "1/2"]], "dpo", "1/2", "1", scale="1")
    assert np.allclose(np.exp(step(np.log(np.full((1, 2), 0.5)))), [[0.8, 0.2]])
    step = bt.make_step(np.array([[0.5, 0.8], [0.2, 0.5]]), "dpo", np.float64(0.5), np.array(1.0), scale=np.float32(1))
    assert np.allclose(np.exp(step(np.log(np.full((3, 2), 0.5)))), [[0.8, 0.2]] * 3)


def test_make_batch_step_is_the_dpo_step():
    rng = np.random.default_rng(8)
    P, al, la, sc, ref, p0, lp = _case(rng, 6, 3)
    a = bt.make_batch_step(P, 0.4, 1.5, 0.7, ref, p0)(lp)
    b = bt.make_step(P, "dpo", 0.4, 0.7, ref, p0, scale=1.5)(lp)
    assert np.array_equal(a, b)


# ----------------------------------------------------------------------------- simulate, fixed points, thresholds


@pytest.mark.parametrize("name", NAMES)
def test_simulate_runs_every_loss(name):
    from verify.numerics.simulate import cyclic_matrix, simulate

    res = simulate(cyclic_matrix(0.4), np.array([0.3, 0.9]), None, 1.0, steps=300, loss=name, n_starts=2)
    assert res.logpi.shape == (4, 3) and np.isfinite(res.logpi).all()
    assert res.params["loss"] == name and res.params["scale_name"] == BUILTIN[name].scale_name


def test_simulate_keeps_the_ipo_call():
    from verify.numerics.simulate import cyclic_matrix, make_ipo_batch_step, simulate

    a = simulate(cyclic_matrix(0.4), 0.9, 8, 1, steps=200, record=True)
    # a user loss has b = its scale: IPO's beta = 8 is b = 2/8
    b = simulate(cyclic_matrix(0.4), 0.9, 0.25, 1, steps=200, record=True, loss=from_expression("(1 - x)**2"))
    assert np.array_equal(a.trajectory, b.trajectory)  # the same closed form, recognised from f
    assert make_ipo_batch_step(cyclic_matrix(0.4), 0.9, 8.0, 1.0, B=1).method == "closed"


@pytest.mark.parametrize("name", WITH_GAIN)
def test_fixed_point_at_uniform_has_the_loss3_spectral_radius(name):
    """batch_fixed_points for any smooth loss: uniform is the fixed point of a balanced P, rho = LOSS-3's modulus."""
    from verify.numerics.phase import balanced_modulus, batch_fixed_points, threshold_curve

    loss = BUILTIN[name]
    P = np.array([[0.5, 0.8, 0.2], [0.2, 0.5, 0.8], [0.8, 0.2, 0.5]])
    rho_S = np.linalg.norm(P - 0.5, 2)
    al = np.array([0.3, 0.6, 0.8])
    crit = threshold_curve(loss, rho_S, 3, al, 1.0)
    sc = crit * np.array([0.8, 1.25, 1.1])
    pi, conv, rho, _ = batch_fixed_points(P, al, sc, np.ones(3), x0=np.zeros((3, 3)), loss=loss)
    assert conv.all() and np.allclose(pi, 1 / 3, atol=1e-12)
    with mpmath.workdps(20):
        want = [float(mpmath.sqrt(balanced_modulus(loss, rho_S, 3, al[i], sc[i], 1))) for i in range(3)]
    assert np.allclose(rho, want, rtol=1e-9)


@pytest.mark.parametrize("name", WITH_GAIN)
def test_threshold_curve_is_where_the_modulus_is_one(name):
    from verify.numerics.phase import balanced_modulus, threshold_curve, threshold_side

    al = np.array([0.0, 0.4, 0.9])
    for rho, K, lam in ((0.3 * np.sqrt(3), 3, 1.0), (0.45, 5, 0.6)):
        crit = threshold_curve(name, rho, K, al, lam)
        for a, s in zip(al, crit):
            assert float(balanced_modulus(name, rho, K, a, s, lam)) == pytest.approx(1.0, rel=1e-12)
            up = float(balanced_modulus(name, rho, K, a, s * 1.01, lam))
            assert (up > 1) == (threshold_side(name) == "above")


def test_threshold_curve_reproduces_dyn1_dpo4_dyn6():
    from verify.numerics.phase import balanced_curve, dpo_cycle_threshold_curve, dyn1_curve, threshold_curve

    al = np.linspace(0, 0.99, 7)
    a = 0.3
    assert np.allclose(dyn1_curve(al, a), np.sqrt(3 * (1 - al**2)) / a)  # DYN-1
    assert np.allclose(threshold_curve("dpo", np.sqrt(3) * a, 3, al, 0.5), 4 * a * 0.5 / np.sqrt(3 * (1 - al**2)))  # DPO-4
    assert np.allclose(dpo_cycle_threshold_curve(a, al), np.sqrt(3 * (1 - al**2)) / (4 * a))
    P = 0.5 + np.array([[0, 0.2, -0.1, -0.1], [-0.2, 0, 0.15, 0.05], [0.1, -0.15, 0, 0.05], [0.1, -0.05, -0.05, 0]])
    assert np.allclose(balanced_curve(al, P), 4 * np.sqrt(1 - al**2) / np.linalg.norm(P - 0.5, 2))  # DYN-6
    assert threshold_curve("ipo", 0.5, 3, [1.0])[0] == 0 and threshold_curve("dpo", 0.5, 3, [1.0])[0] == np.inf


@pytest.mark.parametrize("name", PIECEWISE_LINEAR)
def test_no_threshold_or_phase_diagram_for_piecewise_linear(name):
    from verify.numerics.phase import phase_diagram, threshold_curve
    from verify.numerics.simulate import cyclic_matrix

    with pytest.raises(InputError, match="no threshold"):
        threshold_curve(name, 0.5, 3, [0.5])
    with pytest.raises(InputError, match="piecewise"):
        phase_diagram(cyclic_matrix(0.3), [0.5], [1.0], loss=name, steps=20)


def test_phase_diagram_of_dpo_on_the_ipo_equivalent_axis_matches_ipo():
    """At the uniform point of P_cyc the two losses have one threshold on the c_f lam / b axis."""
    from verify.numerics.phase import phase_diagram
    from verify.numerics.simulate import cyclic_matrix

    alphas, bls = [0.2, 0.6, 0.9], [1.0, 4.0, 9.0]
    ipo = phase_diagram(cyclic_matrix(0.3), alphas, bls, steps=500)
    dpo = phase_diagram(cyclic_matrix(0.3), alphas, bls, steps=500, loss="dpo")
    assert np.allclose(dpo.scales, 4 / np.array(bls)[None, :])  # 4 lam / beta_dpo = bl at lam = 1
    decided = (ipo.regions < 2) & (dpo.regions < 2)
    assert decided.sum() >= 6 and np.array_equal(ipo.regions[decided], dpo.regions[decided])
    assert np.allclose(ipo.rho, dpo.rho, rtol=1e-9)  # the same uniform fixed point and tangent spectrum
    by_scale = phase_diagram(cyclic_matrix(0.3), alphas, scales=4 / np.array(bls), steps=500, loss="dpo")
    assert np.array_equal(by_scale.regions, dpo.regions) and by_scale.axis_label == "beta_dpo"
