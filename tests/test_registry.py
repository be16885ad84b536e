"""The claim registry, verdict aggregation and the property checker."""

import hypothesis.strategies as st
import pytest

from verify.property import claim, dropped_hypothesis_control, property_check
from verify.registry import (
    CheckContext,
    Checker,
    Claim,
    Outcome,
    Registry,
    combine_verdicts,
    proved,

)
from verify.runner import run_claim


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


@pytest.mark.parametrize(
    "verdicts, expected",
    [
        (["proved", "verified"], "proved"),
        (["verified", "inconclusive"], "verified"),
        (["proved", "refuted"], "refuted"),
        (["refuted", "error"], "error"),
        (["inconclusive"], "inconclusive"),
    ],
)
def test_combine_verdicts(verdicts, expected):
    assert combine_verdicts(verdicts) == expected


def test_checker_exception_is_an_error_verdict():
    def boom(ctx):
        raise ZeroDivisionError("planted")

    c = Claim(id="X-2", statement="s", tag="derived", checkers=[Checker("boom", "numeric", boom)])
    r = run_claim(c)
    assert r.verdict == "error"
    assert "ZeroDivisionError: planted" in r.evidence


def test_property_check_finds_and_shrinks_counterexample():
    ctx = CheckContext(seed=3, claim_id="T")
    out = property_check(lambda x: x < 1000, st.integers(), ctx)
    assert out.verdict == "refuted"
    assert out.counterexample.instance == 1000  # shrunk to the boundary
    assert out.counterexample.seed == ctx.subseed("property")


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
    ok = property_check(pred, st.integers(-5, 5), CheckContext(), hypotheses=hyps)
    assert ok.verdict == "verified"
    control = dropped_hypothesis_control(pred, st.integers(-5, 5), hyps, "positive")
    out = control.fn(CheckContext())
    assert out.verdict == "refuted"
    assert out.counterexample.instance == 0


def test_user_claim_decorator_registers_and_refutes():
    reg = Registry()

    @claim("U-1", statement="every integer is below 50", given=st.integers(), registry=reg)
    def below(x):
        return x < 50

    assert below.claim.id == "U-1"
    r = run_claim(reg.get("U-1"))
    assert r.verdict == "refuted"
    assert r.counterexamples[0].instance == 50
    with pytest.raises(ValueError, match="duplicate"):
        claim("U-1", statement="again", given=st.integers(), registry=reg)(lambda x: True)


def test_predicate_exception_reports_instance():
    out = property_check(lambda x: 1 // (x - 4) is not None, st.integers(0, 10), CheckContext())
    assert out.verdict == "error"
    assert out.details["instance"] == 4
