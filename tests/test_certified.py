"""verify.certified: enclosures contain known values, the Krawczyk test refuses planted wrong Jacobians and
wrong fixed points, certified stable/unstable on the two sides of the DYN-1 curve, DYN-2's norm bound against
exact norms, exact input, the command line, and the path without python-flint (inconclusive, never a pass)."""

import json
import sys
from fractions import Fraction as F

import pytest

from verify.certified import (
    INSTALL_HINT,
    CertifiedUnavailable,
    Interval,
    available,
    certify_contraction,
    certify_fixed_point,
    certify_instance,
    certify_spectrum,
    certify_step_norm,
    exact_rational,
)
from verify.certified.balls import decimal_down, decimal_up, working_precision
from verify.certified.chart import ChartSystem, map_instance
from verify.certified.contraction import positive_definite
from verify.certified.krawczyk import krawczyk
from verify.certified.threshold import compare_threshold, square
from verify.exact.families import cyclic
from verify.exact.objects import InputError

pytestmark = pytest.mark.skipif(not available(), reason="python-flint (the certified extra) is not installed")


def _contains_sq(iv: Interval, q: F) -> bool:
    """``q`` in ``{x^2 : x in iv}`` (``iv`` on one side of 0)."""
    lo, hi = sorted((abs(iv.lo), abs(iv.hi)))
    return lo * lo <= q <= hi * hi


# ----------------------------------------------------------------------------- enclosures contain known values


@pytest.mark.parametrize("a, al, be, la", [(F(3, 10), F(1, 2), F(8), F(1)), (F(2, 5), F(1, 5), F(1), F(1)), (F(1, 7), F(0), F(5, 2), F(3, 4))])
def test_dyn1_eigenvalues_are_enclosed(a, al, be, la):
    """At rational points the enclosures contain alpha ± i a beta lam/sqrt 3 (DYN-1), and are tight."""
    c = certify_instance(cyclic(a), al, be, la)
    assert c.fixed_point.proved and all(iv.contains(F(0)) for iv in c.fixed_point.box)  # the uniform point
    im2 = (a * be * la) ** 2 / 3
    eigs = c.spectrum.eigenvalues
    assert len(eigs) == 2 and all(e.re.contains(al) for e in eigs)
    assert all(_contains_sq(e.im, im2) for e in eigs) and sorted(e.im.lo > 0 for e in eigs) == [False, True]
    assert _contains_sq(c.spectrum.radius, al**2 + im2)
    assert all(e.modulus.width < F(1, 10**30) for e in eigs)
    # a planted wrong value is excluded: the enclosure decides
    assert not _contains_sq(c.spectrum.radius, al**2 + (a * be * la) ** 2 / 4)


def test_spectrum_of_an_exact_matrix_and_a_ball_matrix():
    c = certify_spectrum([[F(1, 2), F(-1, 3)], [F(1, 3), F(1, 2)]])
    assert c.side == "inside" and all(e.re.contains(F(1, 2)) for e in c.eigenvalues)
    assert sorted(e.im.contains(F(1, 3)) for e in c.eigenvalues) == [False, True]
    # repeated eigenvalues (identity): still enclosed (multiple=True)
    rep = certify_spectrum([[F(1, 2), 0], [0, F(1, 2)]])
    assert rep.side == "inside" and all(e.re.contains(F(1, 2)) for e in rep.eigenvalues)
    # a ball matrix: the enclosure holds for every matrix in the ball (here diag(1 ± 1/10, 1/2))
    with working_precision(64) as flint:
        J = flint.arb_mat([[flint.arb(1, flint.arb(flint.fmpq(1, 10))), 0], [0, flint.arb(flint.fmpq(1, 2))]])
        wide = certify_spectrum(J)
    assert wide.side == "undecided" and wide.radius.contains(F(9, 10)) and wide.radius.contains(F(11, 10))


def test_side_on_both_sides_of_the_dyn1_curve():
    """alpha = 1/2, a = 1/2, lam = 1: rho^2 = 1/4 + beta^2/12, on the curve at beta = 3; 3 ± 1/100 decide."""
    below = certify_instance(cyclic(F(1, 2)), F(1, 2), F(299, 100), 1)
    above = certify_instance(cyclic(F(1, 2)), F(1, 2), F(301, 100), 1)
    assert below.verdict == "certified stable" and below.spectrum.radius.hi < 1
    assert above.verdict == "certified unstable" and above.spectrum.radius.lo > 1
    assert _contains_sq(below.spectrum.radius, F(1, 4) + F(299, 100) ** 2 / 12)


def test_dpo_instance_matches_the_ipo_instance_with_beta_4_over_beta_dpo():
    """DPO-4: MRS-DPO at the uniform point of P_cyc(a) has the IPO spectrum with beta = 4/beta_dpo."""
    d = certify_instance(cyclic(F(2, 5)), F(9, 10), F(1, 2), 1, loss="dpo")
    i = certify_instance(cyclic(F(2, 5)), F(9, 10), F(8), 1)
    assert d.verdict == i.verdict == "certified unstable"
    assert d.spectrum.radius.lo <= i.spectrum.radius.hi and i.spectrum.radius.lo <= d.spectrum.radius.hi
    assert len(d.fixed_point.optimum) == 2 and d.contraction is None and i.contraction.q_below_one is False


def test_non_uniform_fixed_points_ipo_and_dpo():
    P = [[F(1, 2), F(7, 10), F(4, 5)], [F(3, 10), F(1, 2), F(3, 5)], [F(1, 5), F(2, 5), F(1, 2)]]
    for loss, scale in (("ipo", F(7, 2)), ("dpo", F(1, 3))):
        c = certify_instance(P, F(3, 5), scale, F(4, 5), loss=loss, pi_ref=["1/10", "3/10", "3/5"], pi0=["1/3", "1/3", "1/3"])
        assert c.verdict == "certified stable", c.text()
        pol = c.fixed_point.policy
        assert pol[0].lo > pol[1].hi > 0 and sum(iv.lo for iv in pol) <= 1 <= sum(iv.hi for iv in pol)
        assert c.fixed_point.kappa < 1 and all(iv.width < F(1, 10**25) for iv in c.fixed_point.box)


# ----------------------------------------------------------------------------- the Krawczyk test can fail


class _WrongJacobian(ChartSystem):
    """The MRS-IPO chart system with a planted wrong Jacobian (beta lam D M doubled)."""

    def residual_jacobian(self, X):
        J = super().residual_jacobian(X)
        for i in range(self.n):
            for k in range(self.n):
                J[i, k] = 2 * J[i, k] - (self.alpha - 1 if i == k else 0)
        return J


def test_a_planted_wrong_jacobian_is_refused():
    inst = map_instance(cyclic(F(3, 10)), F(1, 2), 8, 1)
    with working_precision(128) as flint:
        good, bad = ChartSystem(inst), _WrongJacobian(inst)
        centre, radius = [flint.arb(0), flint.arb(0)], [F(1, 2**8)] * 2
        assert krawczyk(good.residual, good.residual_jacobian, centre, radius).proved
        res = krawczyk(bad.residual, bad.residual_jacobian, centre, radius)
    assert not res.proved and "Jacobian formula is wrong" in res.reason


def test_a_planted_wrong_fixed_point_is_refused():
    """A box around a point that is not a fixed point (l = (1/2, -1/2)) is not certified; nor is a box that is too large."""
    inst = map_instance(cyclic(F(3, 10)), F(1, 5), 1, 1)
    with working_precision(128) as flint:
        sys_ = ChartSystem(inst)
        wrong = krawczyk(sys_.residual, sys_.residual_jacobian, [flint.arb(0.5), flint.arb(-0.5)], [F(1, 2**10)] * 2)
        assert not wrong.proved and "not inside" in wrong.reason
        huge = krawczyk(sys_.residual, sys_.residual_jacobian, [flint.arb(0.5), flint.arb(-0.5)], [F(40)] * 2)
        assert not huge.proved


def test_fixed_point_certificate_json_and_text():
    c = certify_fixed_point(cyclic(F(2, 5)), "0.2", 1, 1)
    d = json.loads(json.dumps(c.to_json()))
    assert d["proved"] and d["instance"]["alpha"] == "1/5" and len(d["box"]) == 2
    lo, hi = F(d["box"][0]["lo"]), F(d["box"][0]["hi"])
    assert lo <= 0 <= hi and "unique in the box X0" in c.text()


# ----------------------------------------------------------------------------- DYN-2's bound


def test_contraction_bound_against_exact_norms():
    a = F(2, 5)
    c = certify_contraction(cyclic(a), F(1, 5), 1, 1)  # ||S||_2 = sqrt(3) a
    s = c.skew_norm
    assert s.lo**2 <= 3 * a**2 <= s.hi**2 and s.hi**2 - 3 * a**2 < F(1, 10**18)
    assert c.q_below_one is True and c.q.hi == F(1, 5) + s.hi / 2 and c.norm_certificate.startswith("exact")
    k2 = certify_contraction([[F(1, 2), F(9, 10)], [F(1, 10), F(1, 2)]], 0, 1, 1)  # K = 2: ||S||_2 = 2/5, a double singular value
    assert k2.skew_norm.contains(F(2, 5))
    assert certify_contraction([[F(1, 2)] * 3] * 3, F(1, 2), 5, 1).q == Interval(F(1, 2), F(1, 2))  # S = 0
    assert certify_contraction(cyclic(a), F(1, 5), 4, 1).q_below_one is False


def test_the_positive_definiteness_certificate_can_fail():
    """The exact Sylvester test refuses a planted bound just below the norm (s^2 = 3 a^2 (1 - 10^-12))."""
    a = F(2, 5)
    S = [[x - F(1, 2) for x in r] for r in cyclic(a)]
    T = [[sum(S[k][i] * S[k][j] for k in range(3)) for j in range(3)] for i in range(3)]
    for t, ok in ((3 * a**2 * (1 + F(1, 10**12)), True), (3 * a**2 * (1 - F(1, 10**12)), False)):
        assert positive_definite([[(t if i == j else 0) - T[i][j] for j in range(3)] for i in range(3)])[0] is ok


def test_step_norm_near_a_two_point_support_approaches_the_sharp_half():
    """||DG(pi)||_2 -> (beta lam/2)||S||_2 at pi -> (e_0 + e_1)/2 for the 3-cycle, alpha = 0; always <= q (DYN-2)."""
    a = F(2, 5)
    pi = [F(499, 1000), F(499, 1000), F(2, 1000)]
    nrm = certify_step_norm(cyclic(a), 0, 1, 1, pi)
    q = certify_contraction(cyclic(a), 0, 1, 1).q
    assert nrm.hi <= q.lo and nrm.lo > F(99, 100) * q.lo
    with pytest.raises(InputError):
        certify_step_norm(cyclic(a), 0, 1, 1, [F(1, 2), F(1, 2), F(0)])


# ----------------------------------------------------------------------------- threshold comparisons


def test_compare_threshold_agrees_and_contradicts():
    a, al, la = F(3, 10), F(1, 2), F(1)
    be = F(8)
    assert compare_threshold(cyclic(a), al, be, la, claimed=al**2 + a**2 * be**2 * la**2 / 3).status == "agrees"
    wrong = compare_threshold(cyclic(a), al, be, la, claimed=al**2 + a**2 * be**2 * la**2 / 4)
    assert wrong.status == "contradicts" and "excludes" in wrong.why
    # an unbalanced P: the uniform point is certified not to be a fixed point
    P = [[F(1, 2), F(7, 10), F(4, 5)], [F(3, 10), F(1, 2), F(3, 5)], [F(1, 5), F(2, 5), F(1, 2)]]
    off = compare_threshold(P, al, F(2), la, claimed=F(1, 2))
    assert off.status == "contradicts" and "not to be a fixed point" in off.why
    assert square(Interval(F(1, 2), F(1))) == Interval(F(1, 4), F(1))


# ----------------------------------------------------------------------------- exact input


def test_exact_input_and_outward_rounding():
    assert exact_rational("0.9", "alpha") == F(9, 10) and exact_rational("1e-3", "x") == F(1, 1000)
    with pytest.raises(InputError, match="binary float"):
        exact_rational(0.3, "alpha")
    assert exact_rational(0.3, "alpha", allow_float=True) == F(0.3) != F(3, 10)
    with pytest.raises(InputError):
        certify_instance(cyclic(F(3, 10)), 0.5, 8, 1)
    # the caller's choice: a float certified at its exact binary value (0.5 is exact; 0.3 is not 3/10)
    assert certify_instance(cyclic(F(3, 10)), 0.5, 8.0, 1.0, allow_float=True).verdict == "certified unstable"
    assert certify_contraction(cyclic(F(3, 10)), 0.3, 1.0, 1.0, allow_float=True).alpha == F(0.3)
    with pytest.raises(InputError, match="outside"):
        certify_instance(cyclic(F(3, 10)), "3/2", 8, 1)
    with pytest.raises(InputError, match="certified maps"):
        certify_instance(cyclic(F(3, 10)), "1/2", 8, 1, loss="slic")
    q = F(2, 3)
    assert F(decimal_down(q, 5)) <= q <= F(decimal_up(q, 5)) and F(decimal_up(-q, 5)) >= -q
    assert F(decimal_down(F(1, 3 * 10**9), 4)) <= F(1, 3 * 10**9) <= F(decimal_up(F(1, 3 * 10**9), 4))


# ----------------------------------------------------------------------------- the command line


def _cli(capsys, *argv):
    from verify.cli import main

    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_certify_command_oscillating_and_converging(capsys):
    code, out, _ = _cli(capsys, "certify", "--cyclic", "0.3", "--alpha", "0.5", "--beta", "8", "--lam", "1")
    assert code == 0 and "CERTIFIED UNSTABLE" in out and "spectral radius in [1.473091986265623535" in out
    assert "q >= 1 certified" in out and "unique in the box X0" in out
    code, out, _ = _cli(capsys, "certify", "--cyclic", "0.4", "--alpha", "0.2", "--beta", "1", "--lam", "1", "--json")
    d = json.loads(out)
    assert code == 0 and d["verdict"] == "certified stable" and d["contraction"]["q_below_one"] is True
    assert F(d["spectrum"]["spectral_radius"]["hi"]) < 1 and d["fixed_point"]["instance"]["alpha"] == "1/5"
    code, out, _ = _cli(capsys, "certify", "--loss", "dpo", "--cyclic", "0.4", "--alpha", "0.9", "--beta-dpo", "0.5")
    assert code == 0 and "CERTIFIED UNSTABLE" in out and "DPO optimum" in out


def test_certify_command_on_the_curve_is_undecided_exit_1(capsys):
    """alpha = 1/2, a = 1/2, beta = 3, lam = 1 is on the DYN-1 curve (rho = 1 exactly): the box is certified, the side not."""
    code, out, err = _cli(capsys, "certify", "--cyclic", "1/2", "--alpha", "1/2", "--beta", "3")
    assert code == 1 and "UNDECIDED" in out and "unique in the box X0" in out and "not certified" in err


@pytest.mark.parametrize("argv, msg", [
    (["--cyclic", "0.7", "--alpha", "0.5", "--beta", "1"], "expected 0 < A <= 1/2"),
    (["--cyclic", "0.3", "--alpha", "0.5"], "give the scale of --loss ipo"),
    (["--loss", "dpo", "--cyclic", "0.3", "--alpha", "0.5", "--beta", "1"], "--beta is the scale of --loss ipo"),
    (["--cyclic", "0.3", "--alpha", "0,5", "--beta", "1"], "decimal comma"),
    (["--cyclic", "0.3", "--alpha", "0.5", "--beta", "1", "--pi0", "0.2,0.2,0.2"], "sums to"),
])
def test_certify_command_bad_input_is_one_line_exit_2(capsys, argv, msg):
    code, _, err = _cli(capsys, "certify", *argv)
    assert code == 2 and msg in err and len(err.strip().splitlines()) == 1


# ----------------------------------------------------------------------------- without python-flint


def test_without_flint_nothing_is_certified(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "flint", None)  # import flint now raises ImportError
    assert not available()
    with pytest.raises(CertifiedUnavailable, match=r"pip install 'prefdyn\[certified\]'"):
        certify_spectrum([[1, 0], [0, 1]])
    with pytest.raises(CertifiedUnavailable):
        certify_instance(cyclic(F(3, 10)), "1/2", 8, 1)
    with pytest.raises(CertifiedUnavailable):
        certify_contraction(cyclic(F(3, 10)), "1/2", 8, 1)
    code, _, err = _cli(capsys, "certify", "--cyclic", "0.3", "--alpha", "0.5", "--beta", "8")
    assert code == 2 and INSTALL_HINT in err
