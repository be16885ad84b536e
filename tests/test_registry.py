"""The claim registry, verdict aggregation and the property checker."""

import hypothesis.strategies as st
import mpmath
import pytest

from verify.engine.property import claim, property_check, property_checker, without_hypothesis
from verify.engine.registry import (
    CheckContext,
    Checker,
    Claim,
    Outcome,
    Registry,
    CheckResult,
    Counterexample,
    Scope,
    combine_verdicts,
    json_number,
    proved,
    verified,
)
from verify.engine.runner import run_claim


def _claim(cid="X-1"):
    return Claim(id=cid, statement="s", tag="derived", checkers=[Checker("c", "symbolic", lambda ctx: proved("ok"))])


def test_duplicate_id_is_refused():
    reg = Registry()
    reg.add(_claim())
    with pytest.raises(ValueError, match="duplicate claim id 'X-1'"):
        reg.add(_claim())


def test_unknown_id_lists_known_ids():
    reg = Registry()
    reg.add(_claim())
    with pytest.raises(KeyError, match="known ids: X-1"):
        reg.get("NOPE")


def test_refuted_outcome_requires_counterexample():
    with pytest.raises(ValueError, match="counterexample"):
        Outcome("refuted", "no witness")
    with pytest.raises(ValueError, match="verdict"):
        Outcome("true", "not a verdict")


def _results(*pairs):
    return [CheckResult(f"c{k}", "x", _outcome(v), 0.0, proves=tuple(p)) for k, (v, p) in enumerate(pairs)]


def _outcome(v):
    if v == "refuted":
        return Outcome(v, "s", counterexample=Counterexample(1))
    return Outcome(v, "s")


@pytest.mark.parametrize(
    "checks, parts, expected",
    [
        ([("proved", ["all"]), ("verified", [])], ["all"], "proved"),
        # a proof of part of the scope (fixed small K) does not make the claim proved
        ([("proved", []), ("verified", [])], ["all"], "verified"),
        ([("proved", ["a"]), ("verified", [])], ["a", "b"], "verified"),
        ([("proved", ["a"]), ("proved", ["b"])], ["a", "b"], "proved"),
        ([("verified", []), ("inconclusive", [])], ["all"], "verified"),
        ([("proved", ["all"]), ("refuted", [])], ["all"], "refuted"),
        ([("refuted", []), ("error", [])], ["all"], "error"),
        ([("inconclusive", [])], ["all"], "inconclusive"),
    ],
)
def test_combine_verdicts_needs_proofs_covering_the_scope(checks, parts, expected):
    assert combine_verdicts(_results(*checks), parts) == expected


def test_partial_proof_reports_what_is_proved_and_checked():
    c = Claim(
        id="X-3",
        statement="s",
        tag="open",
        scope=Scope("every K >= 3"),
        checkers=[
            Checker("sym", "symbolic", lambda ctx: proved("identity"), covers="K = 3, 4, 5"),
            Checker("num", "numeric", lambda ctx: verified("ok", n=3, dps=70, tolerance="1e-50"), covers="50-digit instances K <= 8"),
        ],
        argument="for general K: a human argument",
    )
    r = run_claim(c)
    assert r.verdict == "verified"
    assert r.unproved_parts == ["every K >= 3"]
    assert "proved: K = 3, 4, 5 (part)" in r.coverage
    assert "checked: 50-digit instances K <= 8 (high-precision instances)" in r.coverage
    assert "not counted as a proof" in r.coverage
    d = r.to_dict()
    assert d["scope"] == {"text": "every K >= 3", "parts": ["every K >= 3"], "unproved": ["every K >= 3"]}
    assert d["checks"][1]["tolerance"] == 1e-50 and d["checks"][1]["tolerance_kind"] == "relative-or-absolute"


def test_only_a_declared_proof_may_return_proved():
    c = Claim(id="X-4", statement="s", tag="derived", checkers=[Checker("inst", "exact", lambda ctx: proved("one instance"))])
    r = run_claim(c)
    assert r.verdict == "error" and "declares evidence 'exact instances'" in r.evidence
    with pytest.raises(ValueError, match="only a proof"):
        Checker("n", "numeric", lambda ctx: None, proves=("all",))
    with pytest.raises(ValueError, match="not parts of the scope"):
        Claim(id="X-5", statement="s", tag="derived", scope=Scope("a"), checkers=[Checker("p", "symbolic", lambda ctx: None, proves=("b",))])


def test_tolerances_are_numbers_with_a_kind():
    o = verified("x", n=1, dps=70, tolerance="1e-50", max_error=mpmath.mpf("4.4e-69"))
    assert o.tolerance == 1e-50 and o.tolerance_kind == "relative-or-absolute"
    assert isinstance(o.max_error, float) and abs(o.max_error - 4.4e-69) < 1e-80
    assert verified("x", n=1, tolerance="exact").tolerance_kind == "exact"
    with pytest.raises(ValueError, match="criterion"):
        verified("x", n=1, tolerance="float64; a band")
    with pytest.raises(ValueError, match="tolerance kind"):
        verified("x", n=1, tolerance=0.1, tolerance_kind="roughly")
    # beyond the float range a number is kept as a string with its digits
    s = json_number(mpmath.mpf("1e-400"))
    assert isinstance(s, str) and mpmath.mpf(s) == mpmath.mpf("1e-400")
    # a computed value keeps every digit it carries, whatever the current precision
    with mpmath.workdps(40):
        third = mpmath.mpf(1) / 3
    s = json_number(third, magnitude=False)
    with mpmath.workdps(40):
        assert mpmath.mpf(s) == third


def test_checker_exception_is_an_error_verdict():
    def boom(ctx):
        raise ZeroDivisionError("planted")

    c = Claim(id="X-2", statement="s", tag="derived", checkers=[Checker("boom", "numeric", boom)])
    r = run_claim(c)
    assert r.verdict == "error"
    assert "ZeroDivisionError: planted" in r.evidence


def test_property_check_finds_and_shrinks_counterexample():
    ctx = CheckContext(seed=3, claim_id="T")
    out = property_check(lambda x: x < 1000, st.integers(), ctx, shrink_steps=500)
    assert out.verdict == "refuted"
    assert out.counterexample.instance == 1000  # shrunk to the boundary
    # at the quick budget shrinking stops after 20 evaluations: still a genuine counterexample
    quick = property_check(lambda x: x < 1000, st.integers(), ctx)
    assert quick.counterexample.instance >= 1000 and quick.details["shrink_steps"] <= 20
    assert out.counterexample.seed == 3  # the run seed: `prefdyn check --seed 3` regenerates it
    assert out.details["hypothesis_seed"] == ctx.subseed("property")


def test_property_check_is_reproducible_by_seed():
    ctx = CheckContext(seed=11, claim_id="T")
    a = property_check(lambda x: x % 7 != 3, st.integers(0, 10**6), ctx)
    b = property_check(lambda x: x % 7 != 3, st.integers(0, 10**6), ctx)
    assert a.verdict == b.verdict == "refuted"
    assert a.counterexample.instance == b.counterexample.instance
    assert a.counterexample.instance % 7 == 3


def test_property_check_verifies_true_statement():
    out = property_check(lambda x: x * x >= 0, st.integers(), CheckContext())
    assert out.verdict == "verified"
    assert out.n_instances == 100


def test_dropped_hypothesis_control_fails():
    hyps = {"positive": lambda x: x > 0}
    pred = lambda x: x * x > 0  # noqa: E731 - true for x > 0, false at 0
    checker = property_checker(pred, st.integers(-5, 5))  # filters with the claim's hypotheses (ctx.hypotheses)
    ctx = CheckContext(hypotheses=hyps)
    assert checker.fn(ctx).verdict == "verified"
    control = without_hypothesis(checker.fn, "positive")
    out = control.fn(ctx)
    assert out.verdict == "refuted"
    assert out.counterexample.instance == 0
    with pytest.raises(KeyError, match="no hypothesis named 'absent'"):
        without_hypothesis(checker.fn, "absent").fn(ctx)


def test_user_claim_decorator_registers_and_refutes():
    reg = Registry()

    @claim("U-1", statement="every integer is below 50", given=st.integers(), registry=reg)
    def below(x):
        return x < 50

    assert below.claim.id == "U-1"
    r = run_claim(reg.get("U-1"))
    assert r.verdict == "refuted"
    assert r.counterexamples[0].instance >= 50  # a genuine counterexample (shrinking is capped at the quick budget)
    with pytest.raises(ValueError, match="duplicate"):
        claim("U-1", statement="again", given=st.integers(), registry=reg)(lambda x: True)


def test_predicate_exception_reports_instance():
    out = property_check(lambda x: 1 // (x - 4) is not None, st.integers(0, 10), CheckContext())
    assert out.verdict == "error"
    assert out.details["instance"] == 4
