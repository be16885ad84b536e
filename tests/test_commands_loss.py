"""The --loss commands: DPO-4 and DYN-1 reproduced by `prefdyn threshold`, aliases, and bad input."""

import json
import pathlib

import pytest
import sympy

from theory.losses import BUILTIN
from verify.cli import main

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _json(capsys, *argv):
    code, out, err = _run(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def _exact(d):
    return sympy.sympify(str(d["critical_scale_exact"]))


SETTINGS = [("1/4", "1/2", "1"), ("3/10", "0", "1/2"), ("2/5", "9/10", "3/4"), ("0.25", "0.5", "1")]


@pytest.mark.parametrize("a, alpha, lam", SETTINGS)
@pytest.mark.parametrize("spec", ["log(1+exp(-x))", "dpo", "logistic"])
def test_threshold_reproduces_dpo4(spec, a, alpha, lam, capsys):
    """DPO-4: beta_dpo* = 4 a lam / (sqrt(3) sqrt(1 - alpha^2)); unstable below it."""
    d = _json(capsys, "threshold", "--cyclic", a, "--loss", spec, "--alpha", alpha, "--lam", lam)
    A, al, la = (sympy.Rational(v) for v in (a, alpha, lam))
    expected = 4 * A * la / (sympy.sqrt(3) * sympy.sqrt(1 - al**2))
    assert sympy.simplify(_exact(d) - expected) == 0
    assert d["critical_scale"] == pytest.approx(float(expected), rel=1e-15)
    assert d["unstable_side"] == "below"
    assert d["scale_name"] == ("beta_dpo" if spec != "log(1+exp(-x))" else d["scale_name"])


@pytest.mark.parametrize("a, alpha, lam", SETTINGS)
def test_threshold_reproduces_dyn1(a, alpha, lam, capsys):
    """DYN-1: beta* = sqrt(3) sqrt(1 - alpha^2) / (a lam); unstable above it."""
    d = _json(capsys, "threshold", "--cyclic", a, "--loss", "ipo", "--alpha", alpha, "--lam", lam)
    A, al, la = (sympy.Rational(v) for v in (a, alpha, lam))
    expected = sympy.sqrt(3) * sympy.sqrt(1 - al**2) / (A * la)
    assert sympy.simplify(_exact(d) - expected) == 0
    assert d["scale_name"] == "beta" and d["unstable_side"] == "above"
    assert "DYN-1" in d["claims"] and "sqrt(3)*sqrt(1 - alpha**2)/(a*lam)" in d["formula_cyclic"]


def test_threshold_text_names_the_scale_and_the_side(capsys):
    code, out, err = _run(capsys, "threshold", "--cyclic", "1/4", "--loss", "dpo", "--alpha", "1/2", "--lam", "1")
    assert code == 0
    assert "critical beta_dpo* = 2/3" in out
    assert "unstable for beta_dpo < 2/3 and stable for beta_dpo > 2/3" in out
    code, out, err = _run(capsys, "threshold", "--cyclic", "1/4", "--loss", "ipo", "--alpha", "1/2", "--lam", "1")
    assert "critical beta* = 6" in out and "stable for beta < 6 and unstable for beta > 6" in out


@pytest.mark.parametrize("spec", ["ipo", "dpo", "exp"])
def test_threshold_at_a_scale_either_side(spec, capsys):
    """Points picked from the formula on both sides: the closed form and the numeric Jacobian agree, and
    the verdict flips across the critical value."""
    d = _json(capsys, "threshold", "--cyclic", "3/10", "--loss", spec, "--alpha", "1/2", "--lam", "1")
    crit = _exact(d)
    verdicts = {}
    for factor in (sympy.Rational(4, 5), sympy.Rational(5, 4)):
        s = crit * factor
        value = str(sympy.nsimplify(sympy.N(s, 30), rational=True))
        e = _json(capsys, "threshold", "--cyclic", "3/10", "--loss", spec, "--alpha", "1/2", "--lam", "1", "--scale", value)
        assert e["agrees"] is True, e
        assert e["spectral_radius_closed_form"] == e["spectral_radius_numeric"]
        verdicts[factor] = e["verdict"]
    below, above = ("unstable", "stable") if d["unstable_side"] == "below" else ("stable", "unstable")
    assert verdicts == {sympy.Rational(4, 5): below, sympy.Rational(5, 4): above}


def test_threshold_edge_cases_are_answers(capsys):
    d = _json(capsys, "threshold", "--cyclic", "1/4", "--loss", "dpo", "--alpha", "1", "--lam", "1")
    assert d["critical_scale"] is None and "never stable" in d["reason"]
    d = _json(capsys, "threshold", "--cyclic", "1/4", "--loss", "dpo", "--alpha", "1/2", "--lam", "0")
    assert d["critical_scale"] is None and "stable for every scale" in d["reason"]


def test_dpo_threshold_is_threshold_with_loss_dpo(tmp_path, capsys):
    f = tmp_path / "P.json"
    f.write_text(json.dumps([["1/2", "7/10", "3/10"], ["3/10", "1/2", "7/10"], ["7/10", "3/10", "1/2"]]))
    a = _json(capsys, "dpo-threshold", "--matrix", f, "--alpha", "1/2", "--lam", "1", "--beta-dpo", "1/2")
    b = _json(capsys, "threshold", "--matrix", f, "--loss", "dpo", "--alpha", "1/2", "--lam", "1", "--scale", "1/2")
    assert a == b and a["verdict"] == "unstable"


@pytest.mark.parametrize("name, flag, value", [("ipo", "--beta", "2"), ("dpo", "--beta-dpo", "7/10")])
def test_optimum_aliases(name, flag, value, tmp_path, capsys):
    f = tmp_path / "P.json"
    f.write_text(json.dumps([["1/2", "7/10", "2/5"], ["3/10", "1/2", "3/5"], ["3/5", "2/5", "1/2"]]))
    common = ["--matrix", f, "--mu", "1/2,1/4,1/4", "--dps", "20"]
    a = _json(capsys, name, *common, flag, value)
    b = _json(capsys, "optimum", "--loss", name, *common, "--scale", value)
    c = _json(capsys, "optimum", "--loss", name, *common, flag, value)
    assert a == b == c and a["agrees_to_dps"] and str(a["instance"]["scale_exact"]) == value


def test_help_explains_loss_and_lists_builtins(capsys):
    for cmd in ("optimum", "threshold", "simulate", "phase"):
        with pytest.raises(SystemExit) as e:
            main([cmd, "--help"])
        assert e.value.code == 0
        out = capsys.readouterr().out
        assert "--loss" in out and "expression in x" in out
        for name, L in BUILTIN.items():
            assert f"  {name} " in out and "--" + L.scale_name.replace("_", "-") in out


CYC = ["--cyclic", "1/4", "--alpha", "1/2", "--lam", "1"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["threshold", *CYC, "--loss", "squarred"], "unknown loss 'squarred'"),
        (["threshold", *CYC, "--loss", "exp(-x*y)"], "depends on y"),
        (["threshold", *CYC, "--loss", "-x - x**2"], "not convex"),
        (["threshold", *CYC, "--loss", "exp(-x"], "does not parse"),
        (["threshold", *CYC, "--loss", "dpo", "--scale", "0"], "beta_dpo = 0, expected > 0"),
        (["threshold", *CYC, "--loss", "ipo", "--beta", "-1"], "beta = -1, expected > 0"),
        (["threshold", *CYC, "--loss", "exp", "--scale", "abc"], "beta_exp = 'abc' is not a number"),
        (["threshold", *CYC, "--loss", "dpo", "--beta", "2"], "--beta is the scale of --loss ipo"),
        (["threshold", *CYC, "--loss", "dpo", "--scale", "1", "--beta-dpo", "2"], "given twice"),
        (["threshold", "--cyclic", "0.7", "--alpha", "1/2", "--lam", "1"], "--cyclic A = 7/10, expected 0 < A <= 1/2"),
        (["threshold", "--cyclic", "1/4", "--alpha", "3/2", "--lam", "1"], "alpha = 3/2 is outside [0, 1]"),
        (["simulate", "--cyclic", "0.3", "--loss", "dpo", "--method", "ipo", "--no-plot"], "--method ipo and --loss dpo disagree"),
        (["simulate", "--cyclic", "0.3", "--loss", "slic", "--beta-dpo", "1", "--no-plot"], "--beta-dpo is the scale of --loss dpo"),
        (["simulate", "--cyclic", "0.3", "--loss", "nope", "--no-plot"], "unknown loss 'nope'"),
        (["phase", "--cyclic", "0.3", "--loss", "hinge"], "no phase diagram for the SLiC (hinge) loss"),
        (["optimum", "--matrix", "examples/cyclic3.json", "--loss", "dpo", "--beta-exp", "2"], "--beta-exp is the scale of --loss exp"),
    ],
)
def test_bad_input_one_line_exit_2(argv, message, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    code, out, err = _run(capsys, *argv)
    assert code == 2, (out, err)
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_threshold_refuses_a_matrix_that_is_not_balanced(tmp_path, capsys):
    f = tmp_path / "P.json"
    f.write_text(json.dumps([["1/2", "7/10", "7/10"], ["3/10", "1/2", "7/10"], ["3/10", "3/10", "1/2"]]))
    code, out, err = _run(capsys, "threshold", "--matrix", f, "--loss", "exp", "--alpha", "0", "--lam", "1")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "row 0 of S = P - 1/2 sums to 2/5, expected 0" in err and "balanced P, S 1 = 0" in err


def test_simulate_loss_by_expression_and_hinge(capsys):
    d = _json(capsys, "simulate", "--loss", "exp(-x)", "--cyclic", "0.4", "--alpha", "0.9", "--scale", "1/4", "--steps", "300", "--no-plot")
    assert d["loss"] == "user" and d["f"] == "exp(-x)" and d[d["scale_name"]] == 0.25
    d = _json(capsys, "simulate", "--loss", "slic", "--cyclic", "0.4", "--alpha", "0.5", "--beta-slic", "7/10", "--steps", "300", "--no-plot")
    assert d["loss"] == "slic" and d["beta_slic"] == 0.7 and "beta_slic = 0.7" in d["title"]
