"""prefdyn bifurcation: the curve and the first Lyapunov coefficient along it (text, JSON, picture, bad input), and
the general-K numeric coefficient (verify.numerics.normal_form.lyapunov_numeric_matrix) against the 3-cycle route and
against the dynamics, with planted wrong variants."""

import json
import math
from fractions import Fraction

import mpmath
import pytest

from verify.cli import main
from verify.commands.bifurcation import bifurcation
from verify.exact.families import cyclic
from verify.numerics.normal_form import critical_pair, cycle_agreement, lyapunov_numeric_matrix
from verify.plots.bifurcation import orbit_past_threshold

#: A balanced non-circulant K = 4 matrix: two 3-cycles, (0 1 2) with margin 1/10 and (0 1 3) with margin 1/5.
P4 = [["1/2", "4/5", "2/5", "3/10"], ["1/5", "1/2", "3/5", "7/10"], ["3/5", "2/5", "1/2", "1/2"], ["7/10", "3/10", "1/2", "1/2"]]


def _run(capsys, argv):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _d_dpo(alpha, a, lam):
    """The DPO value found independently by the numeric route: -(1 - alpha^2)/8 (1 - 16 a^2 lam^2/3)."""
    return -(1 - alpha**2) / 8 * (1 - 16 * a**2 * lam**2 / 3)


def _ring(K, a):
    return [[Fraction(1, 2) + (a if j == (i + 1) % K else -a if i == (j + 1) % K else 0) for j in range(K)] for i in range(K)]


# ----------------------------------------------------------------------------- the command


def test_ipo_cyclic_text(capsys):
    code, out, _ = _run(capsys, ["bifurcation", "--cyclic", "0.4", "--points", "3", "--dps", "10", "--quiet"])
    assert code == 0
    assert "curve (DYN-1, exact): beta_c(alpha) = 5*sqrt(3 - 3*alpha**2)/2" in out
    assert "for beta < beta_c(alpha); unstable, oscillating, for beta > beta_c(alpha)" in out
    assert any("chart: log-ratio chart l_i = log(pi_i/pi_2)" in ln and "normalisation: " in ln and "<q, q> = 1, <p, q> = 1" in ln
               for ln in out.splitlines())
    assert "1:4 at alpha = 0" in out and "not on the curve: 1:2, 1:3" in out
    rows = [ln.split() for ln in out.splitlines() if ln.startswith(("1/4 ", "1/2 ", "3/4 "))]
    assert [r[0] for r in rows] == ["1/4", "1/2", "3/4"]
    for r in rows:
        al = float(Fraction(r[0]))
        assert float(r[1]) == pytest.approx(math.sqrt(3) * math.sqrt(1 - al**2) / 0.4, rel=1e-7)   # DYN-1: a beta lam/sqrt3 = sin theta
        assert float(r[2]) == pytest.approx(math.acos(al) / (2 * math.pi), abs=1e-6)
        assert float(Fraction(r[3])) == pytest.approx(-(1 - al**2) / 8, abs=1e-12)
        assert r[4] == "-" and r[5] == "supercritical"
    assert "exact closed form (theory.oscillation): d = -(1 - alpha**2)/8" in out and out.count("exact closed form") == 4
    assert "verdict: supercritical at all 3 points" in out


@pytest.mark.parametrize("a, kind, sign", [("1/5", "supercritical", -1), ("1/2", "subcritical", 1)])
def test_dpo_cyclic_json(capsys, a, kind, sign):
    code, out, _ = _run(capsys, ["bifurcation", "--cyclic", a, "--loss", "dpo", "--lam", "1", "--points", "2", "--dps", "10", "--json"])
    doc = json.loads(out)
    assert code == 0 and doc["schema"] == "prefdyn.bifurcation/1"
    assert doc["K"] == 3 and doc["cycle"] == {"a": a, "transposed": False} and doc["loss"] == "dpo"
    assert doc["threshold"]["claim"] == "DPO-4" and doc["threshold"]["gain"] == 4 and doc["threshold"]["unstable_side"] == "below"
    assert doc["scale_name"] == "beta_dpo" and doc["degenerate"] is None and doc["pairs"] == 1
    av = float(Fraction(a))
    for p in doc["points"]:
        al = p["alpha_float"]
        assert p["scale_c"] == pytest.approx(4 * av / (math.sqrt(3) * math.sqrt(1 - al**2)), rel=1e-12)   # DPO-4, b = beta_dpo
        assert p["d_float"] == pytest.approx(_d_dpo(al, av, 1), abs=1e-10)
        assert p["sign"] == sign and p["type"] == kind
    assert doc["method"] == "exact closed form"
    assert doc["types"] == {kind: 2}
    cf = doc["closed_form"]
    assert cf["d"] == "(1 - alpha**2)*(16*a**2*lam**2 - 3)/24" and cf["sign_verdict"]["verdict"] == "changes sign"
    assert "sqrt(3)/4" in cf["sign_verdict"]["surface"]
    assert {r["name"] for r in doc["resonances"]} == {"1:1", "1:2", "1:3", "1:4"}


def test_balanced_k4_matrix_numeric_route(tmp_path, capsys):
    f = tmp_path / "P4.json"
    f.write_text(json.dumps(P4))
    code, out, _ = _run(capsys, ["bifurcation", "--matrix", str(f), "--points", "1", "--dps", "8", "--quiet"])
    assert code == 0
    assert "(K = 4, balanced)" in out and "curve (DYN-6, exact)" in out and "s_max = sqrt(19)/10" in out
    assert "l_i = log(pi_i/pi_3), i = 0..2" in out
    row = next(ln.split() for ln in out.splitlines() if ln.startswith("1/2 "))
    # DYN-6: beta_c = 2/b_c, b_c = c_f lam s_max/(K sqrt(1 - alpha^2)) with c_f = 2, K = 4, s_max^2 = sum_{i<j} S_ij^2 = 0.19
    assert float(row[1]) == pytest.approx(4 * math.sqrt(0.75) / math.sqrt(0.19), rel=1e-7)
    assert float(row[3]) == pytest.approx(-0.0776711515631, abs=1e-10) and row[5] == "supercritical"
    assert "numeric, 8 digits, error" in out


def test_k3_matrix_is_the_cycle_or_its_transpose(tmp_path, capsys):
    f = tmp_path / "P.json"
    f.write_text(json.dumps([list(map(str, r)) for r in zip(*cyclic("1/4"))]))   # P_cyc(1/4)^T
    code, out, _ = _run(capsys, ["bifurcation", "--matrix", str(f), "--loss", "dpo", "--points", "1", "--dps", "8", "--json"])
    doc = json.loads(out)
    assert code == 0 and doc["cycle"] == {"a": "1/4", "transposed": True}
    assert doc["points"][0]["d_float"] == pytest.approx(_d_dpo(0.5, 0.25, 1), abs=1e-10)


def test_refusals(tmp_path, capsys):
    f = tmp_path / "nb.json"
    f.write_text(json.dumps([["1/2", "4/5", "2/5"], ["1/5", "1/2", "1/2"], ["3/5", "1/2", "1/2"]]))
    code, _, err = _run(capsys, ["bifurcation", "--matrix", str(f)])
    assert code == 2 and "P is not balanced: row 0 of S = P - 11^T/2 sums to 1/5" in err and "not a fixed point" in err
    assert len(err.strip().splitlines()) == 1
    code, _, err = _run(capsys, ["bifurcation", "--cyclic", "0.3", "--loss", "hinge"])
    assert code == 2 and "no Neimark–Sacker normal form" in err and len(err.strip().splitlines()) == 1
    code, _, err = _run(capsys, ["bifurcation", "--cyclic", "0.7"])
    assert code == 2 and "0 < A <= 1/2" in err


def test_two_pairs_crossing_together_are_degenerate(tmp_path, capsys):
    f = tmp_path / "ring6.json"
    f.write_text(json.dumps([[str(x) for x in r] for r in _ring(6, Fraction(1, 5))]))
    code, out, _ = _run(capsys, ["bifurcation", "--matrix", str(f), "--points", "2", "--json"])
    doc = json.loads(out)
    assert code == 0 and doc["pairs"] == 2 and "codimension-two" in doc["degenerate"]
    assert all(p["type"] == "degenerate (codimension two)" and p["d"] is None for p in doc["points"])


def test_picture_is_written_and_the_orbit_matches_the_circle(tmp_path, capsys):
    png = tmp_path / "bif.png"
    code, out, _ = _run(capsys, ["bifurcation", "--cyclic", "0.4", "--points", "1", "--dps", "8", "--out", str(png), "--json"])
    doc = json.loads(out)
    assert code == 0 and doc["png"] == str(png) and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    orbit = doc["orbit"]
    assert orbit["kind"] == "supercritical" and not orbit["left"] and abs(orbit["ratio"] - 1) < 0.02


# ----------------------------------------------------------------------------- the general-K numeric coefficient


def test_critical_pair_exactly():
    cp = critical_pair(P4)
    assert str(cp.s_max) == "sqrt(19)/10" and cp.pairs == 1 and cp.zeros == 1
    assert critical_pair(_ring(6, Fraction(1, 5))).pairs == 2      # 2 a sin(pi/3) = 2 a sin(2 pi/3)
    assert critical_pair(_ring(5, Fraction(1, 5))).pairs == 1


def test_k3_general_route_agrees_with_the_cycle_route_and_planted_terms_are_caught():
    ok = cycle_agreement("ipo", "1/2", "1/2", 1, dps=8)
    assert ok.agree and ok.difference < mpmath.mpf(10) ** -20 and ok.general.K == 3
    assert ok.general.d == pytest.approx(-0.09375, abs=1e-15)
    for planted in ((1, 2, 2), (-1, 2, 1), (1, 2, 0)):
        assert not cycle_agreement("ipo", "1/2", "1/2", 1, dps=8, term_factors=planted).agree


def test_general_k_coefficient_is_the_circle_of_the_dynamics():
    """K = 4 (the middle term B(q, (I - A)^{-1} B(q, qbar)) vanishes for the 3-cycle, not here): the float orbit just past
    the threshold settles at |w|^2 = -mu/d of the true d; the planted factor 1 (for 2) on that term is 8 % off and refuted."""
    bf = bifurcation(P4, "ipo", 1, points=1, dps=8)
    true = orbit_past_threshold(bf)
    assert abs(true["ratio"] - 1) < 0.01
    planted = lyapunov_numeric_matrix("ipo", P4, "1/2", 1, dps=8, term_factors=(1, 1, 1))
    bf.points[0].d_float = float(planted.d)
    wrong = orbit_past_threshold(bf)
    assert abs(wrong["ratio"] - 1) > 0.05


def test_the_exact_route_is_the_numeric_route():
    """The closed form of theory.oscillation against the numeric 3-cycle route (solved map, finite differences)."""
    ex = bifurcation(cyclic("2/5"), "dpo", "3/4", points=1)
    nu = bifurcation(cyclic("2/5"), "dpo", "3/4", points=1, dps=10, exact=False)
    assert ex.method == "exact closed form" and nu.method == "numeric"
    assert abs(float(ex.points[0].d) - float(nu.points[0].d)) < 1e-10 and nu.points[0].kind == ex.points[0].kind == "supercritical"
