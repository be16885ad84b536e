"""verify.numerics.mrs_dpo: the MRS-DPO map, its IFT Jacobian, the batched step, thresholds; the DPO checkers and controls."""

import functools
from fractions import Fraction

import mpmath
import numpy as np
import pytest

from verify import DPOSolveError, InputError, dpo_cycle_threshold_curve, make_batch_step, mrs_dpo_jacobian, mrs_dpo_step
from verify.claims import dpo as C
from verify.exact.families import cyclic as cycle_matrix
from verify.numerics.mrs_dpo import ambient_map, mrs_dpo_instance, tangent_eigenvalues
from verify.numerics.simulate import trajectory as simulate_dpo
from verify.numerics.precision import agree, workdps
from verify.engine.registry import CheckContext

P4 = [
    ["1/2", "7/10", "1/5", "3/5"],
    ["3/10", "1/2", "9/10", "2/5"],
    ["4/5", "1/10", "1/2", "11/20"],
    ["2/5", "3/5", "9/20", "1/2"],
]


def test_uniform_is_fixed_for_balanced_P():
    out = mrs_dpo_step(["1/3"] * 3, cycle_matrix(Fraction(1, 4)), "1/2", "1/3", 1, dps=40)
    with workdps(60):
        assert all(agree(v, mpmath.mpf(1) / 3, 40)[0] for v in out)


def test_step_equals_reference_mixing_plus_dpo_optimum():
    """log pi_{t+1} = alpha log pi + (1-alpha) log pi_ref + r*(mu_t) + const, r* from verify.numerics.dpo (uniform reference)."""
    from verify import dpo_optimum

    pi, ref, p0 = ["1/10", "2/10", "3/10", "4/10"], ["1/4", "1/4", "1/8", "3/8"], ["1/5", "1/5", "1/5", "2/5"]
    alpha, lam, b = Fraction(3, 5), Fraction(7, 10), Fraction(3, 2)
    out = mrs_dpo_step(pi, P4, alpha, b, lam, ref, p0, dps=40)
    mu = [lam * Fraction(pi[k]) + (1 - lam) * Fraction(p0[k]) for k in range(4)]
    opt = dpo_optimum(P4, mu, beta_dpo=b, dps=40)  # = softmax(r*(mu)) for a uniform reference
    with workdps(60):
        a = mpmath.mpf(alpha.numerator) / alpha.denominator
        d = [
            mpmath.log(out[k])
            - a * mpmath.log(mpmath.mpf(Fraction(pi[k]).numerator) / Fraction(pi[k]).denominator)
            - (1 - a) * mpmath.log(mpmath.mpf(Fraction(ref[k]).numerator) / Fraction(ref[k]).denominator)
            - mpmath.log(opt[k])
            for k in range(4)
        ]
        assert max(d) - min(d) < mpmath.mpf(10) ** -38


def test_jacobian_matches_mpmath_diff_at_50_digits():
    pi, ref, p0 = ["1/10", "2/10", "3/10", "4/10"], ["1/4", "1/4", "1/8", "3/8"], ["1/5", "1/5", "1/5", "2/5"]
    args = (P4, "3/5", "3/2", "7/10", ref, p0)
    J = mrs_dpo_jacobian(pi, *args, dps=50)
    inst = mrs_dpo_instance(*args)
    with workdps(90):
        p = [mpmath.mpf(Fraction(v).numerator) / Fraction(v).denominator for v in pi]
        for l in range(4):

            def f(t, l=l):
                q = list(p)
                q[l] += t
                return ambient_map(inst, q)[0]

            for k in range(4):
                assert agree(J[k, l], mpmath.diff(lambda t: f(t)[k], 0), 50)[0]
        # the image is tangent: columns sum to 0
        assert all(abs(sum(J[k, l] for k in range(4))) < mpmath.mpf(10) ** -60 for l in range(4))


def test_cycle_eigenvalues_numeric():
    J = mrs_dpo_jacobian(["1/3"] * 3, cycle_matrix(Fraction(3, 10)), "1/2", "2", "4/5", dps=50)
    with workdps(70):
        ev = tangent_eigenvalues(J)
        im = 4 * mpmath.mpf("0.3") * mpmath.mpf("0.8") / (mpmath.sqrt(3) * 2)
        assert all(min(abs(e - mpmath.mpc(0.5, s * im)) for e in ev) < mpmath.mpf(10) ** -50 for s in (1, -1))


def test_batch_step_agrees_with_mpmath_step():
    rng = np.random.default_rng(0)
    Pf = np.array([[float(Fraction(v)) for v in r] for r in P4])
    step = make_batch_step(Pf, 0.6, 1.5, 0.7)
    pis = rng.dirichlet(np.ones(4), size=5)
    out = np.exp(step(np.log(pis)))
    for b in range(5):
        ref = mrs_dpo_step([float(v) for v in pis[b]], Pf, 0.6, 1.5, 0.7, dps=30)
        assert np.allclose(out[b], [float(v) for v in ref], rtol=1e-10, atol=1e-13)


def test_batch_step_with_batched_P_and_normalisation():
    Ps = np.stack([np.array(cycle_matrix(Fraction(a, 10)), dtype=float) for a in (1, 2, 3)])
    step = make_batch_step(Ps, 0.9, 0.5, 1.0)
    lp = np.log(np.array([[0.5, 0.3, 0.2]] * 3))
    out = step(lp)
    assert out.shape == (3, 3)
    assert np.allclose(np.log(np.exp(out).sum(axis=1)), 0, atol=1e-12)
    assert not np.allclose(out[0], out[2])


@pytest.mark.parametrize("beta_dpo", [1e-3, 1e6])
def test_batch_step_no_overflow_for_extreme_beta(beta_dpo):
    step = make_batch_step(np.array(cycle_matrix(Fraction(2, 5)), dtype=float), 0.5, beta_dpo, 1.0)
    lp = np.log(np.array([[0.5, 0.3, 0.2]]))
    out = simulate_dpo(step, lp, 20)
    assert np.all(np.isfinite(out[-1]))


def test_batch_step_refuses_extreme_entries_and_reports_non_convergence():
    with pytest.raises(InputError, match=r"responses \[0\] beat all others with probability 1"):
        make_batch_step(np.array([[0.5, 1.0], [0.0, 0.5]]), 0.5, 1.0, 1.0)
    with pytest.raises(InputError, match=r"P\[1\]: responses \[0\] beat"):
        make_batch_step(np.array([[[0.5, 0.9], [0.1, 0.5]], [[0.5, 1.0], [0.0, 0.5]]]), 0.5, 1.0, 1.0)
    # a sure 3-cycle keeps a finite optimum: accepted, and uniform is fixed
    step = make_batch_step(np.array(cycle_matrix(Fraction(1, 2)), dtype=float), 0.5, 1.0, 1.0)
    assert np.allclose(step(np.log(np.full((1, 3), 1 / 3))), np.log(1 / 3))
    step = make_batch_step(np.array([[0.5, 0.9], [0.1, 0.5]]), 0.5, 1.0, 1.0, max_iter=1)
    with pytest.raises(DPOSolveError, match="batch rows \\[0\\]"):
        step(np.log(np.array([[0.5, 0.5]])))


def test_batch_step_bad_input():
    with pytest.raises(InputError, match=r"P\[0,1\] \+ P\[1,0\]"):
        make_batch_step([[0.5, 0.9], [0.2, 0.5]], 0.5, 1.0, 1.0)
    with pytest.raises(InputError, match="lam = 1.5 is outside"):
        make_batch_step([[0.5, 0.8], [0.2, 0.5]], 0.5, 1.0, 1.5)


def test_threshold_curve():
    al = np.array([0.0, 0.5, 0.99])
    lob = dpo_cycle_threshold_curve(0.2, al)
    ipo = dpo_cycle_threshold_curve(0.2, al, quantity="ipo_equivalent")
    assert np.allclose(ipo, np.sqrt(3 * (1 - al**2)) / 0.2) and np.allclose(lob, ipo / 4)
    bc = dpo_cycle_threshold_curve(0.2, al, lam=0.5, quantity="beta_dpo")
    # on the curve the stated modulus is exactly 1
    assert np.allclose(al**2 + 16 * 0.2**2 * 0.5**2 / (3 * bc**2), 1)
    assert dpo_cycle_threshold_curve(0.2, [1.0], quantity="beta_dpo")[0] == np.inf
    with pytest.raises(InputError, match="quantity"):
        dpo_cycle_threshold_curve(0.2, al, quantity="beta")
    with pytest.raises(InputError, match="a = 0.7"):
        dpo_cycle_threshold_curve(0.7, al)


# ---------------------------------------------------------------- checkers pass, planted variants fail
CTX = CheckContext(budget="quick", seed=0, claim_id="T", hypotheses=dict(C.DPO6.hypotheses))


def _ctx(claim):
    return CheckContext(budget="quick", seed=0, claim_id=claim.id, hypotheses=dict(claim.hypotheses))


@pytest.mark.parametrize(
    "fn",
    [
        functools.partial(C.check_dpo1_symbolic, Ks=(2, 3)),
        functools.partial(C.check_dpo2_bt_symbolic, Ks=(2, 3)),
        C.check_dpo2_exact_cycle,
        functools.partial(C.check_dpo2_non_bt, digits=25),
        functools.partial(C.check_dpo3_numeric, digits=30),
        C.check_dpo4_symbolic,
        functools.partial(C.check_dpo4_numeric, digits=30),
        functools.partial(C.check_dpo6_numeric, digits=30),
    ],
)
def test_checker_passes(fn):
    assert fn(CTX).verdict in ("proved", "verified")


@pytest.mark.parametrize(
    "fn",
    [
        functools.partial(C.check_dpo1_symbolic, Ks=(2,), grad_factor=3),
        functools.partial(C.check_dpo1_numeric, digits=20, scale=Fraction(2)),
        lambda ctx: C.check_dpo2_bt_numeric(_ctx(C.DPO2), digits=20, scale=2),
        functools.partial(C.check_dpo2_non_bt, digits=25, planted_bt=True),
        functools.partial(C.check_dpo3_numeric, digits=20, b_factor=Fraction(1, 2)),
        functools.partial(C.check_dpo4_symbolic, coefficient=4),
        functools.partial(C.check_dpo4_numeric, digits=20, coefficient=12),
        functools.partial(C.check_dpo6_numeric, digits=20, gain=2),
        functools.partial(C.check_dpo6_symbolic, Ks=(3,), gain=8),
    ],
)
def test_planted_variant_is_refuted(fn):
    out = fn(CTX)
    assert out.verdict == "refuted" and out.counterexample.instance is not None


def test_random_balanced_matrices_are_balanced_and_valid():
    import numpy as np

    from verify.exact.families import random_balanced

    rng = np.random.default_rng(1)
    for K in (3, 4, 5, 6):
        for circ in (True, False):
            P = random_balanced(rng, K, "circulant" if circ else "cycles")
            assert all(sum(p - Fraction(1, 2) for p in row) == 0 for row in P)
            assert all(0 <= P[i][j] <= 1 and P[i][j] + P[j][i] == 1 for i in range(K) for j in range(K))


def test_threshold_drawn_beside_ipo(tmp_path, capsys):
    from verify.cli import main
    from verify.plots import threshold_comparison_figure

    out = tmp_path / "phase.png"
    assert main(["dpo-phase", "--cyclic", "0.2", "--out", str(out)]) == 0
    assert out.stat().st_size > 1000
    ipo, dpo = threshold_comparison_figure(0.2).axes[0].lines[:2]
    assert np.allclose(dpo.get_ydata() * 4, ipo.get_ydata())
    assert "beta_{\\mathrm{DPO}}" in dpo.get_label() and "MRS-DPO" in dpo.get_label()
    assert main(["dpo-phase", "--cyclic", "0.7", "--out", str(out)]) == 2


def test_dpo_phase_a_is_a_deprecated_alias_of_cyclic(capsys):
    import json

    from verify.cli import main

    assert main(["dpo-phase", "--cyclic", "1/4", "--json"]) == 0
    new = json.loads(capsys.readouterr().out)
    assert main(["dpo-phase", "--a", "1/4", "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out) == new and "--a is deprecated; use --cyclic" in err
    assert new["dpo_critical_lambda_over_beta_dpo"][0] == pytest.approx(3 ** 0.5 / (4 * 0.25))
    assert main(["dpo-phase", "--cyclic", "0.25", "--a", "0.3"]) == 2 and "disagree" in capsys.readouterr().err
    assert main(["dpo-phase"]) == 2 and "--cyclic A" in capsys.readouterr().err


# ---------------------------------------------------------------- regression tests (issue "Verdicts you can trust")
@pytest.mark.parametrize("coefficient", [8, 12])
def test_dpo4_dynamic_refutes_wrong_coefficient(coefficient):
    out = C.check_dpo4_dynamic(_ctx(C.DPO4), coefficient=coefficient)
    assert out.verdict == "refuted" and "modulus2" in out.counterexample.instance


def test_dpo4_dynamic_passes_with_the_true_coefficient_and_states_its_rule():
    out = C.check_dpo4_dynamic(_ctx(C.DPO4))
    assert out.verdict == "verified" and out.dps == 15 and out.tolerance_kind == "margin" and out.criterion


@pytest.mark.parametrize("gain", [3, 5])
def test_dpo6_dynamic_refutes_wrong_coefficient(gain):
    assert C.check_dpo6_dynamic(_ctx(C.DPO6), gain=gain).verdict == "refuted"


def test_dpo6_numeric_without_balanced_is_refuted():
    from verify.engine.runner import run_controls

    res = {r.checker: r for r in run_controls(C.DPO6) if "drop-balanced" in r.checker}
    assert res and all(r.caught for r in res.values())


def test_dpo2_verdict_and_coverage(quick_results):
    r = quick_results["DPO-2"]
    assert r.verdict == "proved", r.evidence
    assert len(C.DPO2.scope.parts) == 2 and C.DPO2.scope.parts[0].startswith("(<=)") and C.DPO2.scope.parts[1].startswith("(=>)")
    by = {c.checker: c for c in r.checks}
    assert by["exact certificate P_cyc"].verdict == "verified" and by["exact certificate P_cyc"].evidence == "exact instances"
    assert by["symbolic BT K=2,3,4"].proves == ()
    assert by["symbolic (<=) every K"].proves == (C.DPO2.scope.parts[0],)
    assert by["symbolic (=>) every K"].proves == (C.DPO2.scope.parts[1],)
    assert r.unproved_parts == []


def test_dpo2_every_k_proof_fails_on_a_planted_scale():
    for scale in (2, Fraction(3, 4)):
        assert C.check_dpo2_bt_general(_ctx(C.DPO2), scale=scale).verdict == "refuted"
    assert C.check_dpo2_non_bt_general(_ctx(C.DPO2), inverse_factor=2).verdict == "refuted"


def test_dpo2_invariance_needs_bradley_terry():
    from verify.engine.runner import run_controls

    res = [r for r in run_controls(C.DPO2) if "drop-bradley_terry" in r.checker]
    assert res and all(r.caught for r in res)


def test_dpo1_existence_is_proved_only_by_the_loss1_existence_proof(quick_results):
    """DPO-1 is proved because LOSS-1's existence proof (logistic case) covers its existence part; without that
    checker the same results leave the existence part unproved."""
    from verify.engine.registry import combine_verdicts

    r = quick_results["DPO-1"]
    assert r.verdict == "proved" and r.unproved_parts == []
    rest = [c for c in r.checks if c.checker != "existence every K (LOSS-1)"]
    assert combine_verdicts(rest, C.DPO1.scope.parts) == "verified"


@pytest.mark.parametrize("checker", ["check_dpo4_numeric", "check_dpo6_numeric"])
def test_numeric_threshold_checks_differentiate_the_map_itself(checker, monkeypatch):
    """The 50-digit eigenvalue checks use the map's own derivative, not DPO-3's formula: a planted
    wrong sigmoid in the DPO solver's f' (f'' left at s(1-s), which is 1/4 at 0, so the formula
    cannot see it) is refuted. It is planted where every solver looks its derivatives up: the bridge."""
    import dataclasses

    from verify.numerics import bridge

    claim = C.DPO4 if "dpo4" in checker else C.DPO6
    assert getattr(C, checker)(_ctx(claim)).verdict == "verified"
    real = bridge.loss_functions

    def planted(lo):
        fns = real(lo)
        if lo.name != "dpo":
            return fns
        return dataclasses.replace(fns, fp=lambda x: -bridge.expit_mp(-mpmath.mpf("1.1") * x))

    monkeypatch.setattr(bridge, "loss_functions", planted)
    assert getattr(C, checker)(_ctx(claim)).verdict == "refuted"
